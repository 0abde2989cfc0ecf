// What the hardened server's route plugins share: the server's parts (ServeContext), who
// the caller is once the guard (guard.ts) has verified them, and who may see what.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../../audit/audit';
import { KeepsakeError } from '../../core/errors';
import type { JobEngine } from '../../jobs/job-engine';
import type { JobSnapshot } from '../../jobs/queue';
import type { Health, JobView } from '../../net/contract';
import type { IssuedCredential } from '../../net/credentials';
import type { PairRequest } from '../../net/pairing';
import type { PoolCoordinator } from '../../pool/coordinator';
import type { JobKeyStore } from '../job-keys';
import { jobView } from '../job-view';
import type { ServeMetrics } from '../metrics';
import type { AuthGate, Caller } from '../serve-auth';
import type { ServeConfig } from '../serve-config';
import type { Upload, UploadStore } from '../uploads';

export interface ServeContext {
  config: ServeConfig;
  engine: JobEngine;
  uploads: UploadStore;
  jobKeys: JobKeyStore;
  gate: AuthGate;
  audit: AuditLog;
  metrics: ServeMetrics;
  health: () => Promise<Health>;
  tls: { key: string; cert: string };
  /** Redeems a one-time pairing code (see net/pairing.ts). */
  pair: (request: PairRequest) => IssuedCredential & { proof: string };
  logError: (err: unknown) => void;
  /** The pool of encoding workers this server coordinates (pool/coordinator.ts). */
  pool?: PoolCoordinator;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Scopes the caller needs; absent on public routes. */
    scopes?: readonly string[];
    /** The route verifies the signature itself (streamed bodies). */
    streamAuth?: boolean;
  }
  interface FastifyRequest {
    /** Who signed the request, once the hardened server has verified it. */
    caller: Caller | null;
    /**
     * The client's address (see AuthGate.address), taken when the request arrives: by
     * the time a refused upload is answered, its socket may already be gone.
     */
    clientAddress: string;
    /** Who the headers of a request with a body claim to be, before the body proves it. */
    claimed: { clientId: string; role: Caller['role'] } | null;
  }
  interface FastifyInstance {
    /**
     * Spends one request of the verified caller's budget (guard.ts); RATE_LIMITED with
     * Retry-After once it is spent. Routes that verify their own signature call it.
     */
    spendCredentialBudget(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  }
}

export function callerOf(request: FastifyRequest): Caller {
  const caller = request.caller;
  if (!caller) throw new KeepsakeError('INTERNAL', 'route reached without authentication');
  return caller;
}

/** A client sees its own jobs and uploads; admins and viewers see all. */
export function mayAccess(caller: Pick<Caller, 'role' | 'clientId'>, owner: string | undefined) {
  return caller.role === 'admin' || caller.role === 'viewer' || owner === caller.clientId;
}

/** Lookups that answer "not found" for what the caller may not see, and the audit entry. */
export interface Access {
  ownJob(request: FastifyRequest, id: string): Promise<JobSnapshot>;
  ownUpload(request: FastifyRequest, id: string): Upload;
  /** The job as clients see it (waiting for keys while queued without them). */
  view(job: JobSnapshot): JobView;
  /** An audit entry for a change the caller made. */
  record(request: FastifyRequest, action: string, target?: string, detail?: string): void;
}

export function createAccess(ctx: ServeContext): Access {
  const { engine, uploads, jobKeys, audit } = ctx;
  return {
    async ownJob(request, id) {
      const job = await engine.queue.get(id);
      if (!mayAccess(callerOf(request), job.options.submittedBy)) {
        throw new KeepsakeError('JOB_NOT_FOUND', `no job "${id}"`);
      }
      return job;
    },
    ownUpload(request, id) {
      const upload = uploads.get(id);
      if (!mayAccess(callerOf(request), upload.clientId)) {
        throw new KeepsakeError('NOT_FOUND', `no upload "${id}"`);
      }
      return upload;
    },
    view: (job) => jobView(job, job.state === 'queued' && !jobKeys.has(job.id)),
    record: (request, action, target, detail) =>
      audit.append({
        actor: request.caller?.name,
        address: request.clientAddress,
        action,
        target,
        outcome: 'ok',
        detail,
      }),
  };
}

/** What every route plugin of the server is given. */
export interface ServeRoutesOptions {
  ctx: ServeContext;
  access: Access;
}
