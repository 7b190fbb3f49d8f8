import { Match, Template } from 'aws-cdk-lib/assertions';
import { awsContentSecurityPolicy } from '../../lib/web';
import { synthesized } from './synth';

/** The dashboard in AWS (issue 13, lib/web.ts): its own nested stack, S3 behind CloudFront, the API under /api, the hosted UI with the code grant. */
describe('the dashboard in AWS', () => {
  const { stack } = synthesized();
  const template = Template.fromStack(stack.dashboard);

  test('its files are in a bucket nobody reads but the distribution (no public access, TLS only, origin access control)', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }), Match.objectLike({ Principal: { Service: 'cloudfront.amazonaws.com' }, Action: 's3:GetObject' })]) },
    });
  });

  test('the distribution redirects to HTTPS, answers every app path with index.html, and passes /api/* uncached to the API with every method', () => {
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https', Compress: true }),
        CustomErrorResponses: [
          { ErrorCode: 403, ResponseCode: 200, ResponsePagePath: '/index.html', ErrorCachingMinTTL: 0 },
          { ErrorCode: 404, ResponseCode: 200, ResponsePagePath: '/index.html', ErrorCachingMinTTL: 0 },
        ],
        CacheBehaviors: [
          Match.objectLike({
            PathPattern: '/api/*',
            ViewerProtocolPolicy: 'https-only',
            AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
            // CloudFront's managed CachingDisabled policy.
            CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
          }),
        ],
      }),
    });
  });

  test('every answer carries the strict Content-Security-Policy and security headers of web/headers.ts', () => {
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: {
          ContentSecurityPolicy: { ContentSecurityPolicy: awsContentSecurityPolicy(stack.region), Override: true },
          ContentTypeOptions: { Override: true },
          FrameOptions: { FrameOption: 'DENY', Override: true },
          ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
          StrictTransportSecurity: { AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true, Override: true },
        },
      }),
    });
    const csp = awsContentSecurityPolicy(stack.region);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(csp).toContain("frame-ancestors 'none'");
  });

  test('sign-in is the hosted UI: a public client (no secret) with only the authorization code grant, returning to the dashboard', () => {
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: ['openid', 'email', 'profile'],
      CallbackURLs: [{ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [Match.stringLikeRegexp('Distribution'), 'DomainName'] }, '/']] }],
      SupportedIdentityProviders: ['COGNITO'],
      EnableTokenRevocation: true,
    });
  });

  test('the built files are deployed with the distribution invalidated for index.html and config.json', () => {
    template.hasResourceProperties('Custom::CDKBucketDeployment', { DistributionPaths: ['/', '/index.html', '/config.json'], Prune: false });
    template.resourceCountIs('Custom::CDKBucketDeployment', 2);
  });

  test('the API takes no cross-origin browser calls: the dashboard reaches it on its own origin (no CORS configuration)', () => {
    const api = Template.fromStack(stack).findResources('AWS::ApiGatewayV2::Api');
    for (const resource of Object.values(api)) expect(resource.Properties.CorsConfiguration).toBeUndefined();
  });
});
