// Lint rules, including the import boundaries from DESIGN.md:
// engine/ never imports app/, renderer/ or Electron; renderer/ imports engine types only.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import boundaries from 'eslint-plugin-boundaries';

// The engine's layers, lowest first (ARCHITECTURE.md). A file may import its own layer and
// the layers below it, never one above: what a higher layer needs from a lower one's caller
// is passed in (the job engine gets remote execution as a function, for example).
// Tests and the test helpers sit outside the layers: they may reach anything.
const engineLayers = [
  ['core', ['core', 'fs']],
  ['vault', ['vault']],
  ['media', ['ffmpeg', 'presets']],
  ['jobs', ['jobs']],
  ['net', ['net']],
  ['services', ['library', 'batch', 'remote', 'proxy', 'audit', 'session', 'tape', 'pool']],
  ['http', ['http']],
  ['entry', ['cli', 'desktop', 'serve', 'index.ts']],
];

const uiOnly = ['react', 'react-dom', 'react-dom/*', 'zustand', '@tanstack/*', 'hls.js'];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'test-results/**',
      'playwright-report/**',
      'e2e/artifacts/**',
      'bench/out/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Rules that need the types: the TypeScript sources are linted against tsconfig.json.
    // A promise nobody awaits, or handed where a void callback is expected, loses its
    // rejection; the others catch mistakes the types already see. Chosen because they cost
    // nothing today: each had no finding, or a trivial one, when it was turned on.
    files: ['**/*.{ts,tsx}'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-exports': 'error',
      '@typescript-eslint/no-array-delete': 'error',
      '@typescript-eslint/no-duplicate-type-constituents': 'error',
      '@typescript-eslint/no-for-in-array': 'error',
      '@typescript-eslint/no-implied-eval': 'error',
      '@typescript-eslint/no-mixed-enums': 'error',
      '@typescript-eslint/no-redundant-type-constituents': 'error',
      '@typescript-eslint/no-unnecessary-type-arguments': 'error',
      '@typescript-eslint/no-unsafe-enum-comparison': 'error',
      '@typescript-eslint/no-unsafe-unary-minus': 'error',
      '@typescript-eslint/prefer-find': 'error',
      '@typescript-eslint/prefer-reduce-type-parameter': 'error',
      '@typescript-eslint/related-getter-setter-pairs': 'error',
      '@typescript-eslint/restrict-plus-operands': 'error',
      '@typescript-eslint/restrict-template-expressions': 'error',
    },
  },
  {
    files: ['engine/**/*.{ts,mjs,js}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/app/**', '**/renderer/**', 'electron', 'electron/*', ...uiOnly],
              message:
                'engine/ runs headless: it must not import app/, renderer/, Electron or UI packages.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['engine/src/**/*.ts'],
    ignores: ['engine/src/**/*.test.ts', 'engine/src/testing/**'],
    plugins: { boundaries },
    settings: {
      'import/resolver': { node: { extensions: ['.ts', '.mjs', '.js'] } },
      'boundaries/include': ['engine/src/**/*.ts'],
      'boundaries/dependency-nodes': ['import', 'export', 'dynamic-import'],
      'boundaries/ignore': ['engine/src/**/*.test.ts', 'engine/src/testing/**'],
      'boundaries/elements': engineLayers.map(([type, folders]) => ({
        type,
        mode: 'full',
        pattern: folders.map((f) => (f.endsWith('.ts') ? `engine/src/${f}` : `engine/src/${f}/**`)),
      })),
    },
    rules: {
      'boundaries/no-unknown-files': 'error',
      'boundaries/element-types': [
        'error',
        {
          default: 'disallow',
          message:
            '${file.type} may not import ${dependency.type}: a lower layer never imports a higher one (ARCHITECTURE.md)',
          rules: engineLayers.map(([type], i) => ({
            from: type,
            allow: engineLayers.slice(0, i + 1).map(([t]) => t),
          })),
        },
      ],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/engine/**', '@keepsake/engine', '@keepsake/engine/*'],
              allowTypeImports: true,
              message:
                'renderer/ talks to the engine over HTTP: import engine types only (import type).',
            },
            {
              group: ['**/app/**', '!**/app/src/preload', 'electron', 'electron/*', 'node:*'],
              message: 'renderer/ runs in a sandboxed page: no app/, Electron or Node imports.',
            },
            {
              // The preload bridge's shape (window.keepsake), as a type only.
              group: ['**/app/src/preload'],
              allowTypeImports: true,
              message: 'renderer/ may import only the type of the preload bridge.',
            },
          ],
        },
      ],
    },
  },
  {
    // Renderer unit tests run in Node (vitest), not in the page: they may start a real
    // node:http server to test the client against. Engine imports stay type-only.
    files: ['renderer/**/*.test.{ts,tsx}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/engine/**', '@keepsake/engine', '@keepsake/engine/*'],
              allowTypeImports: true,
              message:
                'renderer/ talks to the engine over HTTP: import engine types only (import type).',
            },
            {
              group: ['**/app/**', '!**/app/src/preload', 'electron', 'electron/*'],
              message: 'renderer/ runs in a sandboxed page: no app/ or Electron imports.',
            },
            {
              group: ['**/app/src/preload'],
              allowTypeImports: true,
              message: 'renderer/ may import only the type of the preload bridge.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['app/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/renderer/**', ...uiOnly],
              message: 'app/ is the thin Electron shell: it must not import renderer code.',
            },
            {
              group: ['**/engine/src/**'],
              message: 'app/ starts the engine as a child process; import only its public entry.',
            },
          ],
        },
      ],
    },
  },
);
