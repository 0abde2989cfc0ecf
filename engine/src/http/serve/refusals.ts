// Every refusal (bad input as much as a bad signature) and every failure of the hardened
// server goes to the audit log; a flood from one address must not grow that append-only
// log without bound, so at most DENIALS_PER_MINUTE refusals per address and minute are
// written, then one entry saying how many were left out.

import type { FastifyRequest } from 'fastify';
import type { AuditLog } from '../../audit/audit';
import { ERROR_CODES, type ErrorCode } from '../../core/errors';

const DENIALS_PER_MINUTE = 60;

export function refusalAuditor(audit: AuditLog) {
  const denials = new Map<string, { minute: number; count: number }>();
  const withinBudget = (address: string): boolean => {
    const minute = Math.floor(Date.now() / 60_000);
    let entry = denials.get(address);
    if (!entry || entry.minute !== minute) {
      if (entry && entry.count > DENIALS_PER_MINUTE) {
        audit.append({
          address,
          action: 'denials',
          outcome: 'denied',
          detail: `${entry.count - DENIALS_PER_MINUTE} more refusals in that minute not logged`,
        });
      }
      if (denials.size > 10_000) denials.clear();
      entry = { minute, count: 0 };
      denials.set(address, entry);
    }
    entry.count += 1;
    return entry.count <= DENIALS_PER_MINUTE;
  };

  return (request: FastifyRequest, body: { code: ErrorCode; message: string }): void => {
    const status = ERROR_CODES[body.code].status;
    if (status < 500 && !withinBudget(request.clientAddress)) return;
    audit.append({
      // A refused caller's claimed id is recorded as a claim, not as who they are.
      actor:
        request.caller?.name ??
        `unverified:${String(request.headers['x-dffmpeg-client-id'] ?? '').slice(0, 64)}`,
      address: request.clientAddress,
      action: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
      outcome: status < 500 ? 'denied' : 'error',
      detail: `${body.code}: ${body.message}`,
    });
  };
}
