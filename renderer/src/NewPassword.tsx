// A new password, typed twice, with a live strength meter that applies the engine's own
// rule (password-strength.ts): the form says "strong enough" exactly when the engine
// will accept the password.
import { useId, useState } from 'react';
import { PASSWORD_POLICY, judgeStrength, loadEstimator } from './password-strength';
import { usePasswordStrength } from './vault-key-queries';

export function useNewPassword() {
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const strength = usePasswordStrength(password);
  const mismatch = confirm !== '' && confirm !== password;
  const ok = strength?.ok === true && password === confirm;
  /** What stops the form, in a sentence; undefined when it may be sent. */
  const problem = !password
    ? 'Choose a password.'
    : !strength
      ? 'One moment: the password is still being checked.'
      : !strength.ok
        ? strength.level === 0
          ? `Use at least ${PASSWORD_POLICY.minLength} characters.`
          : 'This password is too easy to guess. Choose a stronger one (the meter says when it is strong enough).'
        : password !== confirm
          ? 'Type the same password again in the second box to confirm it.'
          : undefined;
  /**
   * Whether the form may be sent. A password typed and sent before the meter's
   * dictionaries have loaded (they load at the first character) waits for them, rather
   * than the press being dropped. If they cannot load, the engine's own check decides.
   */
  const check = async (): Promise<boolean> => {
    if (!password || password !== confirm) return false;
    if (strength) return strength.ok;
    try {
      return judgeStrength(await loadEstimator(), password).ok;
    } catch {
      return true;
    }
  };
  const reset = () => {
    setPassword('');
    setConfirm('');
  };
  return {
    password,
    setPassword,
    confirm,
    setConfirm,
    strength,
    mismatch,
    ok,
    problem,
    check,
    reset,
  };
}

export type NewPasswordState = ReturnType<typeof useNewPassword>;

export function NewPasswordFields({
  state,
  touched,
  label = 'Password',
}: {
  state: NewPasswordState;
  touched: boolean;
  label?: string;
}) {
  const ids = { pw: useId(), confirm: useId(), meter: useId(), hints: useId(), mismatch: useId() };
  const { password, confirm, strength, mismatch } = state;
  return (
    <>
      <div className="field">
        <label htmlFor={ids.pw}>{label}</label>
        <input
          id={ids.pw}
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => state.setPassword(e.target.value)}
          aria-describedby={`${ids.meter} ${ids.hints}`}
          aria-invalid={touched && !strength?.ok}
          required
          minLength={PASSWORD_POLICY.minLength}
        />
        <div className="strength" id={ids.meter} data-level={strength?.level ?? 0}>
          <meter
            min={0}
            max={4}
            low={PASSWORD_POLICY.minScore}
            high={4}
            optimum={4}
            value={strength?.level ?? 0}
            aria-hidden="true"
          />
          <span data-testid="password-strength" data-ok={strength?.ok ? 'yes' : 'no'}>
            Strength: {strength ? strength.label : '—'}
            {strength && (strength.ok ? ' · strong enough' : ' · not strong enough yet')}
          </span>
        </div>
        <ul id={ids.hints} className="hints">
          {password && strength?.hints.map((h) => <li key={h}>{h}</li>)}
        </ul>
      </div>
      <div className="field">
        <label htmlFor={ids.confirm}>Repeat the {label.toLowerCase()}</label>
        <input
          id={ids.confirm}
          type="password"
          autoComplete="new-password"
          value={confirm}
          onChange={(e) => state.setConfirm(e.target.value)}
          aria-invalid={mismatch}
          aria-describedby={mismatch ? ids.mismatch : undefined}
          required
        />
        {mismatch && (
          <p id={ids.mismatch} className="field-error">
            The two passwords differ.
          </p>
        )}
      </div>
    </>
  );
}
