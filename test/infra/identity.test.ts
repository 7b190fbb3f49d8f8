import { CLAIMS } from '../../functions/identity/roles';
import { resourcesOfType, synthesized } from './synth';

/** The Cognito user pool whose ID tokens carry the tenant and role claims the handlers read. */
describe('Cognito user pool', () => {
  const { json, template } = synthesized();
  const [, pool] = resourcesOfType(json, 'AWS::Cognito::UserPool')[0] ?? [];
  const [, client] = resourcesOfType(json, 'AWS::Cognito::UserPoolClient')[0] ?? [];
  const tenant = CLAIMS.tenant.replace(/^custom:/, '');
  const role = CLAIMS.role.replace(/^custom:/, '');

  test('declares the tenant and role attributes the claims come from, and the tenant can never change', () => {
    const schema = pool?.Properties?.Schema as { Name: string; Mutable: boolean; AttributeDataType: string }[];
    expect(schema).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Name: tenant, Mutable: false, AttributeDataType: 'String' }),
        expect.objectContaining({ Name: role, AttributeDataType: 'String' }),
      ]),
    );
  });

  test('the app client can read the tenant and role (so they are in the ID token) but write neither', () => {
    expect(client?.Properties?.ReadAttributes).toEqual(expect.arrayContaining([CLAIMS.tenant, CLAIMS.role]));
    const writable = (client?.Properties?.WriteAttributes as string[] | undefined) ?? [];
    expect(writable).not.toContain(CLAIMS.tenant);
    expect(writable).not.toContain(CLAIMS.role);
    expect(writable.some((name) => name.startsWith('custom:'))).toBe(false);
  });

  test('no self sign-up, a strong password policy, required MFA, threat protection, deletion protection', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      Policies: { PasswordPolicy: { MinimumLength: 14, RequireUppercase: true, RequireLowercase: true, RequireNumbers: true, RequireSymbols: true } },
      MfaConfiguration: 'ON',
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      DeletionProtection: 'ACTIVE',
    });
  });

  test('the app client has no secret, no OAuth flows, and only SRP sign-in', () => {
    expect(client?.Properties?.GenerateSecret).toBe(false);
    expect(client?.Properties?.AllowedOAuthFlows).toBeUndefined();
    expect(client?.Properties?.ExplicitAuthFlows).toEqual(['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']);
  });

  test('the stack outputs the dashboard and API URLs, user pool id, client id, table name, event bus name, stream dead-letter queue and alarm topic', () => {
    expect(Object.keys(json.Outputs ?? {}).sort()).toEqual(['AlarmTopicArn', 'ApiUrl', 'DashboardUrl', 'EventBusName', 'StreamDeadLetterQueueUrl', 'TableName', 'UserPoolClientId', 'UserPoolId']);
  });
});
