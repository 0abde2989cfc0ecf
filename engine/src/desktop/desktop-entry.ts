// Desktop mode: the engine as the Electron app's child process (or `npm start` without a
// display). It prints exactly one line, the URL with the token in its fragment, which
// the parent reads to open its window; then it serves until told to stop.

import { randomBytes } from 'node:crypto';
import { configPath, readConfig } from '../core/config';
import { KeepsakeError } from '../core/errors';
import { DesktopSession, type SessionOptions } from '../session/session';
import { Allowlist } from '../proxy/allowlist';
import { KeyStore } from '../proxy/key-store';
import { keyRoutes } from '../proxy/key-routes';
import { opsRoutes } from '../proxy/ops-routes';
import { createProxyMetrics } from '../proxy/proxy-metrics';
import { proxyStreamRoutes } from '../proxy/stream-route';
import { createUpstreamFetch } from '../proxy/upstream-fetch';
import { parseUpstreamProxy, type UpstreamProxy } from '../proxy/upstream-proxy';
import { Registry } from 'prom-client';
import { loadAddress, newToken, saveAddress } from './desktop-address';
import { desktopRoutes } from '../http/desktop-routes';
import { desktopVaultRoutes } from '../http/desktop-vault-routes';
import { startEmbeddedServer } from '../http/embedded';
import type { EmbeddedServer, EmbeddedServerOptions } from '../http/embedded';
import { itemMediaRoutes } from '../http/item-media';
import { playRoutes } from '../http/play';
import { PlayCache, playCacheBytes } from '../http/play-cache';

export const READY_PREFIX = 'Keepsake is running at ';

export interface DesktopOptions {
  dataDir: string;
  /**
   * The port; 0 for any free one with a per-launch token (the desktop app). Absent:
   * browser mode, which keeps its last port (when free) and its token across restarts.
   */
  port?: number;
  /** Browser mode: make a new token (old tabs and bookmarks stop working). */
  newToken?: boolean;
  /** Where notes for the user go (a port that changed); stderr by default. */
  err?: NodeJS.WritableStream;
  staticDir?: string;
  ffmpeg?: EmbeddedServerOptions['ffmpeg'];
  /** Where the ready line goes. */
  out?: NodeJS.WritableStream;
  /** Tests: cheap key derivation, a private scratch, a fast worker. */
  session?: Omit<SessionOptions, 'dataDir'>;
}

export interface RunningDesktop extends EmbeddedServer {
  /** The URL the UI opens: origin + `#token=…` (fragments never reach a server log). */
  openUrl: string;
  /** Settles once the server has closed after a signal or the parent going away. */
  stopped: Promise<void>;
  session: DesktopSession;
}

export function formatReadyLine(url: string, token: string): string {
  return `${READY_PREFIX}${url}/#token=${token}`;
}

