// What the engine is: its version, the FFmpeg it uses, where it keeps its data. Settings
// shows it as "About this Keepsake"; StatusPanel is the fuller panel the app shows beside
// its screens only when something is wrong: FFmpeg missing, or (alone) when the engine
// cannot be reached or the token is wrong.
import { useId } from 'react';
import { useClient } from './client-context';
import type { EngineClient } from './engine-client';
import { useEngineStatus } from './queries';
import { describeFfmpeg, describeLoadError } from './status-text';
import { useUiStore } from './ui-store';

export function StatusPanel({ client }: { client: EngineClient }) {
  const status = useEngineStatus(client);
  const autoRefresh = useUiStore((s) => s.autoRefresh);
  const setAutoRefresh = useUiStore((s) => s.setAutoRefresh);
  const ids = { heading: useId(), ffmpeg: useId(), vault: useId(), data: useId(), ver: useId() };

  return (
    <section className="panel" aria-labelledby={ids.heading} aria-busy={status.isFetching}>
      <h2 id={ids.heading}>Engine status</h2>

      {status.isPending && <p role="status">Checking the engine…</p>}
      {status.isError && (
        <p role="alert" className="error">
          {describeLoadError(status.error)}
        </p>
      )}

      {status.data && (
        <dl className="facts">
          <dt id={ids.ffmpeg}>FFmpeg</dt>
          <dd
            aria-labelledby={ids.ffmpeg}
            className={describeFfmpeg(status.data.ffmpeg).ok ? '' : 'error'}
          >
            {describeFfmpeg(status.data.ffmpeg).text}
          </dd>

          <dt id={ids.vault}>Vault</dt>
          <dd aria-labelledby={ids.vault}>
            {status.data.vault.exists ? 'Vault present' : 'No vault yet'}
            <span className="path">{status.data.vault.dir}</span>
          </dd>

          <dt id={ids.data}>Data folder</dt>
          <dd aria-labelledby={ids.data}>
            <span className="path">{status.data.dataDir}</span>
          </dd>

          <dt id={ids.ver}>Engine version</dt>
          <dd aria-labelledby={ids.ver}>{status.data.version}</dd>
        </dl>
      )}

      <div className="actions">
        <button type="button" onClick={() => void status.refetch()} disabled={status.isFetching}>
          Check again
        </button>
        <label>
          <input
            type="checkbox"
            checked={autoRefresh}
            onChange={(e) => setAutoRefresh(e.target.checked)}
          />
          Refresh automatically
        </label>
      </div>
    </section>
  );
}

/** Settings' "About this Keepsake": the engine's version, its FFmpeg and data folder. */
export function AboutKeepsake() {
  const status = useEngineStatus(useClient());
  const ids = { heading: useId(), ver: useId(), ffmpeg: useId(), data: useId() };
  const ffmpeg = status.data && describeFfmpeg(status.data.ffmpeg);
  return (
    <section className="about" aria-labelledby={ids.heading} aria-busy={status.isFetching}>
      <h3 id={ids.heading}>About this Keepsake</h3>
      {status.isPending && <p role="status">Asking the engine…</p>}
      {status.isError && (
        <p role="alert" className="error">
          {describeLoadError(status.error)}
        </p>
      )}
      {status.data && ffmpeg && (
        <dl className="facts">
          <dt id={ids.ver}>Version</dt>
          <dd aria-labelledby={ids.ver}>Keepsake {status.data.version}</dd>

          <dt id={ids.ffmpeg}>FFmpeg</dt>
          <dd aria-labelledby={ids.ffmpeg} className={ffmpeg.ok ? '' : 'error'}>
            {ffmpeg.ok ? `${ffmpeg.text} (the program Keepsake makes copies with)` : ffmpeg.text}
          </dd>

          <dt id={ids.data}>Data folder</dt>
          <dd aria-labelledby={ids.data}>
            <span className="path">{status.data.dataDir}</span>
            <span className="muted small">
              Where Keepsake keeps the vault, the protected copies and everything it made.
            </span>
          </dd>
        </dl>
      )}
      <button type="button" onClick={() => void status.refetch()} disabled={status.isFetching}>
        Check again
      </button>
    </section>
  );
}
