import { AppError } from '../platform/errors';
import { healthRoute, httpRoutes, routeKey, type HttpRoute } from '../wiring';

/**
 * Which route of functions/wiring.ts a request is for, and what a request
 * for none of them is answered: 405 METHOD_NOT_ALLOWED with `Allow` when some
 * route serves its path with another method, else 404 ROUTE_NOT_FOUND. The
 * local gateway (bin/local/api-server.ts) matches with this, and in AWS the
 * `$default` route's function (handlers/route-not-found.ts) answers with it,
 * so both answer an unmatched request alike.
 */
export interface CompiledRoute {
  route: HttpRoute;
  key: string;
  pattern: RegExp;
  /** The path parameters' names, in the order of the pattern's groups. */
  names: string[];
}

/** A route's path as a pattern: `{name}` matches one non-empty segment, as in API Gateway's route keys. */
const compile = (route: HttpRoute): CompiledRoute => {
  const names: string[] = [];
  const source = route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{([a-z_]+)\\?\}/g, (_m, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { route, key: routeKey(route), pattern: new RegExp(`^${source}$`), names };
};

export const compiledRoutes: readonly CompiledRoute[] = Object.values(httpRoutes).map(compile);

/** The route whose method and path pattern match the request, and the path's captured groups. */
export const matchRoute = (method: string, path: string): { compiled: CompiledRoute; groups: RegExpExecArray } | undefined => {
  for (const compiled of compiledRoutes) {
    if (compiled.route.method !== method) continue;
    const groups = compiled.pattern.exec(path);
    if (groups) return { compiled, groups };
  }
  return undefined;
};

/** The methods some route serves on this path (sorted): a known path asked with another method is a 405, not a 404. */
const methodsServing = (path: string): string[] =>
  [...new Set([...compiledRoutes.filter((compiled) => compiled.pattern.test(path)).map((compiled) => compiled.route.method), ...(path === healthRoute.path ? [healthRoute.method] : [])])].sort();

/** The answer to a request no route matches: the error, and the headers it goes with (`Allow` on a 405). */
export const unmatchedRoute = (method: string, path: string): { error: AppError; headers: Record<string, string> } => {
  const allowed = methodsServing(path);
  if (allowed.length > 0) {
    return {
      error: new AppError('METHOD_NOT_ALLOWED', `${path} does not take ${method}: use ${allowed.join(', ')}`, { allowed_methods: allowed }),
      headers: { allow: allowed.join(', ') },
    };
  }
  return { error: new AppError('ROUTE_NOT_FOUND', `no route ${method} ${path}`), headers: {} };
};
