// The headless server's commands: serve, validate, user management and the KEK.

import type { Command } from 'commander';
import { resolveDataDir } from '../core/data-dir';
import { KeepsakeError, fromFsError } from '../core/errors';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { shortFingerprint } from '../net/fingerprint';
import { globals, output, type GlobalOptions } from './context';
import { tuneGarbageCollector } from './gc-tuning';
import type { ServeConfig } from './server-runtime';
import type { JsonLog } from '../core/json-log';

const runtime = () => import('./server-runtime');

// Loaded with the first line: the short commands never pay for the logger.
let jsonLog: Promise<JsonLog> | undefined;

/** One JSON object per line on stdout (core/json-log.ts: pino, secrets redacted). */
async function log(
  level: 'info' | 'warn' | 'error',
  msg: string,
  fields: Record<string, unknown> = {},
) {
  jsonLog ??= import('../core/json-log').then((m) => m.createJsonLog());
  (await jsonLog)[level](fields, msg);
}

async function configWithFlags(
  file: string | undefined,
  flags: { host?: string; port?: string },
): Promise<ServeConfig> {
  const config = await (await runtime()).readServeConfig(file);
  if (flags.host !== undefined) config.host = flags.host;
  if (flags.port !== undefined) {
    const port = Number(flags.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new KeepsakeError(
        'USAGE',
        `--port must be a number from 0 to 65535, not "${flags.port}"`,
      );
    }
    config.port = port;
  }
  return config;
}

function dataDirFor(g: GlobalOptions, config: ServeConfig): string {
  return g.dataDir ? resolveDataDir(g.dataDir) : (config.dataDir ?? resolveDataDir(undefined));
}

async function credentialStore(g: GlobalOptions, configFile: string | undefined) {
  const { readServeConfig, openDatabase, databasePath, loadKek, CredentialStore } = await runtime();
  const config = await readServeConfig(configFile);
  const db = openDatabase(databasePath(dataDirFor(g, config)));
  try {
    const { kek } = await loadKek({ file: config.kekFile });
    return { store: new CredentialStore(db, kek), db };
  } catch (err) {
    db.close();
    throw err;
  }
}

