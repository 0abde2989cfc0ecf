// What "Make these clips" started, said in words (MakeClips.tsx).
import type { ClipExportView } from './engine-client';

/** The sentence for what was started, naming where the clips appear in the library. */
export function madeClipsText(made: ClipExportView): string {
  const n = (count: number) => (count === 1 ? '1 clip' : `${count} clips`);
  const parts: string[] = [];
  if (made.started > 0) {
    parts.push(
      `Making ${n(made.started)}. ${made.started === 1 ? 'It appears' : 'They appear'} in your library under “${made.folder}” when ready.`,
    );
  }
  if (made.running > 0) parts.push(`${n(made.running)} already being made.`);
  if (made.kept > 0) {
    parts.push(
      `${n(made.kept)} already in your library${made.started ? '' : ': nothing new to make'}.`,
    );
  }
  if (made.unlisted > 0) {
    parts.push(
      `${n(made.unlisted)} made earlier ${made.unlisted === 1 ? 'is' : 'are'} no longer in this list, and stay${made.unlisted === 1 ? 's' : ''} in your library.`,
    );
  }
  return parts.join(' ');
}
