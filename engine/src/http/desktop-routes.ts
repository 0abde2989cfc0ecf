// The desktop engine's API (net/desktop-route-table.ts), registered by the embedded server
// behind its bearer token: vault, library (desktop-library-routes.ts), presets and jobs
// with live progress (desktop-job-routes.ts), paired
// servers, and the activity log. Every change is recorded in the activity log.

import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { DesktopSession } from '../session/session';
import { KeepsakeError } from '../core/errors';
// The one fingerprint form (net/fingerprint.ts): a typo'd fingerprint is refused as such.
import { normalizeFingerprint as normaliseFingerprint, shortFingerprint } from '../net/fingerprint';
import { getRemote, listRemotes, removeRemote, saveRemote } from '../remote/remotes';
import type { ServerView } from '../net/desktop-contract';
import { DESKTOP_ROUTES } from '../net/desktop-route-table';
import { activityEntries } from './activity-names';
import { clipRoutes } from './desktop-clip-routes';
import { tapeRoutes } from './desktop-tape-routes';
import { goalRoutes } from './desktop-goal-routes';
import { jobRoutes } from './desktop-job-routes';
import { itemRoutes } from './desktop-item-routes';
import { libraryRoutes } from './desktop-library-routes';

export interface DesktopRoutesOptions {
  session: DesktopSession;
  /** The per-launch secret behind `/play` capabilities (play.ts). */
  playSecret: Buffer;
  /** How often live job events look for changes. */
  eventsIntervalMs?: number;
}

export function desktopRoutes(options: DesktopRoutesOptions): FastifyPluginAsync {
  const { session } = options;

  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();
    await plain.register(libraryRoutes({ session }));
    await plain.register(itemRoutes(options));
    await plain.register(clipRoutes(options));
    await plain.register(tapeRoutes(options));
    await plain.register(jobRoutes(options));
    await plain.register(goalRoutes(options));

    // --- Vault --------------------------------------------------------------------------

    app.route({
      ...DESKTOP_ROUTES.vault,
      handler: async () => ({ ...(await session.state()), lockPending: session.lockPending() }),
    });

    app.route({
      ...DESKTOP_ROUTES.createVault,
      handler: async (request, reply) => {
        const recoveryKey = await session.create(request.body.password, {
          checkRecoveryKey: request.body.checkRecoveryKey,
        });
        return reply.code(201).send({ recoveryKey });
      },
    });

    app.route({
      ...DESKTOP_ROUTES.unlockVault,
      handler: async (request, reply) => {
        await session.unlock(request.body);
        return reply.code(204).send();
      },
    });

    // With jobs running, the caller says whether to wait for them or stop them
    // (JOBS_RUNNING otherwise); a wait answers 202 and locks when they are done.
    // The body is optional (a plain lock sends none): an absent one reads as `{}`, and a
    // wrong one is answered in the route's own words rather than the validator's.
    app.route({
      ...DESKTOP_ROUTES.lockVault,
      attachValidation: true,
      preValidation: async (request) => {
        request.body ??= {};
      },
      handler: async (request, reply) => {
        if (request.validationError) {
          throw new KeepsakeError('USAGE', 'the body may only say {"jobs": "wait" | "stop"}');
        }
        await session.lock({ jobs: request.body.jobs });
        return session.lockPending() ? reply.code(202).send() : reply.code(204).send();
      },
    });

    // --- Paired servers -----------------------------------------------------------------

    app.route({
      ...DESKTOP_ROUTES.previewServer,
      handler: async (request) => {
        const { fetchServerCa } = await import('../net/pair-client');
        const url = serverUrl(request.body.url);
        const { caFingerprint } = await fetchServerCa(url);
        return {
          url,
          fingerprint: caFingerprint,
          shortFingerprint: shortFingerprint(caFingerprint),
        };
      },
    });

    app.route({
      ...DESKTOP_ROUTES.pairServer,
      handler: async (request, reply) => {
        const vault = session.requireVault();
        const body = request.body;
        const url = serverUrl(body.url);
        if ((await listRemotes(session.dataDir)).some((r) => r.name === body.name)) {
          throw new KeepsakeError(
            'CREDENTIAL_EXISTS',
            `a server named "${body.name}" is already paired`,
          );
        }
        const { fetchServerCa, pairWithServer } = await import('../net/pair-client');
        const expected = normaliseFingerprint(body.fingerprint);
        // Checked before the code is spent, and again on what the pairing pinned.
        const seen = await fetchServerCa(url);
        if (normaliseFingerprint(seen.caFingerprint) !== expected) {
          session.record('server.pair', body.name, 'denied', 'fingerprint mismatch');
          throw new KeepsakeError(
            'SERVER_NOT_TRUSTED',
            'the server shows a different CA fingerprint than the one you compared; not paired',
          );
        }
        const paired = await pairWithServer(url, body.code, 'keepsake-desktop', body.name);
        if (normaliseFingerprint(paired.caFingerprint) !== expected) {
          throw new KeepsakeError('SERVER_NOT_TRUSTED', 'the server changed its CA while pairing');
        }
        await saveRemote(session.dataDir, vault, paired);
        session.record('server.pair', body.name, 'ok', url);
        return reply.code(201).send(await serverView(session, body.name));
      },
    });

    app.route({
      ...DESKTOP_ROUTES.servers,
      handler: async () => {
        session.requireVault();
        const remotes = await listRemotes(session.dataDir);
        return Promise.all(remotes.map((r) => serverView(session, r.name)));
      },
    });

    app.route({
      ...DESKTOP_ROUTES.unpairServer,
      handler: async (request, reply) => {
        await removeRemote(session.dataDir, request.params.name);
        session.record('server.unpair', request.params.name);
        return reply.code(204).send();
      },
    });

    // --- Activity -----------------------------------------------------------------------

    app.route({
      ...DESKTOP_ROUTES.activity,
      handler: async (request) =>
        // Newest first, as a log screen reads; each target named for people.
        activityEntries(session, session.activity.query({ limit: request.query.limit }).reverse()),
    });
  };
}

function serverUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new KeepsakeError('USAGE', `"${text}" is not a URL (e.g. https://nas.local:8443)`);
  }
  if (url.protocol !== 'https:') {
    throw new KeepsakeError('USAGE', 'a Keepsake server is reached over https://');
  }
  return url.origin;
}

async function serverView(session: DesktopSession, name: string): Promise<ServerView> {
  const remote = await getRemote(session.dataDir, session.requireVault(), name);
  const base = {
    name,
    url: remote.url,
    fingerprint: remote.caFingerprint,
    shortFingerprint: shortFingerprint(remote.caFingerprint),
    pairedAt: remote.pairedAt,
  };
  const { RemoteClient } = await import('../net/client');
  const client = new RemoteClient(remote);
  try {
    const health = await Promise.race([
      client.health(),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('no answer in 3 s')), 3000).unref(),
      ),
    ]);
    return {
      ...base,
      health: {
        status: health.status,
        reasons: health.reasons.map((r) => ({ severity: r.severity, message: r.message })),
        ...(health.workers
          ? {
              workers: health.workers.map((w) => ({
                name: w.name,
                silentSeconds: w.silentSeconds,
                running: w.running.length,
                slots: w.slots,
                chip: w.hardware.length > 0,
              })),
            }
          : {}),
      },
    };
  } catch (err) {
    return { ...base, health: { status: 'unreachable', message: (err as Error).message } };
  } finally {
    await client.close();
  }
}
