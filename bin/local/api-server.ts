import type { Context } from 'aws-lambda';
import { lambdaContext } from './lambda-context';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { AppError, errorBody } from '../../functions/platform/errors';
import type { HttpEvent, HttpResult } from '../../functions/platform/http';
import { log } from '../../functions/platform/log';
import { httpRoutes, routeKey, type HttpRoute } from '../../functions/wiring';
import { importHandler } from './handlers';
import type { LocalIssuer } from './issuer';

/**
 * The local stand-in for API Gateway's HTTP API: matches the routes declared
 * in functions/wiring.ts, checks the bearer token as the JWT authorizer
 * would, turns the request into the same APIGatewayProxyEventV2 a Lambda
 * receives, and calls the same handler module.
 */
type LambdaHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

/** API Gateway refuses payloads over 10 MB before any Lambda runs. */
const GATEWAY_MAX_BYTES = 10 * 1024 * 1024;

interface CompiledRoute {
  route: HttpRoute;
  key: string;
  pattern: RegExp;
  names: string[];
  handler?: Promise<LambdaHandler>;
}

const compile = (route: HttpRoute): CompiledRoute => {
  const names: string[] = [];
  const source = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{([a-z_]+)\\?\}/g, (_m, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, key: routeKey(route), pattern: new RegExp(`^${source}$`), names };
};

/** The route whose method and path pattern match the request, and the path's captured groups. */
const matchRoute = (routes: CompiledRoute[], method: string, path: string): { compiled: CompiledRoute; groups: RegExpExecArray } | undefined => {
  for (const compiled of routes) {
    if (compiled.route.method !== method) continue;
    const groups = compiled.pattern.exec(path);
    if (groups) return { compiled, groups };
  }
  return undefined;
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

const sendError = (res: ServerResponse, error: AppError): void => send(res, error.status, JSON.stringify(errorBody(error)));

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

export const startLocalApi = async (options: { issuer: LocalIssuer; port?: number; host?: string }): Promise<LocalApi> => {
  const routes = Object.values(httpRoutes).map((route) => compile(route));

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const matched = matchRoute(routes, method, url.pathname);
    const gatewayError = (error: AppError): void => {
      sendError(res, error);
      log.info('request', { route: matched?.compiled.key ?? `${method} ${url.pathname}`, status: error.status, duration_ms: Math.round(performance.now() - started) });
    };
    if (!matched) {
      gatewayError(new AppError('ROUTE_NOT_FOUND', `no route ${method} ${url.pathname}`));
      return;
    }
    const { compiled, groups } = matched;
    const authorization = req.headers.authorization ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
    let claims: z.infer<typeof jwtClaims>;
    try {
      if (!token) throw new Error('missing');
      claims = jwtClaims.parse(await options.issuer.verify(token));
    } catch {
      gatewayError(new AppError('UNAUTHORIZED', token ? 'the bearer token is invalid or expired' : 'send a bearer token: Authorization: Bearer <jwt>'));
      return;
    }
    const body = await readBody(req);
    if (body === undefined) {
      gatewayError(new AppError('PAYLOAD_TOO_LARGE', 'the body exceeds the gateway limit of 10 MB'));
      return;
    }
    const pathParameters = Object.fromEntries(compiled.names.map((name, i) => [name, decodeURIComponent(groups[i + 1] ?? '')]));
    const query: Record<string, string> = {};
    for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const requestId = randomUUID();
    const now = new Date();
    const event: HttpEvent = {
      version: '2.0',
      routeKey: compiled.key,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      queryStringParameters: Object.keys(query).length ? query : undefined,
      pathParameters: compiled.names.length ? pathParameters : undefined,
      body: body.length ? body.toString('utf8') : undefined,
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        authorizer: { principalId: '', integrationLatency: 0, jwt: { claims, scopes: [] } },
        domainName: req.headers.host ?? 'localhost',
        domainPrefix: 'localhost',
        http: { method, path: url.pathname, protocol: `HTTP/${req.httpVersion}`, sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: req.headers['user-agent'] ?? '' },
        requestId,
        routeKey: compiled.key,
        stage: '$default',
        time: now.toISOString(),
        timeEpoch: now.getTime(),
      },
    };
    compiled.handler ??= importHandler<LambdaHandler>(compiled.route.entry);
    const handler = await compiled.handler;
    const result = await handler(event, lambdaContext(compiled.key, requestId));
    send(res, result.statusCode ?? 200, typeof result.body === 'string' ? result.body : '', headerValues(result.headers));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error('local gateway failure', { error: error instanceof Error ? error.stack : String(error) });
      if (!res.headersSent) sendError(res, new AppError('INTERNAL', 'the local gateway failed; see the log'));
    });
  });
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
export const localRouteKeys = (): string[] => Object.values(httpRoutes).map((route) => compile(route).key);
