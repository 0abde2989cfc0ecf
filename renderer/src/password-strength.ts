// A small, honest password-strength estimate for the vault screen. It guesses the
// search space an attacker would need (character classes × length), then takes off
// what common shortcuts give away: repeats, sequences, keyboard runs, well-known
// passwords and words taken from the user's own inputs. It does not pretend to be
// zxcvbn; it is meant to steer people away from weak choices, with reasons.

export type StrengthLevel = 0 | 1 | 2 | 3 | 4;

export interface Strength {
  level: StrengthLevel;
  label: 'Too short' | 'Weak' | 'Fair' | 'Good' | 'Strong';
  /** Estimated bits of entropy after penalties. */
  bits: number;
  /** What would make it better, in plain words. */
  hints: string[];
}

export const MIN_LENGTH = 8;

const COMMON = new Set([
  'password',
  'passw0rd',
  'p@ssw0rd',
  'letmein',
  'welcome',
  'qwerty',
  'qwertyuiop',
  'iloveyou',
  'admin',
  'monkey',
  'dragon',
  'football',
  'baseball',
  'sunshine',
  'princess',
  'trustno1',
  'abc123',
  'keepsake',
  'family',
  'changeme',
  'secret',
]);

const SEQUENCES = [
  'abcdefghijklmnopqrstuvwxyz',
  '0123456789',
  'qwertyuiop',
  'asdfghjkl',
  'zxcvbnm',
  '1qaz2wsx3edc',
];

const LABELS: Strength['label'][] = ['Too short', 'Weak', 'Fair', 'Good', 'Strong'];

export function estimateStrength(password: string, userInputs: readonly string[] = []): Strength {
  const chars = [...password];
  const hints: string[] = [];
  if (chars.length === 0) return { level: 0, label: 'Too short', bits: 0, hints: [] };

  let pool = 0;
  if (/[a-z]/.test(password)) pool += 26;
  if (/[A-Z]/.test(password)) pool += 26;
  if (/[0-9]/.test(password)) pool += 10;
  if (/[^A-Za-z0-9\s]/.test(password)) pool += 33;
  if (/\s/.test(password)) pool += 1;
  if ([...password].some((c) => (c.codePointAt(0) ?? 0) > 0x7f)) pool += 100;

  // Characters that only repeat or continue a run carry little information.
  let effective = 0;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] ?? '';
    const prev = chars[i - 1];
    if (prev === undefined) effective += 1;
    else if (c === prev) effective += 0.1;
    else if (isStep(prev, c)) effective += 0.25;
    else effective += 1;
  }
  let bits = effective * Math.log2(Math.max(pool, 2));

  const lower = password.toLowerCase();
  const unleet = lower.replace(/[@4]/g, 'a').replace(/3/g, 'e').replace(/[1!]/g, 'i');
  const core = unleet.replace(/[^a-z]/g, '');
  if (COMMON.has(lower) || COMMON.has(unleet) || COMMON.has(core)) {
    bits = Math.min(bits, 10);
    hints.push('This is one of the most common passwords.');
  } else {
    for (const word of COMMON) {
      if (word.length >= 5 && unleet.includes(word)) {
        bits -= word.length * 3;
        hints.push(`Avoid well-known words like “${word}”.`);
        break;
      }
    }
  }

  for (const input of userInputs) {
    const w = input.toLowerCase().trim();
    if (w.length >= 3 && lower.includes(w)) {
      bits -= w.length * 3;
      hints.push('Avoid names and words from elsewhere on this screen.');
      break;
    }
  }

  if (SEQUENCES.some((seq) => hasRun(lower, seq, 4))) {
    hints.push('Avoid sequences like “abcd”, “1234” or keyboard rows.');
  }
  if (/(.)\1{2,}/u.test(password)) hints.push('Avoid repeated characters.');
  if (/(?:^|\D)(?:19|20)\d{2}$/.test(password)) {
    bits -= 6;
    hints.push('A year at the end is easy to guess.');
  }

  bits = Math.max(0, Math.round(bits));
  let level: StrengthLevel;
  if (chars.length < MIN_LENGTH) {
    level = 0;
    hints.unshift(`Use at least ${MIN_LENGTH} characters.`);
  } else if (bits < 36) level = 1;
  else if (bits < 52) level = 2;
  else if (bits < 72) level = 3;
  else level = 4;

  if (level > 0 && level < 3) {
    hints.push('Longer is stronger: a few unrelated words make a memorable passphrase.');
  }
  return { level, label: LABELS[level] ?? 'Weak', bits, hints };
}

function isStep(a: string, b: string): boolean {
  const d = (b.codePointAt(0) ?? 0) - (a.codePointAt(0) ?? 0);
  return d === 1 || d === -1;
}

function hasRun(text: string, seq: string, length: number): boolean {
  for (let i = 0; i + length <= seq.length; i++) {
    const run = seq.slice(i, i + length);
    if (text.includes(run) || text.includes([...run].reverse().join(''))) return true;
  }
  return false;
}
