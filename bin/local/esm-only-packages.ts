import { registerHooks } from 'node:module';

/**
 * @middy/core 7 and @middy/util publish only an `import` export condition.
 * The local runtime runs our CommonJS TypeScript through tsx, whose
 * `require()` resolves with the `require` condition and so cannot find them.
 * This hook adds the `import` condition for those packages only; Node 22
 * then loads them with require(esm). esbuild (Lambda bundles) and jest
 * (jest.config.js) resolve them in their own ways. Import this module first.
 */
registerHooks({
  resolve: (specifier, context, nextResolve) =>
    specifier.startsWith('@middy/') && !context.conditions.includes('import')
      ? nextResolve(specifier, { ...context, conditions: [...context.conditions, 'import'] })
      : nextResolve(specifier, context),
});
