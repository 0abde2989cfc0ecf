import { describe, expect, it } from 'vitest';
import { PASSWORD_POLICY, judgePassword, requireStrongPassword } from './password-policy';

describe('password policy', () => {
  it.each(['a', 'pw', 'hunter2', 'sunshine1', 'password1', 'keepsake', 'Keepsake1', 'qwertyuiop'])(
    'refuses %j with WEAK_PASSWORD and a reason',
    async (pw) => {
      const err = await requireStrongPassword(pw).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'WEAK_PASSWORD' });
      expect((err as Error).message).toMatch(/too short|too easy to guess/);
    },
  );

  it('says why, with zxcvbn feedback in plain words', async () => {
    const common = await judgePassword('sunshine1');
    expect(common.ok).toBe(false);
    expect(common.reason).toContain('commonly used password');
    const short = await judgePassword('Zq9!');
    expect(short.reason).toContain(`at least ${PASSWORD_POLICY.minLength} characters`);
  });

  it('counts characters, not bytes: seven accented letters are too short', async () => {
    // 14 bytes in UTF-8, 7 characters.
    expect((await judgePassword('éàüöçñø')).reason).toMatch(/too short/);
  });

  it.each([
    'correct horse battery staple',
    'gardenia kettle seven rivers',
    'quiet lantern orchard',
  ])('accepts %j', async (pw) => {
    await expect(requireStrongPassword(pw)).resolves.toBeUndefined();
    expect((await judgePassword(pw)).score).toBeGreaterThanOrEqual(PASSWORD_POLICY.minScore);
  });

  it('lets a weak one through only when explicitly allowed, never an empty one', async () => {
    await expect(requireStrongPassword('pw', { allowWeak: true })).resolves.toBeUndefined();
    await expect(requireStrongPassword('', { allowWeak: true })).rejects.toMatchObject({
      code: 'PASSWORD_REQUIRED',
    });
  });
});
