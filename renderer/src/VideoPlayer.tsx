// One <video> for everything the viewer plays through the engine's capability URLs: the
// vault copy itself (/media, Range requests) or a playback copy (/play). HLS plays through
// hls.js (a dynamic import, loaded only when an HLS copy is opened) where Media Source
// works, else natively; MP4 and WebM always natively. Seeking works in both.
import { useEffect, useRef, useState } from 'react';
import { errorText } from './errors-text';

export function isHls(url: string): boolean {
  return /\.m3u8(?:$|[?#])/i.test(url);
}

type PlayerProps = {
  url: string;
  /** The accessible name: what is playing, in the family's words. */
  label: string;
  poster?: string | undefined;
  autoPlay?: boolean;
  onPlay?: () => void;
  /** Hands out the <video> element (null when it goes), for controls beside the player. */
  onVideo?: (video: HTMLVideoElement | null) => void;
};

/** Keyed by the URL: another video starts from fresh state. */
export function VideoPlayer(props: PlayerProps) {
  return <Player key={props.url} {...props} />;
}

function Player(props: PlayerProps) {
  const { url } = props;
  const video = useRef<HTMLVideoElement>(null);
  const [playback, setPlayback] = useState<'hls.js' | 'native' | undefined>(
    isHls(url) ? undefined : 'native',
  );
  const [error, setError] = useState<string>();
  const { onVideo } = props;

  useEffect(() => {
    onVideo?.(video.current);
    return () => onVideo?.(null);
  }, [onVideo]);

  useEffect(() => {
    const el = video.current;
    if (!el) return;
    let destroyed = false;
    let destroy: (() => void) | undefined;
    if (!isHls(url)) {
      el.src = url;
    } else {
      void import('hls.js').then(
        ({ default: Hls }) => {
          if (destroyed) return;
          if (Hls.isSupported()) {
            const hls = new Hls({ enableWorker: true });
            hls.on(Hls.Events.ERROR, (_e, data) => {
              if (!data.fatal) return;
              if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
              else setError('Playback stopped: the video could not be read.');
            });
            hls.loadSource(url);
            hls.attachMedia(el);
            destroy = () => hls.destroy();
            setPlayback('hls.js');
          } else if (el.canPlayType('application/vnd.apple.mpegurl')) {
            el.src = url;
            setPlayback('native');
          } else {
            setError('This browser cannot play this copy.');
          }
        },
        (err: unknown) => setError(`The player could not load: ${errorText(err)}`),
      );
    }
    return () => {
      destroyed = true;
      destroy?.();
      el.removeAttribute('src');
      el.load();
    };
  }, [url]);

  return (
    <div className="player">
      <video
        ref={video}
        controls
        playsInline
        autoPlay={props.autoPlay}
        preload="metadata"
        poster={props.poster}
        data-testid="player-video"
        data-playback={playback}
        aria-label={`Video: ${props.label}`}
        onPlay={props.onPlay}
        onError={() => {
          const el = video.current;
          // A src removed on the way out raises an error too: not the family's concern.
          if (!el?.getAttribute('src') && playback === 'native') return;
          setError('The video could not be played.');
        }}
      />
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </div>
  );
}
