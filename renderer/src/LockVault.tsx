// "Lock vault", which takes away the keys running jobs need. With jobs running the engine
// asks first (JOBS_RUNNING), and the family chooses in plain words: wait for them, or stop
// them (they go back in the queue and start again at the next unlock; nothing is lost).
// A lock that waits is shown until it happens, with a way to stop the jobs after all.
import { EngineError } from './engine-client';
import { ErrorMessage } from './ErrorMessage';
import { useVault, useVaultActions } from './queries';

export function LockVault() {
  const { lock } = useVaultActions();
  const vault = useVault();
  const pending = vault.data?.lockPending;
  const asked = lock.error instanceof EngineError && lock.error.code === 'JOBS_RUNNING';
  const running = pending?.running ?? runningFrom(lock.error);
  const them = running === 1 ? 'it' : 'them';

  if (pending) {
    return (
      <div className="confirm-box" role="status" data-testid="lock-pending">
        <p>
          Keepsake will lock the vault as soon as{' '}
          {running === 1 ? 'the running job finishes' : `the ${running} running jobs finish`}. No
          new job starts meanwhile.
        </p>
        <div className="actions">
          <button
            type="button"
            disabled={lock.isPending}
            onClick={() => lock.mutate({ jobs: 'stop' })}
          >
            Stop {them} and lock now
          </button>
        </div>
      </div>
    );
  }

  if (asked) {
    return (
      <div className="confirm-box" role="alertdialog" aria-labelledby="lock-question">
        <h4 id="lock-question">
          {running === 1 ? 'A job is running' : `${running} jobs are running`}
        </h4>
        <p>
          Locking takes away the keys {running === 1 ? 'it needs' : 'they need'}. You can wait until{' '}
          {running === 1 ? 'it is' : 'they are'} done (Keepsake locks by itself then), or stop{' '}
          {them} now:{' '}
          {running === 1
            ? 'it goes back in the queue and starts'
            : 'they go back in the queue and start'}{' '}
          again from the beginning when you next unlock. Nothing is lost either way.
        </p>
        <div className="actions">
          <button
            type="button"
            className="primary"
            disabled={lock.isPending}
            onClick={() => lock.mutate({ jobs: 'wait' })}
          >
            Wait, then lock
          </button>
          <button
            type="button"
            disabled={lock.isPending}
            onClick={() => lock.mutate({ jobs: 'stop' })}
          >
            Stop {them} and lock now
          </button>
          <button type="button" onClick={() => lock.reset()}>
            Keep working
          </button>
        </div>
      </div>
    );
  }

  return (
    <>
      {lock.isError && (
        <p role="alert" className="error">
          <ErrorMessage error={lock.error} />
        </p>
      )}
      <div className="actions">
        <button type="button" onClick={() => lock.mutate(undefined)} disabled={lock.isPending}>
          {lock.isPending ? 'Locking…' : 'Lock vault'}
        </button>
      </div>
    </>
  );
}

/** "2 jobs are running; …" → 2 (the engine's message starts with the count). */
function runningFrom(err: unknown): number {
  const n = err instanceof Error ? Number(/^(\d+) job/.exec(err.message)?.[1]) : NaN;
  return Number.isFinite(n) && n > 0 ? n : 1;
}
