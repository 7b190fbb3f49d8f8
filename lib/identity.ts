import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { CLAIMS } from '../functions/identity/roles';

/** `custom:tenant_id` -> `tenant_id`: Cognito prefixes custom attributes with `custom:` in tokens. */
const customName = (claim: string): string => claim.replace(/^custom:/, '');

/**
 * Who may call the API. Users are created by an administrator (no self
 * sign-up), who sets the tenant and the role; the ID token carries them as
 * the claims the handlers read (functions/identity/roles.ts CLAIMS). The
 * tenant can never change, and the app client users sign in with can read
 * both attributes but write neither, so nobody can move themselves to
 * another tenant or promote themselves.
 */
export class InventoryIdentity extends Construct {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  /** What the app clients may read of a user: the e-mail, the tenant, the role and the warehouse scope. */
  readonly clientAttributes: cognito.ClientAttributes;
  /** The `iss` of this pool's tokens. */
  readonly issuer: string;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const tenant = customName(CLAIMS.tenant);
    const role = customName(CLAIMS.role);
    const warehouses = customName(CLAIMS.warehouses);

    this.userPool = new cognito.UserPool(this, 'Users', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      customAttributes: {
        [tenant]: new cognito.StringAttribute({ minLen: 1, maxLen: 64, mutable: false }),
        [role]: new cognito.StringAttribute({ minLen: 1, maxLen: 32, mutable: true }),
        // A scoped user's warehouses, comma-separated (empty: every warehouse); set by the users API, which the
        // directory's record overrides within its TTL anyway (functions/platform/user-status.ts).
        [warehouses]: new cognito.StringAttribute({ minLen: 0, maxLen: 2048, mutable: true }),
      },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.clientAttributes = new cognito.ClientAttributes()
      .withStandardAttributes({ email: true, emailVerified: true })
      .withCustomAttributes(tenant, role, warehouses);
    this.client = this.userPool.addClient('Api', {
      generateSecret: false,
      // API clients sign in with SRP and send the ID token; no hosted UI, so no OAuth flows (and no implicit grant).
      disableOAuth: true,
      authFlows: { userSrp: true },
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      readAttributes: this.clientAttributes,
      // Deliberately no custom attributes: tenant, role and warehouse scope are set by an administrator only (the users API).
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true }),
    });

    this.issuer = `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${this.userPool.userPoolId}`;
  }
}
