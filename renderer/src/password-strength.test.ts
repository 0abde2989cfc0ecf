import { describe, expect, it } from 'vitest';
import { PASSWORD_POLICY, judgeStrength, loadEstimator } from './password-strength';

describe('judgeStrength (zxcvbn-ts)', () => {
  it('calls anything shorter than the minimum too short, whatever its mix', async () => {
    const s = judgeStrength(await loadEstimator(), 'aB3$xY9');
    expect(s).toMatchObject({ level: 0, label: 'Too short', ok: false });
    expect(s.hints[0]).toContain(String(PASSWORD_POLICY.minLength));
  });

  it.each(['password', 'Password1', 'p@ssw0rd', 'qwertyuiop', 'iloveyou', 'sunshine1'])(
    'refuses %s and says it is common',
    async (pw) => {
      const s = judgeStrength(await loadEstimator(), pw);
      expect(s.ok).toBe(false);
      expect(s.hints.join(' ')).toMatch(/common/i);
    },
  );

  it('accepts a few unrelated words and a long random mix', async () => {
    const z = await loadEstimator();
    for (const pw of ['correct horse battery staple', 'gardenia kettle seven rivers']) {
      expect(judgeStrength(z, pw)).toMatchObject({ ok: true, level: 4, label: 'Very strong' });
    }
    expect(judgeStrength(z, 'T7#qL!v2@pZ9$wK4').ok).toBe(true);
  });

  it('takes the app’s own words as easy guesses', async () => {
    const z = await loadEstimator();
    expect(judgeStrength(z, 'keepsakevault').ok).toBe(false);
  });
});
