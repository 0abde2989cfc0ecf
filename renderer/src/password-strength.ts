// The strength meter for new vault passwords: zxcvbn-ts, as the engine uses it, with
// the same rule. The renderer may not import engine code, so PASSWORD_POLICY repeats the
// engine's numbers (engine/src/vault/password-policy.ts) by value; e2e/keys.spec.ts
// checks that both give the same verdict on a list of sample passwords, so the meter
// never says "fine" to a password the engine then refuses.
//
// The dictionaries are a few MB: they load on first use (the create form, Settings), in
// their own chunk, never at app start.

import type { ZxcvbnFactory } from '@zxcvbn-ts/core';

export const PASSWORD_POLICY = {
  minLength: 8,
  minScore: 3,
  userInputs: ['keepsake', 'vault'],
} as const;

export type StrengthLevel = 0 | 1 | 2 | 3 | 4;

export interface Strength {
  /** zxcvbn's score, 0 for anything shorter than the minimum. */
  level: StrengthLevel;
  label: 'Too short' | 'Very weak' | 'Weak' | 'Fair' | 'Strong' | 'Very strong';
  /** Whether the engine will accept it. */
  ok: boolean;
  /** Why not, and what would help, in plain words. */
  hints: string[];
}

export type Estimator = Pick<ZxcvbnFactory, 'check'>;

let loading: Promise<Estimator> | undefined;

export function loadEstimator(): Promise<Estimator> {
  loading ??= (async () => {
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
  // A failed load (a network hiccup in browser mode) may be tried again.
  loading.catch(() => (loading = undefined));
  return loading;
}

const LABELS: Strength['label'][] = ['Very weak', 'Weak', 'Fair', 'Strong', 'Very strong'];

export function judgeStrength(estimator: Estimator, password: string): Strength {
  const result = estimator.check(password, [...PASSWORD_POLICY.userInputs]);
  const feedback = [
    ...(result.feedback.warning ? [result.feedback.warning] : []),
    ...result.feedback.suggestions,
  ];
  if ([...password].length < PASSWORD_POLICY.minLength) {
    return {
      level: 0,
      label: 'Too short',
      ok: false,
      hints: [`Use at least ${PASSWORD_POLICY.minLength} characters.`, ...feedback],
    };
  }
  const level = result.score as StrengthLevel;
  const ok = level >= PASSWORD_POLICY.minScore;
  return {
    level,
    label: LABELS[level] ?? 'Weak',
    ok,
    hints: ok
      ? feedback
      : [...feedback, 'A few unrelated words make a strong password that is easy to remember.'],
  };
}
