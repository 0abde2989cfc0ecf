// The engine code a benchmark times, bundled by esbuild as the engine ships it, to run in
// a process of its own (so its peak RSS is its own, not the benchmark's).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Bundles `contents` (TypeScript, imports relative to the repository) into `outfile`. */
export async function bundleRunner(
  contents: string,
  sourcefile: string,
  outfile: string,
): Promise<string> {
  await build({
    stdin: { contents, resolveDir: root, sourcefile, loader: 'ts' },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  return outfile;
}
