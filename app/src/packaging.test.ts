// Packaging cannot run here (no Electron binary), so electron-builder.yml is checked as
// data: valid against electron-builder's own schema, with the hardened fuses, the
// targets, native-module rebuild and the unpack rules the app depends on.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Ajv from 'ajv';
import picomatch from 'picomatch';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = new URL('../../', import.meta.url);
const config = parse(readFileSync(new URL('electron-builder.yml', root), 'utf8')) as Record<
  string,
  unknown
> & {
  electronFuses: Record<string, boolean>;
  asarUnpack: string[];
  files: string[];
  linux: { target: string[] };
  mac: { target: string };
  win: { target: string };
};

describe('electron-builder.yml', () => {
  it("is valid against electron-builder's configuration schema", () => {
    const require = createRequire(new URL('package.json', root));
    const schema = JSON.parse(
      readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8'),
    ) as object;
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    expect(validate(config), ajv.errorsText(validate.errors)).toBe(true);
  });

  it('flips the hardened fuses', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('builds AppImage and deb, dmg, and NSIS', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.mac.target).toBe('dmg');
    expect(config.win.target).toBe('nsis');
  });

  it('packs into app.asar, rebuilds native modules for Electron and unpacks what must run', () => {
    expect(config.asar).toBe(true);
    expect(config.npmRebuild).toBe(true);
    const unpacked = picomatch(config.asarUnpack, { dot: true });
    for (const path of [
      'node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      'node_modules/ffmpeg-static/ffmpeg',
      'node_modules/@ffmpeg-installer/linux-x64/ffmpeg',
      'node_modules/@ffprobe-installer/win32-x64/ffprobe.exe',
    ]) {
      expect(unpacked(path), path).toBe(true);
    }
    expect(unpacked('engine/dist/cli.mjs')).toBe(false);
    expect(unpacked('app/dist/main.js')).toBe(false);
  });

  it('ships what main.ts loads: main, preload, the engine entry and the UI', () => {
    const shipped = picomatch(config.files.filter((f) => !f.startsWith('!')));
    const excluded = picomatch(
      config.files.filter((f) => f.startsWith('!')).map((f) => f.slice(1)),
    );
    for (const path of [
      'app/dist/main.js',
      'app/dist/preload.js',
      'engine/bin/keepsake.mjs',
      'engine/dist/cli.mjs',
      'renderer/dist/index.html',
    ]) {
      expect(shipped(path) && !excluded(path), path).toBe(true);
    }
    expect(shipped('app/src/main.ts') || shipped('engine/src/cli/main.ts')).toBe(false);
  });
});

describe('package.json', () => {
  it('never fetches the Electron binary on npm ci', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
      allowScripts: Record<string, boolean>;
      main: string;
    };
    expect(pkg.allowScripts.electron).toBe(false);
    expect(pkg.main).toBe('app/dist/main.js');
  });

  it("depends on the engine workspace, so packaging ships the engine's own dependencies", () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const engine = JSON.parse(readFileSync(new URL('engine/package.json', root), 'utf8')) as {
      version: string;
    };
    // electron-builder copies the production dependency tree of the root package only;
    // the engine runs from engine/dist with fastify, better-sqlite3… as external modules.
    expect(pkg.dependencies['@keepsake/engine']).toBe(engine.version);
  });
});
