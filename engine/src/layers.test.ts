// The engine's layers (ARCHITECTURE.md) are enforced by ESLint, not by goodwill: these run
// the project's own lint configuration on small sources placed inside engine/src.
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
// The sources linted here are not files of the TypeScript project, so the type-aware
// rules (and the project service that feeds them) are left out; the layer rules need
// only the import paths.
const eslint = new ESLint({
  cwd: root,
  ruleFilter: ({ ruleId }) => ruleId.startsWith('boundaries/'),
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
});

async function layerErrors(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: `${root}engine/src/${file}` });
  // A parsing failure is reported too (ruleId null), so it cannot pass for "no error".
  return result!.messages
    .filter((m) => m.fatal || m.ruleId?.startsWith('boundaries/'))
    .map((m) => `${m.ruleId ?? 'fatal'}: ${m.message}`);
}

describe('engine layers', () => {
  it('refuses a lower layer importing a higher one', async () => {
    const errors = await layerErrors(
      'vault/wrong-way.ts',
      "import { openJobEngine } from '../jobs/job-engine';\nexport const x = openJobEngine;\n",
    );
    expect(errors).toEqual([
      expect.stringMatching(/^boundaries\/element-types: vault may not import jobs/),
    ]);
  });

  it('refuses a type-only import and a dynamic import against the grain too', async () => {
    const typeOnly = await layerErrors(
      'jobs/wrong-way.ts',
      "import type { Remote } from '../net/pair-client';\nexport type X = Remote;\n",
    );
    expect(typeOnly).toEqual([expect.stringMatching(/jobs may not import net/)]);
    const dynamic = await layerErrors(
      'jobs/wrong-way.ts',
      "export const load = () => import('../remote/remote-execute');\n",
    );
    expect(dynamic).toEqual([expect.stringMatching(/jobs may not import services/)]);
  });

  it('allows a higher layer to import a lower one', async () => {
    const errors = await layerErrors(
      'http/right-way.ts',
      "import { KeepsakeError } from '../core/errors';\nimport { openJobEngine } from '../jobs/job-engine';\nexport const x = [KeepsakeError, openJobEngine];\n",
    );
    expect(errors).toEqual([]);
  });

  it('refuses a file in a folder that belongs to no layer', async () => {
    const errors = await layerErrors('misc/stray.ts', 'export const x = 1;\n');
    expect(errors).toEqual([expect.stringMatching(/^boundaries\/no-unknown-files/)]);
  });
});
