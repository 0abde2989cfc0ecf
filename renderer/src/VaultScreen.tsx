// Vault: create one (with a live strength meter that applies the engine's rule, and the
// recovery key shown once and checked back), unlock it with the password or the recovery
// key, lock it. Where an old vault's files are but its keyring is gone, it says how to
// restore instead of offering to start over.
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { ErrorMessage } from './ErrorMessage';
import { LockVault } from './LockVault';
import { NewPasswordFields, useNewPassword } from './NewPassword';
import { useVault, useVaultActions } from './queries';
import { KEY_GUARD_MESSAGE, RecoveryKeyStep, useLeaveGuard } from './RecoveryKeyStep';
import { useUiStore } from './ui-store';
import { useKeyActions, useVaultKeys } from './vault-key-queries';

export function VaultScreen() {
  const vault = useVault();
  const keys = useVaultKeys();
  const go = useUiStore((s) => s.go);
  // Held here, never in the query cache: shown once, then gone.
  const [recoveryKey, setRecoveryKey] = useState<string>();

  return (
    <section className="panel" aria-labelledby="vault-heading">
      <h2 id="vault-heading">Vault</h2>
      {vault.isPending && <p role="status">Checking the vault…</p>}
      {vault.isError && (
        <p role="alert" className="error">
          <ErrorMessage error={vault.error} />
        </p>
      )}
      {recoveryKey ? (
        <RecoveryKeyStep
          recoveryKey={recoveryKey}
          doneLabel="Finish and go to the library"
          onDone={() => {
            setRecoveryKey(undefined);
            go('library');
          }}
        />
      ) : vault.data && !vault.data.exists ? (
        keys.data?.needsRestore ? (
          <RestoreNeeded />
        ) : (
          <CreateVault onCreated={setRecoveryKey} />
        )
      ) : vault.data && !vault.data.unlocked ? (
        <UnlockVault />
      ) : vault.data && keys.data?.recoveryUnconfirmed ? (
        <UnconfirmedKey onMade={setRecoveryKey} />
      ) : vault.data ? (
        <Unlocked dir={vault.data.dir} />
      ) : null}
    </section>
  );
}

/** The keyring is gone but the vault's files are here: a new vault could never open them. */
function RestoreNeeded() {
  return (
    <div className="callout" role="alert" data-testid="restore-needed">
      <h3>Your vault needs to be restored, not created</h3>
      <p>
        This computer already has encrypted files from a Keepsake vault, but the vault’s key file (
        <code>keyring.json</code>) is missing. Making a new vault would lock those files away for
        good, so Keepsake will not do that here.
      </p>
      <p>
        To get them back you need your <strong>recovery key</strong> (the paper you wrote down when
        the vault was made) and a <strong>Keepsake backup</strong>, or a saved copy of the key file.
        With those, the command <code>keepsake vault restore BACKUP</code> puts the key file back
        and lets you choose a new password. Ask someone who knows computers to help if this is new
        to you.
      </p>
    </div>
  );
}

function CreateVault({ onCreated }: { onCreated: (key: string) => void }) {
  const { create } = useVaultActions();
  const pw = useNewPassword();
  const [touched, setTouched] = useState(false);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    void pw.check().then((ok) => {
      if (!ok) return;
      // mutateAsync, not mutate's callbacks: those are dropped if this form unmounts first,
      // and the recovery key must never be lost.
      create.mutateAsync(pw.password).then(
        (v) => onCreated(v.recoveryKey),
        () => {}, // shown from create.error
      );
    });
  };

  return (
    <form onSubmit={submit} className="form" aria-label="Create a vault" noValidate>
      <p>
        Your media is encrypted with a key only this vault holds. Choose a password you will
        remember: nobody, including us, can recover it for you. You will also get a recovery key.
      </p>
      <NewPasswordFields state={pw} touched={touched} />
      {touched && pw.problem && (
        <p className="field-error" role="alert">
          {pw.problem}
        </p>
      )}
      {create.isError && (
        <p role="alert" className="error">
          <ErrorMessage error={create.error} />
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

/**
 * A recovery key was shown but never checked back (the page was reloaded or closed
 * then): it cannot be shown again, so the user makes a new one before going on.
 */
function UnconfirmedKey({ onMade }: { onMade: (key: string) => void }) {
  useLeaveGuard(KEY_GUARD_MESSAGE);
  const { newRecoveryKey } = useKeyActions();
  return (
    <div className="callout" role="region" aria-labelledby="unconfirmed-heading">
      <h3 id="unconfirmed-heading">Your recovery key was not checked</h3>
      <p>
        A recovery key was shown earlier, but the page closed before it was checked. It cannot be
        shown again, so Keepsake will make a new one for you to write down. The earlier key stops
        working.
      </p>
      {newRecoveryKey.isError && (
        <p role="alert" className="error">
          <ErrorMessage error={newRecoveryKey.error} />
        </p>
      )}
      <div className="actions">
        <button
          type="button"
          className="primary"
          disabled={newRecoveryKey.isPending}
          onClick={() =>
            void newRecoveryKey.mutateAsync({}).then(
              (v) => onMade(v.recoveryKey),
              () => {}, // shown from .error
            )
          }
        >
          {newRecoveryKey.isPending ? 'Making a new key…' : 'Make a new recovery key'}
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
      () =>
        // After the recovery key, the first thing offered is a new password.
        useKey
          ? go(
              'settings',
              'You opened the vault with your recovery key. If you forgot the password, set a new one here.',
            )
          : go('library'),
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
          <ErrorMessage error={unlock.error} />
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
  const go = useUiStore((s) => s.go);
  return (
    <div>
      <p data-testid="vault-state">
        The vault is <strong>unlocked</strong>. Lock it when you step away; the password or the
        recovery key opens it again.
      </p>
      <p className="path">{dir}</p>
      <p>
        To change the password or make a new recovery key, go to{' '}
        <button type="button" className="link" onClick={() => go('settings')}>
          Settings
        </button>
        .
      </p>
      <LockVault />
    </div>
  );
}
