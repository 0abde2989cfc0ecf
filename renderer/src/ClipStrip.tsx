// The clips Keepsake proposes for a tape, as a strip of cards the family can look along
// before taking them: a few small pictures of each clip, where it starts, how long it is,
// and how sure Keepsake is that a new clip begins there. Pressing a card shows that place
// in the player. The pictures come from the engine through capability URLs (no token), and
// only the first clips of a long tape have them.
import { clock } from './clip-edits';
import { lengthWords, sureWords, type ProposedClip } from './clip-strip-words';

export function ClipStrip(props: {
  clips: readonly ProposedClip[];
  /** True while the pictures are still being made. */
  pending: boolean;
  onSeek: (t: number) => void;
}) {
  const { clips, pending, onSeek } = props;
  return (
    <div className="clip-strip-wrap">
      {pending && (
        <p className="muted small" role="status">
          Making small pictures of each clip…
        </p>
      )}
      <ol className="clip-strip" aria-label="Suggested clips" data-testid="clip-strip">
        {clips.map((clip, i) => (
          <li key={clip.start}>
            <button
              type="button"
              className="clip-card"
              data-testid="clip-card"
              title={`Show ${clock(clip.start)} in the player`}
              onClick={() => onSeek(clip.start)}
            >
              <span className="clip-card-pictures">
                {clip.pictures.length > 0 ? (
                  clip.pictures.map((src, n) => (
                    <img key={src} src={src} alt={n === 0 ? `Clip ${i + 1}` : ''} />
                  ))
                ) : (
                  <span className="clip-card-nopicture muted small">
                    {pending ? '…' : 'No pictures'}
                  </span>
                )}
              </span>
              <span className="clip-card-when">
                {/* To the second: the player and the clip list give the exact frame. */}
                <strong>Clip {i + 1}</strong> starts at {clock(Math.round(clip.start))},{' '}
                {lengthWords(clip.end - clip.start)} long
              </span>
              <span className="clip-card-sure small">{sureWords(clip)}</span>
            </button>
          </li>
        ))}
      </ol>
    </div>
  );
}
