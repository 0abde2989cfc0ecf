// Reloading the routes: a good file replaces them, a bad one leaves the old in force and
// says why, and SIGHUP triggers it.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshDir } from '../testing/tmp';
import { loadRoutes, reloadOnSignal, type ReloadReport } from './routes-holder';

const routesFor = (host: string) => `routes:\n  - hosts: [${host}]\n    upstream: https://o.test\n`;

describe('routes holder', () => {
  it('keeps the old routes when the new file is bad, takes the new when good', async () => {
    const file = join(await freshDir(), 'routes.yaml');
    await writeFile(file, routesFor('one.test'));
    const holder = await loadRoutes(file);
    expect(holder.current().routes[0]!.hosts).toEqual(['one.test']);

    await writeFile(file, routesFor('two.test').replace('https://o.test', 'file:///etc'));
    await expect(holder.reload()).rejects.toThrow(/routes\[0\]\.upstream/);
    expect(holder.current().routes[0]!.hosts).toEqual(['one.test']);

    await writeFile(file, routesFor('two.test'));
    await holder.reload();
    expect(holder.current().routes[0]!.hosts).toEqual(['two.test']);
  });

  it('refuses to start from a bad file', async () => {
    const file = join(await freshDir(), 'routes.yaml');
    await writeFile(file, 'routes: {}\n');
    await expect(loadRoutes(file)).rejects.toThrow(/routes must be array/);
    await expect(loadRoutes(join(file, 'missing'))).rejects.toThrow(/cannot read/);
  });

  it('reloads on SIGHUP and reports the outcome', async () => {
    const file = join(await freshDir(), 'routes.yaml');
    await writeFile(file, routesFor('one.test'));
    const holder = await loadRoutes(file);
    const reports: ReloadReport[] = [];
    const next = () =>
      new Promise<ReloadReport>((resolve) => {
        const stop = reloadOnSignal(holder, (r) => {
          reports.push(r);
          stop();
          resolve(r);
        });
        process.emit('SIGHUP', 'SIGHUP');
      });

    await writeFile(file, 'routes: [\n');
    const refused = await next();
    expect(refused.ok).toBe(false);
    expect(refused.reason).toMatch(/not valid YAML/);
    expect(refused.routes.routes[0]!.hosts).toEqual(['one.test']);

    await writeFile(file, routesFor('two.test'));
    const taken = await next();
    expect(taken.ok).toBe(true);
    expect(holder.current().routes[0]!.hosts).toEqual(['two.test']);
    expect(process.listenerCount('SIGHUP')).toBe(0);
  });
});
