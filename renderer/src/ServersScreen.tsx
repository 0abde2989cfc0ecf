// Servers: pair a remote Keepsake server (URL → fingerprint to compare → one-time code),
// see each paired server's health and its helpers' load, unpair.
import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import type { ServerFingerprint, ServerView } from './engine-client';
import { ErrorMessage } from './ErrorMessage';
import { formatTime } from './format';
import { helpersSentence } from './server-workers';
import { useServerActions, useServers } from './queries';

const NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;

/** A default name from the URL's host: "nas.local" from https://nas.local:8443. */
export function nameFromUrl(url: string): string {
  try {
    return new URL(url).hostname
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 64);
  } catch {
    return '';
  }
}

export function ServersScreen() {
  const servers = useServers(true);
  return (
    <section className="panel" aria-labelledby="servers-heading">
      <h2 id="servers-heading">Servers</h2>
      <p className="muted">
        A paired server runs jobs on its own cores. It only ever receives encrypted files and the
        keys of the job at hand.
      </p>
      {servers.isPending && <p role="status">Loading servers…</p>}
      {servers.isError && (
        <p role="alert" className="error">
          <ErrorMessage error={servers.error} />
        </p>
      )}
      {servers.data?.length === 0 && <p className="empty">No servers paired yet.</p>}
      {servers.data && servers.data.length > 0 && (
        <ul className="servers" aria-label="Paired servers">
          {servers.data.map((s) => (
            <ServerCard key={s.name} server={s} />
          ))}
        </ul>
      )}
      <PairForm />
    </section>
  );
}

function ServerCard({ server }: { server: ServerView }) {
  const { unpair } = useServerActions();
  const [confirm, setConfirm] = useState(false);
  const health = server.health;
  const helpers = health.status === 'unreachable' ? undefined : helpersSentence(health.workers);
  return (
    <li className="server" aria-label={server.name}>
      <div className="job-top">
        <span className={`badge badge-health-${health.status}`} data-testid="server-health">
          {health.status === 'ok'
            ? 'Healthy'
            : health.status === 'degraded'
              ? 'Degraded'
              : health.status === 'failing'
                ? 'Failing'
                : 'Unreachable'}
        </span>
        <strong>{server.name}</strong>
        <span className="path">{server.url}</span>
      </div>
      {health.status === 'unreachable' ? (
        <p className="error">{health.message}</p>
      ) : (
        health.reasons.length > 0 && (
          <ul className="reasons">
            {health.reasons.map((r) => (
              <li key={r.message} className={r.severity === 'error' ? 'error' : ''}>
                {r.message}
              </li>
            ))}
          </ul>
        )
      )}
      {helpers && (
        <p className="helpers" data-testid="server-helpers">
          {helpers}
        </p>
      )}
      <p className="muted small">
        Fingerprint <code className="fingerprint">{server.shortFingerprint}</code>
        {server.pairedAt ? ` · paired ${formatTime(server.pairedAt)}` : ''}
      </p>
      <details className="muted small">
        <summary>Full fingerprint (SHA-256)</summary>
        <code className="fingerprint">{server.fingerprint}</code>
      </details>
      {unpair.isError && (
        <p className="error" role="alert">
          <ErrorMessage error={unpair.error} />
        </p>
      )}
      <div className="actions">
        {confirm ? (
          <>
            <span>Unpair {server.name}? Jobs can no longer run there.</span>
            <button type="button" className="danger" onClick={() => unpair.mutate(server.name)}>
              Unpair
            </button>
            <button type="button" onClick={() => setConfirm(false)}>
              Keep
            </button>
          </>
        ) : (
          <button type="button" onClick={() => setConfirm(true)}>
            Unpair…
          </button>
        )}
      </div>
    </li>
  );
}

