import { NestedStack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { HttpRoute } from '../functions/wiring';

/**
 * A nested stack that holds the routes of some contexts (their functions, roles, integrations and
 * routes, on the main stack's one HTTP API and authorizer: InventoryApiProps.routeScope), so the
 * main stack stays under CloudFormation's 500 resources as the API grows. Which context a route is
 * in is read from its entry (`functions/<context>/handlers/...`), the wiring's own layout.
 */
export class RoutesStack extends NestedStack {
  /**
   * Where the routes are built (routeScope's answer): a construct named like the stack, so their
   * logical ids (roles, the tenant roles) differ from those another nested stack builds for its routes.
   */
  readonly routes: Construct;
  private readonly prefixes: readonly string[];

  constructor(scope: Construct, id: string, props: { description: string; contexts: readonly string[] }) {
    super(scope, id, { description: props.description });
    this.prefixes = props.contexts.map((context) => `functions/${context}/`);
    this.routes = new Construct(this, id);
  }

  /** Is this route one of this stack's contexts'? */
  holds(route: Pick<HttpRoute, 'entry'>): boolean {
    return this.prefixes.some((prefix) => route.entry.startsWith(prefix));
  }
}
