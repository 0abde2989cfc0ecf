// Words for the status screen, kept apart from the components so they can be tested
// without a DOM.
import type { FfmpegStatus } from '../../engine/src/net/desktop-api';
import { EngineError } from './engine-client';

const SOURCE_LABELS: Record<string, string> = {
  config: 'chosen in settings',
  env: 'from FFMPEG_PATH',
  'ffmpeg-static': 'bundled ffmpeg-static',
  'npm-package': 'bundled npm package',
  system: 'installed on this system',
};

export function describeFfmpeg(ffmpeg: FfmpegStatus): { ok: boolean; text: string } {
  if ('error' in ffmpeg) return { ok: false, text: `Not available: ${ffmpeg.error.message}` };
  return { ok: true, text: `${ffmpeg.version} · ${SOURCE_LABELS[ffmpeg.source] ?? ffmpeg.source}` };
}

/** What to tell the user when the status cannot be loaded. */
export function describeLoadError(err: unknown): string {
  if (err instanceof EngineError) {
    switch (err.code) {
      case 'UNAUTHORIZED':
        return 'This page has no valid access token. Open Keepsake from the link the engine printed when it started.';
      case 'ENGINE_UNREACHABLE':
        return 'The Keepsake engine is not running or cannot be reached. This page keeps trying and comes back by itself when Keepsake starts again.';
      default:
        return err.message;
    }
  }
  return err instanceof Error ? err.message : String(err);
}
