// The routes in force: read at start, re-read on demand (SIGHUP). A file that no longer
// parses leaves the previous routes in force, and the reason is reported; a proxy never
// runs without routes because someone saved a typo.

import { readRoutesFile, type Routes } from './routes-config';

export interface RoutesHolder {
  readonly file: string;
  /** The routes in force now (cheap: call it per request). */
  current(): Routes;
  /** Re-reads the file; on error the old routes stay and the error is thrown. */
  reload(): Promise<Routes>;
}

export async function loadRoutes(file: string): Promise<RoutesHolder> {
  let routes = await readRoutesFile(file);
  // One reload at a time, so two quick signals cannot finish in the wrong order.
  let last: Promise<unknown> = Promise.resolve();
  return {
    file,
    current: () => routes,
    reload() {
      const next = last.then(async () => {
        routes = await readRoutesFile(file);
        return routes;
      });
      last = next.catch(() => undefined);
      return next;
    },
  };
}

export interface ReloadReport {
  ok: boolean;
  routes: Routes;
  /** Why the new file was refused (when not ok). */
  reason?: string;
}

/**
 * Reloads the routes whenever the process gets `signal` (SIGHUP by default) and reports
 * the outcome. Returns a function that stops listening.
 */
export function reloadOnSignal(
  holder: RoutesHolder,
  report: (outcome: ReloadReport) => void,
  signal: NodeJS.Signals = 'SIGHUP',
): () => void {
  const onSignal = () => {
    holder.reload().then(
      (routes) => report({ ok: true, routes }),
      (err: unknown) =>
        report({
          ok: false,
          routes: holder.current(),
          reason: err instanceof Error ? err.message : String(err),
        }),
    );
  };
  process.on(signal, onSignal);
  return () => {
    process.off(signal, onSignal);
  };
}
