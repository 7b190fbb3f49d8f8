import type { Context } from 'aws-lambda';
import { lambdaContext } from './lambda-context';
import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { z } from 'zod';
import { AppError, errorBody, errorHeaders, validationFailed, type FieldIssue } from '../../functions/platform/errors';
import type { HttpEvent, HttpResult, SignedHttpEvent } from '../../functions/platform/http';
import { isWebhookRoute } from '../../functions/platform/routes';
import { log } from '../../functions/platform/log';
import { compiledRoutes, matchRoute, unmatchedRoute } from '../../functions/api/unmatched';
import { healthRoute, routeKey } from '../../functions/wiring';
import { importHandler } from './handlers';
import type { LocalIssuer } from './issuer';

/**
 * The local stand-in for API Gateway's HTTP API: matches the routes declared
 * in functions/wiring.ts, checks the bearer token as the JWT authorizer
 * would (not on a webhook route, which has no authorizer in AWS either: its
 * function verifies the platform's signature), turns the request into the
 * same APIGatewayProxyEventV2 a Lambda receives, and calls the same handler module.
 */
type LambdaHandler = (event: HttpEvent | SignedHttpEvent, context: Context) => Promise<HttpResult>;

/** API Gateway refuses payloads over 10 MB before any Lambda runs. */
const GATEWAY_MAX_BYTES = 10 * 1024 * 1024;

/** API Gateway's HTTP API refuses a request whose request line and headers exceed 10,240 bytes together. */
const GATEWAY_MAX_HEADER_BYTES = 10_240;

/**
 * The path parameters, percent-decoded as API Gateway's HTTP API hands them to a Lambda; a
 * malformed escape (`%`, `%E0%A4%A`) is the caller's mistake, named like any other bad path parameter.
 */
const decodePathParameters = (names: string[], groups: RegExpExecArray): { parameters: Record<string, string> } | { issues: FieldIssue[] } => {
  const parameters: Record<string, string> = {};
  const issues: FieldIssue[] = [];
  names.forEach((name, i) => {
    const raw = groups[i + 1] ?? '';
    try {
      parameters[name] = decodeURIComponent(raw);
    } catch {
      issues.push({ in: 'path', path: name, message: 'is not valid percent-encoding (each % must start an escape of UTF-8 bytes, like %20)' });
    }
  });
  return issues.length > 0 ? { issues } : { parameters };
};

/**
 * The request's URL. A request target always starts with `/` (origin form) or is absolute; an
 * origin-form `//host/path` is a path here, as at API Gateway, not a host to resolve against.
 */
const requestUrl = (target: string | undefined): URL | undefined => {
  try {
    return new URL(target?.startsWith('/') ? `http://localhost${target}` : (target ?? '/'));
  } catch {
    return undefined;
  }
};

/** The claims API Gateway's JWT authorizer hands a Lambda (requestContext.authorizer.jwt.claims). */
const jwtClaims = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]));

/** A Lambda result's headers as Node sends them (API Gateway stringifies numbers and booleans too). */
const headerValues = (headers: HttpResult['headers']): Record<string, string> =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, String(value)]));

const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
};

const sendError = (res: ServerResponse, error: AppError, headers: Record<string, string> = {}): void =>
  send(res, error.status, JSON.stringify(errorBody(error)), { ...errorHeaders(error), ...headers });

/**
 * What Node's HTTP parser refuses before a request exists (headers over the limit, bytes that are
 * not HTTP) is answered on the raw socket, in the error shape like everything else; Node's own
 * answer is a bare status line with no body.
 */
const answerClientError = (error: NodeJS.ErrnoException, socket: Duplex): void => {
  // The client is gone, or did not finish its request in time: there is no one to answer.
  if (error.code === 'ECONNRESET' || error.code === 'ERR_HTTP_REQUEST_TIMEOUT' || !socket.writable) {
    socket.destroy();
    return;
  }
  const refusal =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new AppError('HEADERS_TOO_LARGE', `the request line and headers exceed ${GATEWAY_MAX_HEADER_BYTES} bytes`, { max_bytes: GATEWAY_MAX_HEADER_BYTES })
      : new AppError('MALFORMED_REQUEST', 'the request is not valid HTTP/1.1');
  const body = JSON.stringify(errorBody(refusal));
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? ''}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
};

const readBody = (req: IncomingMessage): Promise<Buffer | undefined> =>
  new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > GATEWAY_MAX_BYTES) {
        done(undefined);
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => done(Buffer.concat(chunks)));
    req.on('error', fail);
  });

export interface LocalApi {
  server: Server;
  url: string;
  close: () => Promise<void>;
}

