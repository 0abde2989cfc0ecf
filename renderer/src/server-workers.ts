// The Servers screen's sentence about a server's helpers (its `keepsake worker`s), in
// plain words: "2 helpers: kitchen-pc is making 1 copy; nas is idle".

import type { ServerView } from './engine-client';

type Health = Extract<ServerView['health'], { reasons: unknown }>;
export type HelperView = NonNullable<Health['workers']>[number];

/** A helper not heard from for this long is not answering (they check in every 5 s). */
const SILENT_SECONDS = 30;

function silentFor(seconds: number): string {
  const minutes = Math.round(seconds / 60);
  if (minutes <= 1) return 'a minute';
  if (minutes < 90) return `${minutes} minutes`;
  return `${Math.round(minutes / 60)} hours`;
}

/** What one helper is doing. */
export function helperWords(helper: HelperView): string {
  const silent = helper.silentSeconds;
  if (silent > SILENT_SECONDS) return `${helper.name} has not answered for ${silentFor(silent)}`;
  if (helper.running === 0) return `${helper.name} is idle`;
  return `${helper.name} is making ${helper.running} ${helper.running === 1 ? 'copy' : 'copies'}`;
}

/** The whole sentence, or undefined for a server with no helpers. */
export function helpersSentence(helpers: readonly HelperView[] | undefined) {
  if (!helpers || helpers.length === 0) return undefined;
  const count = `${helpers.length} ${helpers.length === 1 ? 'helper' : 'helpers'}`;
  return `${count}: ${helpers.map((h) => helperWords(h)).join('; ')}`;
}
