// The library's background reading while the vault is open: each protected item's facts
// (its date, size, duration; library/info-reader.ts), then its pictures (thumbnails and
// posters; library/preview-maker.ts). Outcomes go to the activity log in plain words.

import type { InfoReader } from '../library/info-reader';
import type { PreviewMaker } from '../library/preview-maker';
import type { Vault } from '../vault/keyring';

/**
 * The end of a background run's chain: recording its outcome can fail too (the activity
 * log's database busy or full), and a rejection nobody handles would stop the engine.
 */
export const backgroundFailure = (err: unknown) =>
  process.stderr.write(`keepsake: a background task failed: ${(err as Error)?.message ?? err}\n`);

export interface BackgroundHooks {
  /** Whether the vault these runs were started with is still the open one. */
  stillOpen(): boolean;
  record(action: string, outcome: 'ok' | 'error', detail: string): void;
}

/** Reads what is left to read, then makes the pictures still missing; never rejects. */
export function readLibraryInBackground(
  info: InfoReader,
  previews: PreviewMaker,
  vault: Vault,
  hooks: BackgroundHooks,
): void {
  info
    .run(vault)
    .then(
      (done) => {
        if (done.done > 0) hooks.record('library.read', 'ok', `${done.done} items`);
        if (done.failed > 0) {
          const why = info.lastError ?? 'unknown';
          hooks.record('library.read', 'error', `${done.failed} items left unread: ${why}`);
        }
      },
      (err: unknown) => hooks.record('library.read', 'error', (err as Error).message),
    )
    // Pictures after facts: the two would only share the same cores.
    .then(() => {
      if (hooks.stillOpen()) makePictures(previews, vault, hooks);
    })
    .catch(backgroundFailure);
}

function makePictures(previews: PreviewMaker, vault: Vault, hooks: BackgroundHooks): void {
  previews
    .run(vault)
    .then(
      (done) => {
        if (done.done > 0) hooks.record('library.pictures', 'ok', `${done.done} items`);
        if (done.failed > 0) {
          const why = previews.lastError ?? 'unknown';
          hooks.record(
            'library.pictures',
            'error',
            `${done.failed} items left without pictures for now: ${why}`,
          );
        }
      },
      (err: unknown) => hooks.record('library.pictures', 'error', (err as Error).message),
    )
    .catch(backgroundFailure);
}
