import { Duration, Fn, NestedStack, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import type { Construct } from 'constructs';
import { WEB_DIST, webBuildIsStale } from '../bin/local/web';
import { CONTENT_SECURITY_POLICY, WEB_SECURITY_HEADERS } from '../web/headers';

export interface DashboardProps {
  /** The API CloudFront passes `/api/*` to: the dashboard and its API share one origin, so no CORS is needed or allowed. */
  httpApi: apigw.IHttpApi;
  userPool: cognito.IUserPool;
  /** What the dashboard's app client may read of a user (the API client's: e-mail, tenant, role, warehouses). */
  clientAttributes: cognito.ClientAttributes;
  /** The hosted UI's domain prefix (unique in the region). */
  domainPrefix: string;
}

/**
 * The dashboard in AWS (issue 13), a nested stack of its own (the main stack keeps its room under CloudFormation's
 * 500 resources):
 * - web/dist in a private bucket behind CloudFront with origin access control (only the distribution reads it),
 *   HTTPS only, TLS 1.2+, and the security headers and strict Content-Security-Policy of web/headers.ts (what the
 *   local server sends) as a response headers policy; a path that is no file is the app's (index.html).
 * - `/api/*` passed to the HTTP API uncached (every header but Host, every method): the app calls its own origin,
 *   so the API needs no CORS and a browser on any other origin is refused by its own same-origin rule.
 * - Sign-in through the Cognito hosted UI: the pool's domain and a public app client (no secret) with the
 *   authorization code grant, the app sending a PKCE challenge (web/src/auth.ts); its ID tokens are what the API's
 *   JWT authorizer takes (the main stack adds this client to the audience).
 * - config.json beside the app names the hosted UI and the client (web/src/auth.ts reads it; locally there is none).
 */
export class DashboardStack extends NestedStack {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly client: cognito.UserPoolClient;
  readonly domain: cognito.UserPoolDomain;
  /** `https://<distribution domain>`. */
  readonly origin: string;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id, { description: 'Stockroom dashboard: S3 behind CloudFront, the API under /api, the Cognito hosted UI' });
    const region = Stack.of(this).region;
    this.bucket = new s3.Bucket(this, 'Site', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // Built files, redeployed by every deployment: nothing here is data.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.bucket).acknowledge({ id: 'AwsSolutions-S1', reason: 'The bucket holds only the built dashboard (redeployed each time); CloudFront, its only reader, is where requests are seen.' });

    const headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Stockroom dashboard security headers (web/headers.ts)',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: awsContentSecurityPolicy(region), override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.seconds(63_072_000), includeSubdomains: true, override: true },
      },
      customHeadersBehavior: { customHeaders: [{ header: 'Permissions-Policy', value: WEB_SECURITY_HEADERS['permissions-policy'] as string, override: true }] },
    });
    const apiDomain = Fn.select(2, Fn.split('/', props.httpApi.apiEndpoint));
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Stockroom dashboard',
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: headers,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        compress: true,
      },
      additionalBehaviors: {
        '/api/*': {
          origin: new HttpOrigin(apiDomain, { protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY, originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2] }),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: headers,
        },
      },
      // A path that is no object (S3 answers 403 without ListBucket) is one of the app's own routes.
      errorResponses: [403, 404].map((httpStatus) => ({ httpStatus, responseHttpStatus: 200, responsePagePath: '/index.html', ttl: Duration.seconds(0) })),
    });
    Validations.of(this.distribution).acknowledge(
      { id: 'AwsSolutions-CFR1', reason: 'The dashboard serves tenants wherever their staff are; access is decided by sign-in, not geography.' },
      { id: 'AwsSolutions-CFR2', reason: 'Static files and the API behind its JWT authorizer and stage throttling; a WAF web ACL is an account-level choice left to the operator.' },
      { id: 'AwsSolutions-CFR3', reason: 'The API behind /api/* keeps its own access logs (lib/api.ts); the static files carry no data.' },
      { id: 'AwsSolutions-CFR4', reason: "The distribution's default *.cloudfront.net certificate, whose TLS floor CloudFront sets; a custom domain with its own certificate (and TLSv1.2_2021) is the operator's to add." },
    );
    this.origin = `https://${this.distribution.distributionDomainName}`;

    this.domain = new cognito.UserPoolDomain(this, 'HostedUi', { userPool: props.userPool, cognitoDomain: { domainPrefix: props.domainPrefix } });
    this.client = new cognito.UserPoolClient(this, 'DashboardClient', {
      userPool: props.userPool,
      generateSecret: false,
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [`${this.origin}/`],
        logoutUrls: [`${this.origin}/`],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(1),
      readAttributes: props.clientAttributes,
      // Nobody writes their own tenant, role or scope; the e-mail is an administrator's too (the users API).
      writeAttributes: new cognito.ClientAttributes(),
    });

    // The files: hashed assets cached a year, then index.html and config.json never cached (the distribution invalidated).
    if (webBuildIsStale()) throw new Error(`the dashboard's build (${WEB_DIST}) is missing or stale: run \`npm run web:build\` (bin/app.ts and the tests' global setup do)`);
    const config = { api_url: this.origin, cognito_domain: this.domain.baseUrl(), client_id: this.client.userPoolClientId, redirect_uri: `${this.origin}/` };
    const assets = new BucketDeployment(this, 'Assets', {
      destinationBucket: this.bucket,
      sources: [Source.asset(WEB_DIST, { exclude: ['index.html'] })],
      cacheControl: [CacheControl.fromString('public, max-age=31536000, immutable')],
      prune: false,
      memoryLimit: 512,
    });
    const entry = new BucketDeployment(this, 'Entry', {
      destinationBucket: this.bucket,
      sources: [Source.asset(WEB_DIST, { exclude: ['assets', 'assets/*'] }), Source.jsonData('config.json', config)],
      cacheControl: [CacheControl.noCache()],
      prune: false,
      memoryLimit: 512,
      distribution: this.distribution,
      distributionPaths: ['/', '/index.html', '/config.json'],
    });
    entry.node.addDependency(assets);
    // CDK's own deployment handler (one per stack): its runtime, managed policy and wildcards are the construct's.
    const handler = this.node.children.find((child) => child.node.id.startsWith('Custom::CDKBucketDeployment'));
    if (handler) {
      const regionText = Token.isUnresolved(region) ? '<AWS::Region>' : region;
      const bucketId = this.getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
      const reason = "CDK's BucketDeployment handler copies the dashboard's built files from the CDK asset bucket into this stack's site bucket and invalidates the distribution: the construct's own grants, on those two buckets.";
      Validations.of(handler).acknowledge(
        { id: 'AwsSolutions-L1', reason: "CDK's BucketDeployment handler runs the Python runtime the construct pins (it wraps the AWS CLI); it runs only at deployment time." },
        { id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason: "CDK's BucketDeployment handler logs with the basic execution role the construct attaches; it has no other managed policy." },
        ...['Action::s3:Abort*', 'Action::s3:DeleteObject*', 'Action::s3:GetBucket*', 'Action::s3:GetObject*', 'Action::s3:List*', 'Resource::*', `Resource::<${bucketId}.Arn>/*`, `Resource::arn:aws:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-${regionText}/*`].map((finding) => ({ id: `AwsSolutions-IAM5[${finding}]`, reason })),
      );
    }
  }
}

/** The local policy (web/headers.ts) with the hosted UI's token endpoint in connect-src (the API is the same origin here). */
export const awsContentSecurityPolicy = (region: string): string =>
  CONTENT_SECURITY_POLICY.replace("connect-src 'self'", `connect-src 'self' https://*.auth.${region}.amazoncognito.com`);