function PairForm() {
  const { preview, pair } = useServerActions();
  const [url, setUrl] = useState('');
  const [checked, setChecked] = useState<ServerFingerprint>();
  const [name, setName] = useState('');
  const [code, setCode] = useState('');
  const [matches, setMatches] = useState(false);
  const ids = { url: useId(), name: useId(), code: useId() };

  const check = (e: FormEvent) => {
    e.preventDefault();
    if (!url.trim()) return;
    setChecked(undefined);
    setMatches(false);
    preview.mutate(url.trim(), {
      onSuccess: (fp) => {
        setChecked(fp);
        if (!name) setName(nameFromUrl(fp.url));
      },
    });
  };

  const nameOk = NAME_RE.test(name);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!checked || !matches || !nameOk || code.trim().length < 4) return;
    pair.mutate(
      { name, url: checked.url, code: code.trim(), fingerprint: checked.fingerprint },
      {
        onSuccess: () => {
          setUrl('');
          setChecked(undefined);
          setName('');
          setCode('');
          setMatches(false);
        },
      },
    );
  };

  return (
    <div className="pair" role="region" aria-labelledby="pair-heading">
      <h3 id="pair-heading">Pair a server</h3>
      <p className="muted">
        On the server, run <code>keepsake pair -c /etc/keepsake/serve.json</code> (or with the{' '}
        <code>--data-dir</code> the server runs with). It prints a one-time code, valid for ten
        minutes, and the server&rsquo;s fingerprint to compare with the one shown here.
      </p>
      <form onSubmit={check} className="inline-form" aria-label="Check a server">
        <label htmlFor={ids.url}>Server URL</label>
        <input
          id={ids.url}
          type="url"
          placeholder="https://nas.local:8443"
          spellCheck={false}
          value={url}
          onChange={(e) => {
            setUrl(e.target.value);
            setChecked(undefined);
          }}
        />
        <button type="submit" disabled={preview.isPending || !url.trim()}>
          {preview.isPending ? 'Contacting…' : 'Show its fingerprint'}
        </button>
      </form>
      {preview.isError && (
        <p role="alert" className="error">
          <ErrorMessage error={preview.error} />
        </p>
      )}
      {checked && (
        <form onSubmit={submit} className="form" aria-label="Pair with this server">
          <p>
            The server at <span className="path">{checked.url}</span> presents this fingerprint.
            Compare the six groups of digits with the &ldquo;short form&rdquo; that{' '}
            <code>keepsake pair</code> printed on the server:
          </p>
          <output className="key fingerprint short" data-testid="server-short-fingerprint">
            {checked.shortFingerprint}
          </output>
          <details className="small">
            <summary>The full fingerprint (SHA-256)</summary>
            <output className="key fingerprint" data-testid="server-fingerprint">
              {checked.fingerprint}
            </output>
          </details>
          <label className="check">
            <input
              type="checkbox"
              checked={matches}
              onChange={(e) => setMatches(e.target.checked)}
            />
            The fingerprints match
          </label>
          <div className="field">
            <label htmlFor={ids.name}>Name for this server</label>
            <input
              id={ids.name}
              value={name}
              onChange={(e) => setName(e.target.value)}
              aria-invalid={name !== '' && !nameOk}
            />
            {name !== '' && !nameOk && (
              <p className="field-error">Letters, digits, dots, dashes and underscores only.</p>
            )}
          </div>
          <div className="field">
            <label htmlFor={ids.code}>One-time pairing code</label>
            <input
              id={ids.code}
              value={code}
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => setCode(e.target.value)}
            />
          </div>
          {pair.isError && (
            <p role="alert" className="error">
              <ErrorMessage error={pair.error} />
            </p>
          )}
          <div className="actions">
            <button
              type="submit"
              className="primary"
              disabled={!matches || !nameOk || code.trim().length < 4 || pair.isPending}
            >
              {pair.isPending ? 'Pairing…' : 'Pair'}
            </button>
          </div>
        </form>
      )}
      {pair.isSuccess && <p role="status">Paired with {pair.data.name}.</p>}
    </div>
  );
}
