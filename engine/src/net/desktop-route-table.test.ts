// The renderer cannot import the route table at run time (it takes engine types only), so
// renderer/src/api-routes.ts holds each route's method and path, generated from the table.
// This test fails when that file is stale, and writes it anew when run with -u after the
// path (before it, -u takes the path as its value and every test runs):
//   npx vitest run engine/src/net/desktop-route-table.test.ts -u
// The file is also typed against the table, so tsc fails on a stale one too.

import { describe, expect, it } from 'vitest';
import { DESKTOP_ROUTES } from './desktop-route-table';

function rendererRoutesModule(): string {
  const lines = Object.entries(DESKTOP_ROUTES).map(
    ([name, r]) => `  ${name}: ['${r.method}', '${r.url}'],`,
  );
  return [
    '// Generated from engine/src/net/desktop-route-table.ts by its test',
    '// (`npx vitest run engine/src/net/desktop-route-table.test.ts -u`): edit the table, not this.',
    "import type { DesktopRouteLines } from '../../engine/src/net/desktop-route-table';",
    '',
    '/** Each desktop API route: its method and path, `:name` standing for a parameter. */',
    'export const API_ROUTES = {',
    ...lines,
    '} as const satisfies DesktopRouteLines;',
    '',
  ].join('\n');
}

describe('the desktop route table', () => {
  it('is what renderer/src/api-routes.ts holds', async () => {
    await expect(rendererRoutesModule()).toMatchFileSnapshot('../../../renderer/src/api-routes.ts');
  });

  it('names each method and path once', () => {
    const keys = Object.values(DESKTOP_ROUTES).map((r) => `${r.method} ${r.url}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
