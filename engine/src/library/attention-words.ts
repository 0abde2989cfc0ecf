// Why an item needs the family's attention, in a sentence they can read: what is wrong and
// that nothing was lost ("This video is damaged or incomplete: Keepsake can't read its
// start. The original is kept as it is."). What FFprobe, FFmpeg or libvips said ("moov
// atom not found") is kept apart, as the technical detail the app shows only on request:
// it helps whoever helps the family, and says nothing to the family itself.

/** What the item is, as the sentence names it. */
export type ItemNoun = 'video' | 'photo' | 'file';

const KEPT = 'The original is kept as it is.';

/** "This video is damaged or incomplete: Keepsake can't read its start. The original…" */
export function damagedWords(noun: ItemNoun, cannot: string): string {
  return `This ${noun} is damaged or incomplete: Keepsake can't ${cannot}. ${KEPT}`;
}

/** A file with nothing in it: not damaged in a way anything can mend, so said plainly. */
export const EMPTY_WORDS = `This file is empty: nothing was copied into it. ${KEPT}`;

/** A kind of file this build does not read (not a damaged file of one it does). */
export const UNSUPPORTED_WORDS = `Keepsake can't read this kind of file yet. ${KEPT}`;

/**
 * How a picture failure's words are kept in one text column (library_preview_state.detail):
 * the sentence, then the tool's words on a line of their own.
 */
export function packDetail(sentence: string, technical: string | undefined): string {
  return technical ? `${sentence}\n${technical}` : sentence;
}

/** A stored detail as its sentence and technical words (older texts: see splitStored). */
export function unpackDetail(text: string): { sentence: string; technical?: string } {
  const at = text.indexOf('\n');
  if (at < 0) return splitStored(text);
  return { sentence: text.slice(0, at), technical: text.slice(at + 1) };
}

/** The first line of what a tool said, short enough to show in small print. */
export function technicalOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.trim().slice(0, 300);
}

/**
 * A sentence and its technical detail, from a text stored before they were kept apart:
 * older versions put the tool's words in brackets before the sentence's end ("…: it may
 * be damaged (moov atom not found)." or "…yet (…). It is kept safe…"). Other text is all
 * sentence, brackets and all ("an HEIC photo (from an iPhone)").
 */
export function splitStored(text: string): { sentence: string; technical?: string } {
  const m = /^(.*?) \((.+)\)(\.(?: It is kept safe in the vault as it is\.)?)$/s.exec(text);
  if (!m) return { sentence: text };
  return { sentence: `${m[1]}${m[3]}`, technical: m[2] };
}
