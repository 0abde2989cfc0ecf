// Settings: the vault's password and recovery key, and what this Keepsake is (its
// version, FFmpeg, data folder). After an unlock with the recovery key, setting a new
// password comes first (no current password needed then).
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { ErrorMessage } from './ErrorMessage';
import { NewPasswordFields, useNewPassword } from './NewPassword';
import { RecoveryKeyStep } from './RecoveryKeyStep';
import { AboutKeepsake } from './StatusPanel';
import { useKeyActions, useVaultKeys } from './vault-key-queries';

export function SettingsScreen() {
  const keys = useVaultKeys();
  const afterRecovery = keys.data?.unlockedWith === 'recovery';
  return (
    <section className="panel" aria-labelledby="settings-heading">
      <h2 id="settings-heading">Settings</h2>
      {keys.isError && (
        <p role="alert" className="error">
          <ErrorMessage error={keys.error} />
        </p>
      )}
      {afterRecovery && <NewPasswordAfterRecovery />}
      {!afterRecovery && <ChangePassword />}
      <NewRecoveryKey afterRecovery={afterRecovery} />
      <AboutKeepsake />
    </section>
  );
}

function NewPasswordAfterRecovery() {
  const { setPassword } = useKeyActions();
  const pw = useNewPassword();
  const [touched, setTouched] = useState(false);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    void pw.check().then((ok) => {
      if (ok) setPassword.mutate({ password: pw.password }, { onSuccess: () => pw.reset() });
    });
  };
  return (
    <form
      className="form callout"
      aria-labelledby="after-recovery-heading"
      onSubmit={submit}
      noValidate
      data-testid="set-new-password"
    >
      <h3 id="after-recovery-heading">Set a new password</h3>
      <p>
        You opened the vault with your recovery key. If the password was forgotten, choose a new one
        now, so that next time the password opens the vault again. Your recovery key keeps working.
      </p>
      <NewPasswordFields state={pw} touched={touched} label="New password" />
      {touched && pw.problem && (
        <p className="field-error" role="alert">
          {pw.problem}
        </p>
      )}
      {setPassword.isError && (
        <p role="alert" className="error">
          <ErrorMessage error={setPassword.error} />
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={setPassword.isPending}>
          {setPassword.isPending ? 'Saving…' : 'Set the new password'}
        </button>
      </div>
    </form>
  );
}

function ChangePassword() {
  const { setPassword } = useKeyActions();
  const pw = useNewPassword();
  const [current, setCurrent] = useState('');
  const [touched, setTouched] = useState(false);
  const [done, setDone] = useState(false);
  const id = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    setDone(false);
    if (!current) return;
    void pw.check().then((ok) => {
      if (!ok) return;
      setPassword.mutate(
        { current, password: pw.password },
        {
          onSuccess: () => {
            setDone(true);
            setCurrent('');
            setTouched(false);
            pw.reset();
          },
        },
      );
    });
  };
  return (
    <form className="form" aria-labelledby="password-heading" onSubmit={submit} noValidate>
      <h3 id="password-heading">Change the password</h3>
      <p>The password opens the vault on this computer. Your recovery key keeps working.</p>
      <div className="field">
        <label htmlFor={id}>Current password</label>
        <input
          id={id}
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
          aria-invalid={touched && !current}
          required
        />
      </div>
      <NewPasswordFields state={pw} touched={touched} label="New password" />
      {touched && (!current || pw.problem) && (
        <p className="field-error" role="alert">
          {!current ? 'Type the current password first.' : pw.problem}
        </p>
      )}
      {setPassword.isError && (
        <p role="alert" className="error">
          <ErrorMessage error={setPassword.error} />
        </p>
      )}
      {done && (
        <p role="status" className="ok">
          The password was changed. Use the new one from now on.
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={setPassword.isPending}>
          {setPassword.isPending ? 'Changing…' : 'Change the password'}
        </button>
      </div>
    </form>
  );
}

function NewRecoveryKey({ afterRecovery }: { afterRecovery: boolean }) {
  const { newRecoveryKey } = useKeyActions();
  const [current, setCurrent] = useState('');
  // Held here only while shown: never in a cache.
  const [key, setKey] = useState<string>();
  const [done, setDone] = useState(false);
  const id = useId();

  if (key) {
    return (
      <RecoveryKeyStep
        recoveryKey={key}
        doneLabel="Finish"
        onDone={() => {
          setKey(undefined);
          setDone(true);
        }}
      />
    );
  }

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setDone(false);
    if (!afterRecovery && !current) return;
    newRecoveryKey.mutateAsync(afterRecovery ? {} : { current }).then(
      (v) => {
        setCurrent('');
        setKey(v.recoveryKey);
      },
      () => {}, // shown from .error
    );
  };
  return (
    <form className="form" aria-labelledby="new-key-heading" onSubmit={submit} noValidate>
      <h3 id="new-key-heading">Make a new recovery key</h3>
      <p>
        If your recovery key is lost, or someone else may have seen it, make a new one.{' '}
        <strong>The old key stops opening this vault at once.</strong> Backups made earlier still
        open with the old key until the next backup run updates them.
      </p>
      {!afterRecovery && (
        <div className="field">
          <label htmlFor={id}>Current password</label>
          <input
            id={id}
            type="password"
            autoComplete="current-password"
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
            required
          />
        </div>
      )}
      {newRecoveryKey.isError && (
        <p role="alert" className="error">
          <ErrorMessage error={newRecoveryKey.error} />
        </p>
      )}
      {done && (
        <p role="status" className="ok">
          Your new recovery key is stored. The old one no longer opens the vault.
        </p>
      )}
      <div className="actions">
        <button type="submit" disabled={newRecoveryKey.isPending || (!afterRecovery && !current)}>
          {newRecoveryKey.isPending ? 'Making a new key…' : 'Make a new recovery key'}
        </button>
      </div>
    </form>
  );
}
