// Two judgements the library screens make of an item from what was read of it: whether a
// browser can show its vault copy as it is (else the viewer asks for a playback copy),
// and whether it looks like a digitised tape (the "tapes" filter, "Preserve this tape").

import { mediaTypeFor } from '../vault/media-type';
import type { MediaKind } from '../vault/media-kind';
import type { ItemInfo } from './item-info';

/** Containers a browser's <video> opens (Chromium reads QuickTime files as MP4). */
const VIDEO_CONTAINERS = new Set(['video/mp4', 'video/webm', 'video/quicktime']);
/** FFprobe's names of the codecs browsers decode. */
const VIDEO_CODECS = new Set(['h264', 'vp8', 'vp9', 'av1']);
const AUDIO_CODECS = new Set(['aac', 'mp3', 'opus', 'vorbis']);
const PHOTO_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif']);

/** Standard definition: PAL's 576 lines, NTSC's 480; a tape capture is never more. */
const TAPE_MAX_HEIGHT = 576;
/** Home movies on tape run long; a short SD clip is more likely an old camera's. */
const TAPE_MIN_SECONDS = 10 * 60;

export interface PlayableInput {
  kind: MediaKind;
  /** The file's name (its extension says the container). */
  rel: string;
  /** Whether the vault holds a copy to show. */
  encrypted: boolean;
  info?: Pick<
    ItemInfo,
    'videoCodec' | 'audioCodec' | 'hasAudio' | 'height' | 'durationSeconds' | 'attention'
  >;
}

export function playability(item: PlayableInput): { browserPlayable: boolean; tape: boolean } {
  const info = item.info;
  const type = mediaTypeFor(item.rel);
  let browserPlayable = false;
  if (item.encrypted && info?.attention === undefined) {
    if (item.kind === 'photo') {
      browserPlayable = PHOTO_TYPES.has(type);
    } else if (item.kind === 'video' && info) {
      const audioOk =
        !info.hasAudio || (info.audioCodec !== undefined && AUDIO_CODECS.has(info.audioCodec));
      browserPlayable =
        VIDEO_CONTAINERS.has(type) &&
        info.videoCodec !== undefined &&
        VIDEO_CODECS.has(info.videoCodec) &&
        audioOk;
    }
  }
  const tape =
    item.kind === 'video' &&
    info?.height !== undefined &&
    info.height <= TAPE_MAX_HEIGHT &&
    (info.durationSeconds ?? 0) >= TAPE_MIN_SECONDS;
  return { browserPlayable, tape };
}
