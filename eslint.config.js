// ESLint flat config: typescript-eslint's recommended rules, no type-aware rules
// (tsc --noEmit is the type gate and keeps this fast), and the layer rules of
// docs/architecture.md ("Layers"): what each part of functions/ may import,
// and no circular imports anywhere in the product code.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const importX = require('eslint-plugin-import-x');

// DuckDB is the local stand-in for Athena: a 70 MB native module that must never be bundled into a Lambda.
const duckdbOnlyLocally = { group: ['@duckdb/*'], message: 'DuckDB is local-only (bin/local/, test/): Lambda code queries the lake through Athena.' };

module.exports = tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.data/', 'coverage/', 'web/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
    },
  },
  {
    files: ['functions/**/*.ts', 'lib/**/*.ts', 'bin/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [importX.createNodeResolver({ extensions: ['.ts', '.js', '.json'] })],
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    // `import { z } from 'zod'` is zod's namespace as one value: esbuild keeps all of it, every locale too
    // (a third of a handler's bundle). `import * as z from 'zod'` is tree-shaken member by member.
    files: ['functions/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[source.value='zod'][importKind!='type'] > :matches(ImportSpecifier[imported.name='z'][importKind!='type'], ImportDefaultSpecifier)",
          message: "import * as z from 'zod': the named (or default) z keeps all of zod, its locales too, in every bundle.",
        },
      ],
    },
  },
  {
    // The wiring and the CDK app build Lambdas: no local-only module.
    files: ['functions/*.ts', 'lib/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [duckdbOnlyLocally] }] },
  },
  {
    // The platform layer serves every context and knows none of them (nor the wiring, which lists them).
    files: ['functions/platform/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^\\.\\./', message: 'functions/platform/ imports no context and not the wiring: only ./ modules of the platform and packages.' }, duckdbOnlyLocally] },
      ],
    },
  },
  {
    // A context uses another only through its public domain functions, models, schemas and rules: never its
    // storage (store.ts) or its handlers.
    files: ['functions/*/*.ts'],
    ignores: ['functions/platform/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^\\.\\./[^/]+/(store|handlers/)', message: "another context's storage and handlers are its own: use its public domain functions." }, duckdbOnlyLocally] },
      ],
    },
  },
  {
    // A handler is six lines: the platform's httpHandler (or a consumer loop) and its own context's domain function.
    files: ['functions/*/handlers/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            // Not the wiring: it holds every context's routes and schemas, and a handler's bundle would carry them all.
            { regex: '^\\.\\./\\.\\./(?!platform/|events/(model|sqs-consumer)$)', message: "a handler calls its own context (../, its route from ../routes), the platform, and the event contracts and consumer loop only (not the wiring: every context's schemas would be in its bundle)." },
            { regex: '(^|/)store$', message: 'a handler calls domain functions, not storage.' },
            duckdbOnlyLocally,
          ],
        },
      ],
    },
  },
  {
    // The dashboard talks to the API only, through the types generated from its OpenAPI document (web/src/api):
    // no product code of the server side, so the UI can never depend on what the API does not publish.
    files: ['web/src/**/*.{ts,tsx}'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', sessionStorage: 'readonly', crypto: 'readonly', fetch: 'readonly' } },
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(\\.\\./)+(functions|bin|lib|test)/', message: 'the dashboard uses the public API only (web/src/api), never server code.' }] },
      ],
    },
  },
  {
    // Tests read untyped JSON responses; production code may not.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
