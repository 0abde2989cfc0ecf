// The recovery key, shown once, and the check that it was stored: the user types back
// two groups of it, chosen at random, from their written copy. Until then the page
// cannot be left: sidebar clicks stay here with a kind explanation, Escape does
// nothing, and a reload asks first (if it happens anyway, the engine still knows the
// key was never confirmed and the Vault screen makes a new one).
import { useEffect, useId, useMemo, useState } from 'react';
import type { FormEvent } from 'react';
import { ErrorMessage } from './ErrorMessage';
import { useUiStore } from './ui-store';
import { useKeyActions } from './vault-key-queries';

export const KEY_GUARD_MESSAGE =
  'Please finish storing your recovery key first. It is shown only this once, and it is ' +
  'the only way back in if the password is forgotten. Type back the two groups asked for ' +
  'to finish.';

/** Keeps the user on this screen while mounted (see ui-store's leaveGuard). */
export function useLeaveGuard(message: string) {
  const setLeaveGuard = useUiStore((s) => s.setLeaveGuard);
  useEffect(() => {
    setLeaveGuard(message);
    const beforeUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      // Older browsers and Electron need a value to ask.
      e.returnValue = message;
      return message;
    };
    const escape = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      e.stopPropagation();
      useUiStore.setState({ notice: message });
    };
    window.addEventListener('beforeunload', beforeUnload);
    window.addEventListener('keydown', escape, true);
    return () => {
      setLeaveGuard(undefined);
      // Its explanation is no longer true once the key is stored.
      if (useUiStore.getState().notice === message) useUiStore.getState().clearNotice();
      window.removeEventListener('beforeunload', beforeUnload);
      window.removeEventListener('keydown', escape, true);
    };
  }, [message, setLeaveGuard]);
}

/** Two different full groups of the key (after its KSRK prefix), at random. */
function pickGroups(count: number): [number, number] {
  const random = (n: number) => crypto.getRandomValues(new Uint32Array(1))[0]! % n;
  const first = random(count);
  let second = random(count - 1);
  if (second >= first) second += 1;
  return first < second ? [first, second] : [second, first];
}

export function RecoveryKeyStep({
  recoveryKey,
  onDone,
  doneLabel,
}: {
  recoveryKey: string;
  onDone: () => void;
  doneLabel: string;
}) {
  useLeaveGuard(KEY_GUARD_MESSAGE);
  const [step, setStep] = useState<'show' | 'check'>('show');
  const [copied, setCopied] = useState<string>();
  const groups = useMemo(() => recoveryKey.split('-').slice(1), [recoveryKey]);
  const full = groups.filter((g) => g.length === 4).length;
  const [asked, setAsked] = useState(() => pickGroups(full));
  const [typed, setTyped] = useState(['', '']);
  const [wrong, setWrong] = useState<number[]>([]);
  const { confirmRecoveryKey } = useKeyActions();
  const ids = [useId(), useId()];

  const copy = () => {
    navigator.clipboard.writeText(recoveryKey).then(
      () => setCopied('Copied. Paste it into a note you print, then delete that note.'),
      () => setCopied('Copying is not allowed here: write the key down by hand.'),
    );
  };

  const check = (e: FormEvent) => {
    e.preventDefault();
    const bad = asked
      .map((g, i) => (typed[i]!.replace(/\s/g, '').toUpperCase() === groups[g] ? -1 : i))
      .filter((i) => i >= 0);
    setWrong(bad);
    if (bad.length > 0) return;
    confirmRecoveryKey.mutateAsync().then(
      () => {
        // Lifted now, not at unmount: onDone may move to another screen straight away.
        useUiStore.getState().setLeaveGuard(undefined);
        onDone();
      },
      () => {}, // shown from .error
    );
  };

  if (step === 'show') {
    return (
      <div className="recovery" role="region" aria-labelledby="recovery-heading">
        <h3 id="recovery-heading">Your recovery key</h3>
        <p>
          This key opens your vault if the password is ever forgotten, and with a Keepsake backup it
          brings your files back on a new computer. <strong>It is shown only this once.</strong>{' '}
          Write it on paper or print it, and keep it somewhere safe away from this computer.
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
        <div className="actions">
          <button
            type="button"
            className="primary"
            onClick={() => {
              setTyped(['', '']);
              setWrong([]);
              setStep('check');
            }}
          >
            I have written it down
          </button>
        </div>
      </div>
    );
  }

  return (
    <form className="recovery form" aria-labelledby="check-heading" onSubmit={check} noValidate>
      <h3 id="check-heading">Check your written copy</h3>
      <p>
        To make sure the key was written down correctly before it leaves the screen, fill in the two
        missing groups from your copy. Capital or small letters both work.
      </p>
      <p className="key key-check" aria-hidden="true">
        {['KSRK', ...groups.map((g, i) => (asked.includes(i) ? `[${i + 1}]` : '••••'))].join(' - ')}
      </p>
      {asked.map((g, i) => (
        <div className="field" key={g}>
          <label htmlFor={ids[i]}>
            Group {g + 1} (the box marked [{g + 1}])
          </label>
          <input
            id={ids[i]}
            className="group-input"
            value={typed[i]}
            onChange={(e) => setTyped(typed.map((t, j) => (j === i ? e.target.value : t)))}
            autoComplete="off"
            spellCheck={false}
            maxLength={8}
            aria-invalid={wrong.includes(i)}
          />
        </div>
      ))}
      {wrong.length > 0 && (
        <p role="alert" className="field-error">
          {wrong.length === 2
            ? 'Neither group matches'
            : `Group ${asked[wrong[0]!]! + 1} does not match`}{' '}
          the key. Look at your written copy again; if a letter is unclear, go back to the key and
          write it down once more.
        </p>
      )}
      {confirmRecoveryKey.isError && (
        <p role="alert" className="error">
          <ErrorMessage error={confirmRecoveryKey.error} />
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={confirmRecoveryKey.isPending}>
          {doneLabel}
        </button>
        <button
          type="button"
          className="link"
          onClick={() => {
            setAsked(pickGroups(full));
            setStep('show');
          }}
        >
          Show the key again
        </button>
      </div>
    </form>
  );
}
