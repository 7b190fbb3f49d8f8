/**
 * The CDK app (`npx cdk synth`, `npx cdk deploy`): the inventory stack with
 * the cdk-nag AwsSolutions checks applied. Account and region come from the
 * AWS profile; without one (offline) the account stays unresolved and the
 * region is cdk.json's `stockroom:defaultRegion`, so synthesis works offline.
 */
import { buildApp } from '../lib/app';
import { ensureWebBuild } from './local/web';

// The dashboard's files are an asset of the stack (lib/web.ts): built first if its sources changed.
ensureWebBuild({ quiet: true });

const { app } = buildApp({
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
app.synth();
