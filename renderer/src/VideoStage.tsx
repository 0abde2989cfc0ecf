// A video in the viewer plays at once: the vault copy itself when the browser can decode
// it, else a playback copy made from it. Without one, a copy is made on the spot (the
// web-h264 preset), with its progress from the live job stream, and kept: the next open
// plays it at once.
import { useEffect, useRef, useState } from 'react';
import { ClipsPanel } from './ClipsPanel';
import type { DesktopJob, LibraryItem } from './engine-client';
import { errorText } from './errors-text';
import { ErrorCode } from './ErrorMessage';
import { describeFailure } from './job-error-text';
import { durationWords, waitWords } from './item-words';
import { PLAYBACK_PRESET, PLAYBACK_PRESETS } from './output-names';
import { useJob, useJobActions } from './queries';
import { VideoPlayer } from './VideoPlayer';
import { useRememberWatched } from './watched-queries';

/**
 * Items whose copy to play the family deleted this session: opening one again offers to
 * make a copy rather than quietly making the one they just removed.
 */
const declined = new Set<string>();
/**
 * Longer than this, opening a video does not start a copy by itself: arrowing past a
 * two-hour tape should not queue an hour of work. The family presses "Make a copy to
 * play" instead, told how long the video is.
 */
const AUTO_COPY_MAX_SECONDS = 10 * 60;
export function declineAutoCopy(fileId: string): void {
  declined.add(fileId);
}

/** The newest playback copy of the item that is done, else one being made. */
export function playbackJob(item: LibraryItem): LibraryItem['jobs'][number] | undefined {
  const copies = item.jobs.filter((j) => PLAYBACK_PRESETS.includes(j.preset));
  return (
    copies.find((j) => j.state === 'succeeded') ??
    copies.find((j) => j.state === 'running' || j.state === 'queued')
  );
}

/** The video, and for a video in the vault its clips below it (ClipsPanel.tsx). */
export function VideoStage({ item, label }: { item: LibraryItem; label: string }) {
  const [video, setVideo] = useState<HTMLVideoElement | null>(null);
  if (item.kind !== 'video' || !item.encrypted) return <VideoOnly item={item} label={label} />;
  return (
    <div className="stage-with-clips">
      <VideoOnly item={item} label={label} onVideo={setVideo} />
      <ClipsPanel item={item} video={video} />
    </div>
  );
}

type OnVideo = (video: HTMLVideoElement | null) => void;

function VideoOnly(props: { item: LibraryItem; label: string; onVideo?: OnVideo }) {
  const { item, label, onVideo } = props;
  const direct = item.browserPlayable && item.mediaUrl !== undefined;
  const rememberWatched = useRememberWatched();
  const onPlay = () => rememberWatched(item.id);
  if (direct) {
    return (
      <VideoPlayer
        url={item.mediaUrl!}
        label={label}
        poster={item.pictures.poster}
        autoPlay
        onPlay={onPlay}
        onVideo={onVideo}
      />
    );
  }
  // Remounted when its list of jobs changes (a copy made or deleted elsewhere).
  return (
    <PlaybackCopy
      key={item.jobs.map((j) => j.id).join()}
      item={item}
      label={label}
      onPlay={onPlay}
      onVideo={onVideo}
    />
  );
}

function PlaybackCopy(props: {
  item: LibraryItem;
  label: string;
  onPlay: () => void;
  onVideo?: OnVideo | undefined;
}) {
  const { item } = props;
  const { create } = useJobActions();
  const known = playbackJob(item);
  // The newest try of any outcome: a failed one is shown (with Try again), not redone.
  const lastTry = item.jobs.find((j) => PLAYBACK_PRESETS.includes(j.preset));
  // The job this open started wins: the item list learns of it a moment later.
  const jobId = create.data?.id ?? known?.id ?? lastTry?.id;
  const job = useJob(jobId);
  const canMake = item.encrypted && item.kind === 'video' && item.attention === undefined;
  const make = create.mutate;
  // One copy per open at most, even when the answer is slow or the effect runs twice.
  const asked = useRef(false);
  const makeCopy = () => {
    asked.current = true;
    make({ fileId: item.id, preset: PLAYBACK_PRESET, params: {}, mode: 'manual' });
  };

  const short = item.durationSeconds !== undefined && item.durationSeconds <= AUTO_COPY_MAX_SECONDS;
  const auto = canMake && short && !declined.has(item.id) && lastTry === undefined;
  useEffect(() => {
    if (known || asked.current || !auto) return;
    asked.current = true;
    make({ fileId: item.id, preset: PLAYBACK_PRESET, params: {}, mode: 'manual' });
  }, [known, auto, make, item.id]);

  if (!canMake && !known) {
    return (
      <div className="stage-message" role="status">
        <p>
          {item.attentionDetail ??
            (item.encrypted
              ? 'This video cannot be played here.'
              : 'This video is not in the vault yet, so it cannot be played here.')}
        </p>
      </div>
    );
  }
  if (create.isError) {
    return (
      <div className="stage-message" role="alert">
        <p>A copy to play could not be started: {errorText(create.error)}</p>
        <button type="button" onClick={makeCopy}>
          Try again
        </button>
      </div>
    );
  }
  if (job?.state === 'succeeded' && job.playUrl) {
    return (
      <VideoPlayer
        url={job.playUrl}
        label={props.label}
        poster={item.pictures.poster}
        autoPlay
        onPlay={props.onPlay}
        onVideo={props.onVideo}
      />
    );
  }
  if (job?.state === 'failed' || job?.state === 'cancelled') {
    // In the family's words, with the code (and the engine's own words) in small print.
    const failure = describeFailure(job);
    return (
      <div className="stage-message" role="alert">
        <p>
          The copy to play could not be made.{' '}
          {failure && (
            <>
              {failure.sentence} <ErrorCode code={failure.code} title={failure.detail} />
            </>
          )}
        </p>
        <button type="button" onClick={makeCopy}>
          Try again
        </button>
      </div>
    );
  }
  if (!job && create.isIdle && !auto) {
    return (
      <div className="stage-message">
        <p>This browser cannot play the original as it is, and there is no copy to play.</p>
        {!short && durationWords(item.durationSeconds) && (
          <p className="muted">
            The video is {durationWords(item.durationSeconds)} long, so making the copy takes a
            while. You can keep using Keepsake meanwhile.
          </p>
        )}
        <button type="button" className="primary" onClick={makeCopy}>
          Make a copy to play
        </button>
      </div>
    );
  }
  return <Preparing job={job} poster={item.pictures.poster} />;
}

function Preparing({ job, poster }: { job: DesktopJob | undefined; poster: string | undefined }) {
  const percent = job?.state === 'running' ? Math.floor(job.progress?.percent ?? 0) : undefined;
  const wait = job?.state === 'running' ? waitWords(job.progress?.etaSeconds) : undefined;
  return (
    <div className="stage-message preparing" data-testid="viewer-preparing">
      {poster && <img src={poster} alt="" className="preparing-poster" />}
      <p role="status">Preparing a copy to play…{wait ? ` ${wait}` : ''}</p>
      <progress
        max={100}
        value={percent}
        aria-label="Preparing a copy to play"
        aria-valuetext={percent === undefined ? 'starting' : `${percent}%`}
      />
      <p className="muted small">
        This browser cannot play the original as it is. The copy is kept, so next time it plays at
        once.
      </p>
    </div>
  );
}
