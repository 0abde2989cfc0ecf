// Where a <video> is, kept current as it plays and each time a seek lands (the frame
// buttons pause and seek, and the picture shown is the frame at that time).
import { useEffect, useState } from 'react';

export function useVideoTime(video: HTMLVideoElement | null): {
  time: number;
  paused: boolean;
} {
  const [state, setState] = useState({ time: 0, paused: true });
  useEffect(() => {
    if (!video) return;
    const update = () => setState({ time: video.currentTime, paused: video.paused });
    const events = ['timeupdate', 'seeked', 'seeking', 'play', 'pause', 'loadedmetadata'];
    for (const e of events) video.addEventListener(e, update);
    update();
    return () => {
      for (const e of events) video.removeEventListener(e, update);
    };
  }, [video]);
  return state;
}

/**
 * Pauses on the frame that starts at `t` (seconds; `frame` is one frame's length). The
 * seek lands just past the frame's start, so the browser shows that frame, not the one
 * before it that a rounding of `t` would give.
 */
export function showFrame(video: HTMLVideoElement, t: number, frame: number): void {
  video.pause();
  video.currentTime = t + frame / 10;
}
