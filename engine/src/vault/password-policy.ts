// The one rule for new vault passwords, used by the desktop API (create, change) and the
// CLI (`vault init`, `vault passwd`, `vault restore`): at least PASSWORD_POLICY.minLength
// characters and a zxcvbn score of at least PASSWORD_POLICY.minScore ("safely
// unguessable" against an offline attack on a slow hash, which is what a stolen keyring
// faces). The renderer's strength meter (renderer/src/password-strength.ts) holds the
// same numbers by value, since it may not import engine code; e2e/keys.spec.ts checks
// that both give the same verdict on a list of sample passwords.

import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { KeepsakeError } from '../errors';

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

let factory: Promise<ZxcvbnFactory> | undefined;

/**
 * The estimator, loaded on first use: its dictionaries take ~100 ms and tens of MB, which
 * the engine should not pay at every start for a check made when a password is set.
 */
function estimator(): Promise<ZxcvbnFactory> {
  factory ??= (async () => {
    const [core, common, en] = await Promise.all([
      import('@zxcvbn-ts/core'),
      import('@zxcvbn-ts/language-common'),
      import('@zxcvbn-ts/language-en'),
    ]);
    return new core.ZxcvbnFactory({
      translations: en.translations,
      graphs: common.adjacencyGraphs,
      dictionary: { ...common.dictionary, ...en.dictionary },
    });
  })();
  return factory;
}

export async function judgePassword(password: string): Promise<PasswordVerdict> {
  const length = [...password].length;
  const result = (await estimator()).check(password, [...PASSWORD_POLICY.userInputs]);
  const feedback = [
    ...(result.feedback.warning ? [result.feedback.warning] : []),
    ...result.feedback.suggestions,
  ];
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
