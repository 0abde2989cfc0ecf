// What kind of media a file is, from its name: the library's grouping and the Make
// screen's preset choice. Content is probed before any encode, so this is a label only.

import { mediaTypeFor } from './media-type';

export type MediaKind = 'video' | 'photo' | 'audio' | 'other';

export function mediaKindOf(name: string): MediaKind {
  const type = mediaTypeFor(name);
  if (type.startsWith('video/')) return 'video';
  if (type.startsWith('image/')) return 'photo';
  if (type.startsWith('audio/')) return 'audio';
  return 'other';
}