export async function runDesktop(opts: DesktopOptions): Promise<RunningDesktop> {
  const config = await readConfig(opts.dataDir);
  // Checked before anything is opened, so a bad setting leaves nothing to close.
  let allowlist: Allowlist;
  try {
    allowlist = new Allowlist(config.proxyAllow ?? []);
  } catch (err) {
    throw new KeepsakeError('USAGE', `setting "proxyAllow": ${(err as Error).message}`, {
      file: configPath(opts.dataDir),
    });
  }
  let upstreamProxy: UpstreamProxy | undefined;
  try {
    upstreamProxy = config.upstreamProxy ? parseUpstreamProxy(config.upstreamProxy) : undefined;
  } catch (err) {
    throw new KeepsakeError('USAGE', `setting "upstreamProxy": ${(err as Error).message}`, {
      file: configPath(opts.dataDir),
    });
  }
  const session = new DesktopSession({ dataDir: opts.dataDir, ...opts.session });
  const playSecret = randomBytes(32);
  const playCache = new PlayCache(playCacheBytes());
  session.onLock(() => playCache.clear());
  // The direct proxy fetches only what the settings allow (nothing by default).
  const proxyMetrics = createProxyMetrics(new Registry());
  const upstream = createUpstreamFetch({
    allowlist,
    events: proxyMetrics.upstreamEvents,
    ...(upstreamProxy ? { proxy: upstreamProxy } : {}),
  });
  // Browser mode keeps its address (desktop-address.ts); the app's `--port 0` does not.
  const remember = opts.port === undefined;
  const saved = remember ? await loadAddress(opts.dataDir) : undefined;
  if (saved && opts.newToken) saved.token = newToken();
  let server: EmbeddedServer;
  try {
    server = await startEmbeddedServer({
      dataDir: opts.dataDir,
      port: opts.port ?? saved?.port ?? 0,
      portFallback: remember,
      token: saved?.token,
      staticDir: opts.staticDir,
      ffmpeg: opts.ffmpeg,
      routes: async (app) => {
        await app.register(desktopRoutes({ session, playSecret }));
        await app.register(desktopVaultRoutes({ session }));
        await app.register(proxyStreamRoutes({ fetch: upstream, metrics: proxyMetrics }));
        await app.register(opsRoutes());
        // ClearKey keys, behind the bearer token like the rest; wiped when the engine stops.
        const keys = new KeyStore();
        app.addHook('onClose', async () => keys.close());
        await app.register(keyRoutes({ store: keys, anyContentType: true }));
      },
      play: playRoutes({
        job: (id) => session.requireEngine().queue.get(id),
        vault: () => session.currentVault(),
        secret: playSecret,
        cache: playCache,
      }),
      media: itemMediaRoutes({
        library: session.library,
        items: session.items,
        dataDir: opts.dataDir,
        vault: () => session.currentVault(),
        secret: playSecret,
        tapeAnalyses: session.tapeAnalyses,
      }),
    });
  } catch (err) {
    await session.close();
    await upstream.close();
    throw err;
  }
  if (saved) {
    try {
      await saveAddress(opts.dataDir, { port: server.port, token: server.token });
    } catch (err) {
      await server.close();
      await session.close();
      await upstream.close();
      throw err;
    }
    if (saved.port !== 0 && saved.port !== server.port) {
      (opts.err ?? process.stderr).write(
        `keepsake: port ${saved.port} is in use by another program, so Keepsake moved to port ${server.port}; open the new address below (old bookmarks and tabs will not reach it)\n`,
      );
    }
  }
  const openUrl = `${server.url}/#token=${server.token}`;
  (opts.out ?? process.stdout).write(`${READY_PREFIX}${openUrl}\n`);

  // The desktop app runs this in an Electron utility process (process.parentPort), where
  // Node does not exit when its event loop empties (electron/electron#47228): once
  // stopped, exit explicitly. Chromium ends a utility process whose app has gone, so
  // there is no lifeline to watch there, unlike the IPC channel below.
  const { parentPort } = process as { parentPort?: NodeJS.EventEmitter };
  const exitWhenStopped = parentPort !== undefined;
  let markStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (markStopped = resolve));
  let closing: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    if (closing) return closing;
    // The signal handlers stay installed: a late repeat must not kill the process
    // with a signal status while it is exiting normally.
    closing = server
      .close()
      .then(() => session.close())
      .then(() => upstream.close())
      .finally(() => {
        markStopped();
        // Once `stopped` has settled and the CLI has set its exit code.
        if (exitWhenStopped) setImmediate(() => process.exit());
      });
    return closing;
  };
  // Repeated signals are normal (a terminal's Ctrl-C reaches the whole process group,
  // and `npm start` forwards it too), so they do not cut the shutdown short; a shutdown
  // that hangs is ended by the watchdog instead.
  const onSignal = (): void => {
    if (closing) return;
    setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS).unref();
    void stop();
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  // In a utility process the app asks for a clean stop with a message, because
  // UtilityProcess.kill() is TerminateProcess on Windows, which no handler ever sees.
  parentPort?.on('message', (event: { data?: unknown }) => {
    if (event.data === STOP_MESSAGE) onSignal();
  });
  // Spawned by a Node parent with an IPC channel (the app's tests do this): exit when the
  // parent goes, even if it crashed, instead of lingering with an open port. The channel
  // itself must not keep the process alive once the server has closed.
  if (process.channel) {
    process.on('disconnect', onSignal);
    process.channel.unref();
  }

  return { ...server, openUrl, stopped, session, close: stop };
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** What the desktop app posts to ask the engine to stop (app/src/engine-utility.ts). */
const STOP_MESSAGE = 'keepsake:stop';
const SHUTDOWN_GRACE_MS = 10_000;