export const startLocalApi = async (options: {
  issuer: LocalIssuer;
  port?: number;
  host?: string;
  /** The Lambda timeout each handler runs under (lib/api.ts gives route functions 29 s); tests shorten it. */
  functionTimeoutMs?: number;
  /** Serve the dashboard (web/dist) at `/`, as CloudFront does in AWS: bin/local/web.ts. */
  web?: (req: IncomingMessage, res: ServerResponse, pathname: string) => boolean;
}): Promise<LocalApi> => {
  /** Each route's handler module, imported on its first request (as Lambda loads it on a cold start). */
  const handlers = new Map<string, Promise<LambdaHandler>>();
  /** The health route's handler (no authorizer, no claims: not one of the routes above), imported on its first request too. */
  let healthHandler: Promise<(event: unknown) => Promise<HttpResult>> | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = requestUrl(req.url);
    const matched = url && matchRoute(method, url.pathname);
    const gatewayError = (error: AppError, headers: Record<string, string> = {}): void => {
      sendError(res, error, headers);
      log.info('request', { route: matched ? matched.compiled.key : `${method} ${url?.pathname ?? req.url}`, status: error.status, duration_ms: Math.round(performance.now() - started) });
    };
    if (!url) {
      gatewayError(new AppError('MALFORMED_REQUEST', 'the request target is not a valid URL'));
      return;
    }
    if (!matched && options.web?.(req, res, url.pathname)) return;
    // The health route has no authorizer and no claims (functions/wiring.ts healthRoute): its function answers as it is.
    if (!matched && method === healthRoute.method && url.pathname === healthRoute.path) {
      healthHandler ??= importHandler<(event: unknown) => Promise<HttpResult>>(healthRoute.entry);
      const health = await healthHandler;
      const result = await health({ version: '2.0', routeKey: routeKey(healthRoute), rawPath: url.pathname, rawQueryString: '', headers: {}, isBase64Encoded: false });
      send(res, result.statusCode ?? 200, typeof result.body === 'string' ? result.body : '', headerValues(result.headers));
      return;
    }
    if (!matched) {
      const { error, headers } = unmatchedRoute(method, url.pathname);
      gatewayError(error, headers);
      return;
    }
    const { compiled, groups } = matched;
    const decoded = decodePathParameters(compiled.names, groups);
    if ('issues' in decoded) {
      gatewayError(validationFailed(decoded.issues));
      return;
    }
    const pathParameters = decoded.parameters;
    const signed = isWebhookRoute(compiled.route);
    let claims: z.infer<typeof jwtClaims> | undefined;
    if (!signed) {
      const authorization = req.headers.authorization ?? '';
      const token = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
      try {
        if (!token) throw new Error('missing');
        claims = jwtClaims.parse(await options.issuer.verify(token));
      } catch {
        gatewayError(new AppError('UNAUTHORIZED', token ? 'the bearer token is invalid or expired' : 'send a bearer token: Authorization: Bearer <jwt>'));
        return;
      }
    }
    const body = await readBody(req);
    if (body === undefined) {
      gatewayError(new AppError('PAYLOAD_TOO_LARGE', 'the body exceeds the gateway limit of 10 MB'));
      return;
    }
    const query: Record<string, string> = {};
    for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const requestId = randomUUID();
    const now = new Date();
    const requestContext: SignedHttpEvent['requestContext'] = {
      accountId: '000000000000',
      apiId: 'local',
      domainName: req.headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: { method, path: url.pathname, protocol: `HTTP/${req.httpVersion}`, sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: req.headers['user-agent'] ?? '' },
      requestId,
      routeKey: compiled.key,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    };
    const withoutAuthorizer: SignedHttpEvent = {
      version: '2.0',
      routeKey: compiled.key,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      queryStringParameters: Object.keys(query).length ? query : undefined,
      pathParameters: compiled.names.length ? pathParameters : undefined,
      // A signature is over the exact bytes, so a webhook's body goes as base64 (as API Gateway passes a binary
      // body); decoding it to text and back would turn any byte that is not UTF-8 into U+FFFD.
      body: body.length ? body.toString(signed ? 'base64' : 'utf8') : undefined,
      isBase64Encoded: signed && body.length > 0,
      requestContext,
    };
    // A token route's event carries the verified claims as the JWT authorizer hands them over; a webhook route's has no authorizer.
    const event: HttpEvent | SignedHttpEvent = claims
      ? { ...withoutAuthorizer, requestContext: { ...requestContext, authorizer: { principalId: '', integrationLatency: 0, jwt: { claims, scopes: [] } } } }
      : withoutAuthorizer;
    const loading = handlers.get(compiled.key) ?? importHandler<LambdaHandler>(compiled.route.entry);
    handlers.set(compiled.key, loading);
    const handler = await loading;
    const result = await handler(event, lambdaContext(compiled.key, requestId, options.functionTimeoutMs));
    send(res, result.statusCode ?? 200, typeof result.body === 'string' ? result.body : '', headerValues(result.headers));
  };

  const server = createServer({ maxHeaderSize: GATEWAY_MAX_HEADER_BYTES }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error('local gateway failure', { error: error instanceof Error ? error.stack : String(error) });
      if (!res.headersSent) sendError(res, new AppError('INTERNAL', 'the local gateway failed; see the log'));
    });
  });
  server.on('clientError', answerClientError);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((done, fail) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      fail(error.code === 'EADDRINUSE' ? new Error(`port ${options.port} is already in use: stop what uses it or pick another with --port`) : error),
    );
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', done);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the local gateway is not listening on a TCP port');
  const { port } = address;
  return {
    server,
    url: `http://localhost:${port}`,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
};

/** The routes this stand-in serves (test/infra compares them with the CDK stack's). */
export const localRouteKeys = (): string[] => [...compiledRoutes.map((compiled) => compiled.key), routeKey(healthRoute)];
