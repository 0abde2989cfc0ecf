// TEST ONLY. A plain `UpstreamFetch` over undici for fixture origins on loopback: it
// follows redirects and honours the timeouts and TLS flag, but makes NO address checks
// (it reaches 127.0.0.1 on purpose). Production uses createUpstreamFetch from
// engine/src/proxy/upstream-fetch.ts.

import { Agent, request, type Dispatcher } from 'undici';
import type { UpstreamFetch, UpstreamRequest } from '../proxy/upstream-types';

const MAX_REDIRECTS = 5;

export interface TestFetch extends UpstreamFetch {
  /** Every request it was asked to make, for assertions on headers and URLs. */
  readonly seen: UpstreamRequest[];
  close(): Promise<void>;
}

export function testUpstreamFetch(): TestFetch {
  const agents = new Map<string, Agent>();
  const seen: UpstreamRequest[] = [];
  const agentFor = (req: UpstreamRequest): Agent => {
    const key = `${req.verifyTls !== false}:${req.timeouts?.connectMs ?? ''}`;
    let agent = agents.get(key);
    if (!agent) {
      agent = new Agent({
        connect: { rejectUnauthorized: req.verifyTls !== false, timeout: req.timeouts?.connectMs },
      });
      agents.set(key, agent);
    }
    return agent;
  };
  const fetcher = async (req: UpstreamRequest) => {
    seen.push(req);
    let url = req.url;
    for (let hop = 0; ; hop++) {
      const res: Dispatcher.ResponseData = await request(url, {
        method: req.method,
        headers: req.headers,
        signal: req.signal,
        dispatcher: agentFor(req),
        headersTimeout: req.timeouts?.requestMs,
        bodyTimeout: req.timeouts?.readMs,
      });
      const location = res.headers.location;
      if (res.statusCode >= 300 && res.statusCode < 400 && typeof location === 'string') {
        res.body.on('error', () => undefined);
        res.body.destroy();
        if (hop >= MAX_REDIRECTS) throw new Error('too many redirects');
        url = new URL(location, url);
        continue;
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      return { url, status: res.statusCode, headers, body: res.body };
    }
  };
  return Object.assign(fetcher, {
    seen,
    close: async () => {
      await Promise.all([...agents.values()].map((a) => a.close()));
    },
  });
}
