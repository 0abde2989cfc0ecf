// Vault: create one (with password strength feedback and the recovery key shown once),
// unlock it with the password or the recovery key, lock it.
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { errorText } from './errors-text';
import { LockVault } from './LockVault';
import { estimateStrength, MIN_LENGTH } from './password-strength';
import { useVault, useVaultActions } from './queries';
import { useUiStore } from './ui-store';

export function VaultScreen() {
  const vault = useVault();
  // Held here, never in the query cache: shown once, then gone.
  const [recoveryKey, setRecoveryKey] = useState<string>();

  return (
    <section className="panel" aria-labelledby="vault-heading">
      <h2 id="vault-heading">Vault</h2>
      {vault.isPending && <p role="status">Checking the vault…</p>}
      {vault.isError && (
        <p role="alert" className="error">
          {errorText(vault.error)}
        </p>
      )}
      {recoveryKey ? (
        <RecoveryKey recoveryKey={recoveryKey} onDone={() => setRecoveryKey(undefined)} />
      ) : vault.data && !vault.data.exists ? (
        <CreateVault onCreated={setRecoveryKey} />
      ) : vault.data && !vault.data.unlocked ? (
        <UnlockVault />
      ) : vault.data ? (
        <Unlocked dir={vault.data.dir} />
      ) : null}
    </section>
  );
}

function CreateVault({ onCreated }: { onCreated: (key: string) => void }) {
  const { create } = useVaultActions();
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [touched, setTouched] = useState(false);
  const ids = { pw: useId(), confirm: useId(), meter: useId(), hints: useId(), mismatch: useId() };
  const strength = estimateStrength(password, ['keepsake', 'vault']);
  const mismatch = confirm !== '' && confirm !== password;
  const ok = strength.level >= 2 && password === confirm;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!ok) return;
    // mutateAsync, not mutate's callbacks: those are dropped if this form unmounts first,
    // and the recovery key must never be lost.
    create.mutateAsync(password).then(
      (v) => onCreated(v.recoveryKey),
      () => {}, // shown from create.error
    );
  };

  return (
    <form onSubmit={submit} className="form" aria-label="Create a vault" noValidate>
      <p>
        Your media is encrypted with a key only this vault holds. Choose a password you will
        remember: nobody, including us, can recover it for you. You will also get a recovery key.
      </p>
      <div className="field">
        <label htmlFor={ids.pw}>Password</label>
        <input
          id={ids.pw}
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          aria-describedby={`${ids.meter} ${ids.hints}`}
          aria-invalid={touched && strength.level < 2}
          required
          minLength={MIN_LENGTH}
        />
        <div className="strength" id={ids.meter} data-level={strength.level}>
          <meter
            min={0}
            max={4}
            low={2}
            high={3}
            optimum={4}
            value={strength.level}
            aria-hidden="true"
          />
          <span data-testid="password-strength">Strength: {password ? strength.label : '—'}</span>
        </div>
        <ul id={ids.hints} className="hints">
          {password && strength.hints.map((h) => <li key={h}>{h}</li>)}
        </ul>
      </div>
      <div className="field">
        <label htmlFor={ids.confirm}>Repeat the password</label>
        <input
          id={ids.confirm}
          type="password"
          autoComplete="new-password"
          value={confirm}
          onChange={(e) => setConfirm(e.target.value)}
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
      {touched && !ok && !mismatch && (
        <p className="field-error" role="alert">
          {strength.level < 2
            ? 'Choose a stronger password (at least “Fair”).'
            : 'Repeat the password to confirm it.'}
        </p>
      )}
      {create.isError && (
        <p role="alert" className="error">
          {errorText(create.error)}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? 'Creating the vault…' : 'Create vault'}
        </button>
      </div>
    </form>
  );
}

function RecoveryKey({ recoveryKey, onDone }: { recoveryKey: string; onDone: () => void }) {
  const [stored, setStored] = useState(false);
  const [copied, setCopied] = useState<string>();
  const go = useUiStore((s) => s.go);
  const copy = () => {
    navigator.clipboard.writeText(recoveryKey).then(
      () => setCopied('Copied to the clipboard.'),
      () => setCopied('Copying is not allowed here: select the key and copy it by hand.'),
    );
  };
  return (
    <div className="recovery" role="region" aria-labelledby="recovery-heading">
      <h3 id="recovery-heading">Your recovery key</h3>
      <p>
        This is the only way back into your vault if the password is forgotten.{' '}
        <strong>It is shown only this once.</strong> Print it or write it down, and keep it
        somewhere safe away from this computer.
      </p>
      <output className="key" data-testid="recovery-key" aria-label="Recovery key">
        {recoveryKey}
      </output>
      <div className="actions">
        <button type="button" onClick={copy}>
          Copy
        </button>
        <button type="button" onClick={() => window.print()}>
          Print…
        </button>
        <span role="status">{copied}</span>
      </div>
      <label className="check">
        <input type="checkbox" checked={stored} onChange={(e) => setStored(e.target.checked)} />I
        have stored the recovery key somewhere safe
      </label>
      <div className="actions">
        <button
          type="button"
          className="primary"
          disabled={!stored}
          onClick={() => {
            onDone();
            go('library');
          }}
        >
          Continue to the library
        </button>
      </div>
    </div>
  );
}

function UnlockVault() {
  const { unlock } = useVaultActions();
  const go = useUiStore((s) => s.go);
  const [useKey, setUseKey] = useState(false);
  const [secret, setSecret] = useState('');
  const id = useId();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!secret) return;
    // mutateAsync: mutate's own callbacks would be dropped when this form gives way to
    // the unlocked view, which can happen before they run.
    unlock.mutateAsync(useKey ? { recoveryKey: secret.trim() } : { password: secret }).then(
      () => go('library'),
      () => {}, // shown from unlock.error
    );
  };

  return (
    <form onSubmit={submit} className="form" aria-label="Unlock the vault">
      <p>The vault is locked. Unlock it to see your library and run jobs.</p>
      <div className="field">
        <label htmlFor={id}>{useKey ? 'Recovery key' : 'Password'}</label>
        <input
          id={id}
          type={useKey ? 'text' : 'password'}
          autoComplete={useKey ? 'off' : 'current-password'}
          spellCheck={false}
          value={secret}
          onChange={(e) => setSecret(e.target.value)}
          aria-invalid={unlock.isError}
          required
        />
      </div>
      {unlock.isError && (
        <p role="alert" className="error">
          {errorText(unlock.error)}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={unlock.isPending || !secret}>
          {unlock.isPending ? 'Unlocking…' : 'Unlock'}
        </button>
        <button
          type="button"
          className="link"
          onClick={() => {
            setUseKey(!useKey);
            setSecret('');
            unlock.reset();
          }}
        >
          {useKey ? 'Use the password instead' : 'Use the recovery key instead'}
        </button>
      </div>
    </form>
  );
}

function Unlocked({ dir }: { dir: string }) {
  return (
    <div>
      <p data-testid="vault-state">
        The vault is <strong>unlocked</strong>. Lock it when you step away; the password or the
        recovery key opens it again.
      </p>
      <p className="path">{dir}</p>
      <LockVault />
    </div>
  );
}
