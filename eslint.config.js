// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'models/**',
      'data/**',
      'benchmarks/results/**',
      'scripts/**',
      'eslint.config.js',
      '.tmp*/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver': { node: true } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': ['error', { maxDepth: 20 }],
      'import-x/no-default-export': 'error',
      'no-console': 'error',
    },
  },
  {
    // Issue 15: the control-flow modules stay small, one function per step (docs/decisions/harness-function-size.md).
    files: ['src/reindex/**/*.ts', 'src/optimize/**/*.ts', 'src/daemon/**/*.ts', 'src/jobs/**/*.ts'],
    rules: {
      'max-lines-per-function': [
        'error',
        { max: 80, skipBlankLines: false, skipComments: false, IIFEs: true },
      ],
    },
  },
  {
    // Stores behind ports (docs/architecture.md): better-sqlite3 and the SQLite adapter stay inside
    // src/store/ (pg inside src/store/postgres/); services import the ports in src/ports/. The composition
    // root (src/store/open.ts) wires the adapters; src/runtime/runtime.ts receives them as ports.
    files: ['src/**/*.ts', 'jobs/**/*.ts'],
    ignores: ['src/store/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'better-sqlite3',
              message:
                'better-sqlite3 is used only inside src/store/sqlite/ (issue 15): take a port from src/ports/.',
            },
            {
              name: 'pg',
              message: 'pg is used only inside src/store/postgres/ (issue 16): take a port from src/ports/.',
            },
          ],
          patterns: [
            {
              group: ['**/store/sqlite/*', '**/store/postgres/*'],
              message:
                'store adapters are wired only by the composition root (src/store/open.ts): take a port from src/ports/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/store/**/*.ts'],
    ignores: ['src/store/sqlite/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'better-sqlite3',
              message: 'better-sqlite3 is used only inside src/store/sqlite/ (issue 15).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/store/**/*.ts'],
    ignores: ['src/store/postgres/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'pg', message: 'pg is used only inside src/store/postgres/ (issue 16).' }] },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'benchmarks/**/*.ts', 'jobs/**/*.ts'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
    },
  },
);
