/**
 * Jest runs TypeScript through @swc/jest (no type-checking: `npm run typecheck`
 * is the type gate). The project is CommonJS; the few ESM-only packages we
 * use (@middy/core 7, jose 6, hyparquet with its writer and compressors and their hysnappy and fzstd) are compiled by the same transform instead of
 * being left to Node, see docs/architecture.md ("Module format").
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2023' }, module: { type: 'commonjs' } }],
  },
  // @middy's export maps resolve under Node but not under jest-resolve; point at its entry file.
  moduleNameMapper: { '^@middy/([a-z-]+)$': '<rootDir>/node_modules/@middy/$1/index.js' },
  transformIgnorePatterns: ['/node_modules/(?!(@middy|jose|hyparquet[a-z-]*|hysnappy|fzstd)/)'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFiles: ['<rootDir>/test/support/env.ts'],
  maxWorkers: 2,
  testTimeout: 60_000,
};