export function registerServerCommands(program: Command): void {
  program
    .command('serve')
    .description(
      'run the hardened server: HTTPS with its own CA, signed clients (prints URL and CA fingerprint)',
    )
    .option('-c, --config <file>', 'configuration file (JSON); flags override it')
    .option('--host <host>', 'address to listen on')
    .option('--port <port>', 'port to listen on (0: any free port)')
    .action(async (opts: { config?: string; host?: string; port?: string }, cmd: Command) => {
      const g = globals(cmd);
      const config = await configWithFlags(opts.config, opts);
      const dataDir = dataDirFor(g, config);
      tuneGarbageCollector();
      const { startServe } = await runtime();
      const server = await startServe({
        config,
        dataDir,
        logError: (err) => void log('error', err instanceof Error ? err.message : String(err)),
      });
      await log('info', 'listening', {
        url: server.url,
        caFingerprint: server.caFingerprint,
        dataDir,
      });
      process.stderr.write(
        `Keepsake server at ${server.url}\nCA fingerprint (SHA-256): ${server.caFingerprint}\nShort form, to compare by eye: ${shortFingerprint(server.caFingerprint)}\n`,
      );
      // SIGHUP: new settings, or the old ones kept when the new ones are invalid.
      const onHup = () => {
        configWithFlags(opts.config, opts)
          .then((next) => server.reload(next))
          .then(() => log('info', 'configuration reloaded', { url: server.url }))
          .catch((err: unknown) =>
            log('error', 'configuration reload refused; the previous one stays in force', {
              reason: err instanceof Error ? err.message : String(err),
            }),
          );
      };
      process.on('SIGHUP', onHup);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      process.off('SIGHUP', onHup);
      await log('info', 'stopping');
      await server.close();
    });

  program
    .command('proxy')
    .description(
      'run the host-routed stream proxy on loopback, or beyond it with "tls" in the routes file (docs/stream-proxy-routes.md); SIGHUP reloads the routes',
    )
    .requiredOption('--routes <file>', 'the routes file (YAML)')
    .option(
      '--host <host>',
      'address to listen on (loopback unless the routes file has "tls")',
      '127.0.0.1',
    )
    .option('--port <port>', 'port to listen on (0: any free port)', '8089')
    .action(async (opts: { routes: string; host: string; port: string }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new KeepsakeError('USAGE', `--port "${opts.port}" is not a port number`);
      }
      tuneGarbageCollector();
      const { startProxyServer, reloadOnSignal } = await runtime();
      const proxy = await startProxyServer({
        routesFile: opts.routes,
        host: opts.host,
        port,
        logError: (err) => void log('error', err instanceof Error ? err.message : String(err)),
      });
      const routes = proxy.holder.current().routes.length;
      await log('info', 'listening', { url: proxy.url, routes });
      process.stderr.write(`Keepsake stream proxy at ${proxy.url} (${routes} routes)\n`);
      const stopReloading = reloadOnSignal(proxy.holder, (outcome) =>
        outcome.ok
          ? void log('info', 'routes reloaded', { routes: outcome.routes.routes.length })
          : void log('error', 'routes reload refused; the previous routes stay in force', {
              reason: outcome.reason,
            }),
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      stopReloading();
      await proxy.close();
    });

  program
    .command('validate')
    .description(
      'check a server configuration or a stream-proxy routes file without starting anything',
    )
    .option(
      '-c, --config <file>',
      'server configuration (JSON), or a routes file (.yaml/.yml, or a top-level "routes" list)',
    )
    .option('--routes <file>', 'stream-proxy routes file (YAML)')
    .action(async (opts: { config?: string; routes?: string }, cmd: Command) => {
      const g = globals(cmd);
      if (!opts.config && !opts.routes) {
        throw new KeepsakeError('USAGE', 'give the file to check: -c FILE or --routes FILE');
      }
      const {
        readServeConfig,
        readRoutesFile,
        isRoutesFile,
        redisSettings,
        pingRedis,
        parseUpstreamProxy,
      } = await runtime();
      const lines: string[] = [];
      const data: Record<string, unknown> = {};
      const routesFiles = [opts.routes];
      if (opts.config && (await isRoutesFile(opts.config))) routesFiles.push(opts.config);
      else if (opts.config) {
        const config = await readServeConfig(opts.config);
        lines.push(`${opts.config}: valid (listens on ${config.host}:${config.port})`);
        // The queue's Redis must answer: a server that names one does not start without it.
        const redis = await redisSettings(config);
        if (redis) {
          const { describeRedis } = await runtime();
          const ping = await pingRedis(redis);
          if (!ping.ok) {
            throw new KeepsakeError(
              'QUEUE_UNAVAILABLE',
              `${opts.config}: the queue's Redis at ${describeRedis(redis)} does not answer (${ping.problem})`,
            );
          }
          lines.push(`queue: Redis at ${describeRedis(redis)} answers (${ping.ms} ms)`);
          data.queue = { backend: 'redis', redis: describeRedis(redis), ms: ping.ms };
        }
        data.config = {
          ...config,
          ...(config.queue?.password ? { queue: { ...config.queue, password: '(hidden)' } } : {}),
          // Its label: the proxy's URL without the password (checked above, so it parses).
          ...(config.upstreamProxy
            ? { upstreamProxy: parseUpstreamProxy(config.upstreamProxy).label }
            : {}),
        };
      }
      for (const file of routesFiles) {
        if (!file) continue;
        const { routes } = await readRoutesFile(file);
        const summary = routes.map((r) => ({
          name: r.name,
          hosts: r.hosts,
          upstream: r.upstream.origin,
        }));
        lines.push(
          `${file}: valid (${routes.length} route${routes.length === 1 ? '' : 's'})` +
            summary.map((r) => `\n  ${r.name}: ${r.hosts.join(', ')} -> ${r.upstream}`).join(''),
        );
        data.routes = summary;
      }
      output(g, lines.join('\n'), data);
    });

  const user = program.command('user').description('manage the server’s client credentials');
  user
    .command('add <name>')
    .description('create a credential; prints its client id and key once')
    .requiredOption('--role <role>', 'admin | client | worker | viewer')
    .option('--cidr <cidr...>', 'only allow requests from these address ranges')
    .option('-c, --config <file>', 'server configuration file (for the data dir and KEK)')
    .action(
      async (
        name: string,
        opts: { role: string; cidr?: string[]; config?: string },
        cmd: Command,
      ) => {
        const g = globals(cmd);
        const { store, db } = await credentialStore(g, opts.config);
        try {
          const { parseRole } = await runtime();
          const issued = store.add(name, parseRole(opts.role), opts.cidr ?? []);
          if (g.json) process.stdout.write(JSON.stringify(issued) + '\n');
          else {
            process.stdout.write(
              `Created ${opts.role} credential "${name}".\nclient id: ${issued.clientId}\nkey:       ${issued.key}\nThe key is shown only now; store it safely.\n`,
            );
          }
        } finally {
          db.close();
        }
      },
    );
  user
    .command('list')
    .description('list credentials (never their keys)')
    .option('-c, --config <file>', 'server configuration file')
    .action(async (opts: { config?: string }, cmd: Command) => {
      const g = globals(cmd);
      const { store, db } = await credentialStore(g, opts.config);
      try {
        const list = store.list();
        const text = list
          .map(
            (c) =>
              `${c.clientId}  ${c.name.padEnd(20)} ${c.role.padEnd(7)} ${c.revokedAt ? 'revoked' : 'active'}  ${c.cidrs.join(',')}`,
          )
          .join('\n');
        output(g, text || 'No credentials.', { credentials: list });
      } finally {
        db.close();
      }
    });
  user
    .command('revoke <nameOrId>')
    .description('revoke a credential at once')
    .option('-c, --config <file>', 'server configuration file')
    .action(async (nameOrId: string, opts: { config?: string }, cmd: Command) => {
      const g = globals(cmd);
      const { store, db } = await credentialStore(g, opts.config);
      try {
        const c = store.revoke(nameOrId);
        output(g, `Revoked "${c.name}" (${c.clientId})`, { credential: c });
      } finally {
        db.close();
      }
    });

  program
    .command('pair')
    .description('print a one-time pairing code (10 minutes, single use) and the CA fingerprint')
    .option('--role <role>', 'role of the credential the code grants', 'client')
    .option('--ttl <seconds>', 'how long the code stays valid', '600')
    .option('-c, --config <file>', 'server configuration file')
    .action(async (opts: { role: string; ttl: string; config?: string }, cmd: Command) => {
      const g = globals(cmd);
      const {
        readServeConfig,
        ensureServerTls,
        createPairingCode,
        parseRole,
        openDatabase,
        databasePath,
        fingerprintOf,
        TLS_FILE_NAMES,
      } = await runtime();
      const config = await readServeConfig(opts.config);
      const dataDir = dataDirFor(g, config);
      const ttl = Number(opts.ttl);
      if (!Number.isInteger(ttl) || ttl < 30 || ttl > 86_400) {
        throw new KeepsakeError(
          'USAGE',
          '--ttl must be a whole number of seconds from 30 to 86400',
        );
      }
      // The CA's certificate is public: once `serve` has made it, pairing needs no KEK
      // (the service user, who runs this, cannot read the KEK outside the service).
      const caPath = join(dataDir, 'tls', TLS_FILE_NAMES.caCert);
      const caPem = await readFile(caPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw fromFsError(err, caPath, 'read');
      });
      let caFingerprint: string;
      if (caPem !== undefined) {
        caFingerprint = fingerprintOf(caPem);
      } else if (!opts.config) {
        // Run as oneself, `pair` would look in one's own data folder, not the service's,
        // and quietly make a second server identity there that no running server uses.
        throw new KeepsakeError(
          'USAGE',
          `no server runs with this data folder (${dataDir}): pass the running server's configuration (-c /etc/keepsake/serve.json) or its --data-dir, or start \`keepsake serve\` first`,
        );
      } else {
        // Pairing before the first start makes the CA, whose key is sealed under the KEK.
        const made = await credentialStore(g, opts.config);
        try {
          const tls = await ensureServerTls(join(dataDir, 'tls'), {
            hostnames: config.hostnames,
            addresses: config.addresses,
            sealer: made.store.sealer('tls'),
          });
          caFingerprint = tls.caFingerprint;
        } finally {
          made.db.close();
        }
      }
      const db = openDatabase(databasePath(dataDir));
      try {
        const { code, expiresAt } = createPairingCode(db, {
          role: parseRole(opts.role),
          ttlMs: ttl * 1000,
        });
        output(
          g,
          `Pairing code: ${code}  (valid until ${new Date(expiresAt).toLocaleTimeString()}, once)\nCA fingerprint (SHA-256): ${caFingerprint}\nShort form, to compare by eye: ${shortFingerprint(caFingerprint)}\nOn the desktop: keepsake remote add https://<this server>:${config.port} --code ${code}`,
          { code, expiresAt, caFingerprint, shortFingerprint: shortFingerprint(caFingerprint) },
        );
      } finally {
        db.close();
      }
    });

  const kek = program.command('kek').description('the key-encryption key that seals client keys');
  kek
    .command('generate <file>')
    .description('write a new random KEK (mode 0600; never overwrites)')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const id = await (await runtime()).generateKekFile(file);
      output(globals(cmd), `Wrote a new KEK to ${file} (id ${id})`, { file, kekId: id });
    });
  kek
    .command('rotate <newKekFile>')
    .description(
      're-seal the credential store and TLS keys under a new KEK (then point the server at it)',
    )
    .option('-c, --config <file>', 'server configuration file (names the current KEK)')
    .action(async (newKekFile: string, opts: { config?: string }, cmd: Command) => {
      const g = globals(cmd);
      const { store, db } = await credentialStore(g, opts.config);
      try {
        const next = (await runtime()).parseKek(await readFile(newKekFile), newKekFile);
        store.rotateKek(next);
        output(
          g,
          `The credential store is now sealed under ${newKekFile}; update kekFile and restart.`,
          {
            kekFile: newKekFile,
          },
        );
      } finally {
        db.close();
      }
    });
}
