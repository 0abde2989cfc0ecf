// The one rule for new vault passwords, used by the desktop API (create, change) and the
// CLI (`vault init`, `vault passwd`, `vault restore`): at least PASSWORD_POLICY.minLength
// characters and a zxcvbn score of at least PASSWORD_POLICY.minScore ("safely
// unguessable" against an offline attack on a slow hash, which is what a stolen keyring
// faces). The renderer's strength meter (renderer/src/password-strength.ts) holds the
// same numbers by value, since it may not import engine code; e2e/keys.spec.ts checks
// that both give the same verdict on a list of sample passwords.

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { KeepsakeError } from '../core/errors';

export const PASSWORD_POLICY = {
  /** In characters (code points), not bytes. */
  minLength: 8,
  /** zxcvbn's 0-4 scale; 3 means about 10^10 guesses or more. */
  minScore: 3,
  /** Words any attacker would try first for this app. */
  userInputs: ['keepsake', 'vault'],
} as const;

export interface PasswordVerdict {
  ok: boolean;
  score: 0 | 1 | 2 | 3 | 4;
  /** Why it was refused, in a sentence; absent when ok. */
  reason?: string;
  /** zxcvbn's warning and suggestions, in plain English. */
  feedback: string[];
}

/**
 * zxcvbn runs in a short-lived worker thread: its dictionaries take ~100 ms to load and
 * ~47 MB that a long-running desktop engine would otherwise keep for good after the first
 * password was set. The worker's memory goes when it ends.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
try {
  const [core, common, en] = workerData.modules.map((m) => require(m));
  const zxcvbn = new core.ZxcvbnFactory({
    translations: en.translations,
    graphs: common.adjacencyGraphs,
    dictionary: { ...common.dictionary, ...en.dictionary },
  });
  const r = zxcvbn.check(workerData.password, workerData.userInputs);
  parentPort.postMessage({ score: r.score, warning: r.feedback.warning, suggestions: r.feedback.suggestions });
} catch (err) {
  parentPort.postMessage({ error: String((err && err.stack) || err) });
}
`;

interface Estimate {
  score: number;
  warning: string | null;
  suggestions: string[];
  error?: string;
}

function estimate(password: string): Promise<Estimate> {
  const require = createRequire(import.meta.url);
  const modules = ['@zxcvbn-ts/core', '@zxcvbn-ts/language-common', '@zxcvbn-ts/language-en'].map(
    (name) => require.resolve(name),
  );
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { modules, password, userInputs: [...PASSWORD_POLICY.userInputs] },
    // Never handed to a child process; the worker needs no environment.
    env: {},
  });
  return new Promise<Estimate>((resolve, reject) => {
    worker.once('message', (m: Estimate) =>
      m.error ? reject(new Error(`password check failed: ${m.error}`)) : resolve(m),
    );
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`password check stopped (${code})`)));
  }).finally(() => void worker.terminate());
}

export async function judgePassword(password: string): Promise<PasswordVerdict> {
  const length = [...password].length;
  const result = await estimate(password);
  const feedback = [...(result.warning ? [result.warning] : []), ...result.suggestions];
  const score = result.score as PasswordVerdict['score'];
  if (length < PASSWORD_POLICY.minLength) {
    return {
      ok: false,
      score,
      reason: `the password is too short: use at least ${PASSWORD_POLICY.minLength} characters (a few unrelated words work well)`,
      feedback,
    };
  }
  if (score < PASSWORD_POLICY.minScore) {
    return {
      ok: false,
      score,
      reason: `the password is too easy to guess${feedback.length ? ` (${feedback.join(' ')})` : ''}; a few unrelated words make a strong one that is easy to remember`,
      feedback,
    };
  }
  return { ok: true, score, feedback };
}

/**
 * Throws WEAK_PASSWORD (with the reason) unless the password meets the policy. The CLI
 * passes `allowWeak` only for an explicit `--allow-weak-password`.
 */
export async function requireStrongPassword(
  password: string,
  { allowWeak = false }: { allowWeak?: boolean } = {},
): Promise<void> {
  if (password.length === 0) throw new KeepsakeError('PASSWORD_REQUIRED', 'the password is empty');
  if (allowWeak) return;
  const verdict = await judgePassword(password);
  if (!verdict.ok) throw new KeepsakeError('WEAK_PASSWORD', verdict.reason ?? 'weak password');
}
