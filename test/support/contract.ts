import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { z } from 'zod';

/**
 * The served OpenAPI document as a contract every response is held to, as a
 * client generated from it would hold it: the status must be documented for
 * the operation, with its content type, its required headers and a body
 * valid against its schema. Objects are closed (unknown fields refused) even
 * where a schema forgets to say so. A path no route has, or a known path with
 * another method, must answer the document's RouteNotFound / MethodNotAllowed
 * (or HeadersTooLarge, which the gateway answers before it knows the route).
 */
type JsonSchema = Record<string, unknown>;

const schemaSpec = z.record(z.string(), z.unknown());
const headerSpec = z.looseObject({ required: z.boolean().optional(), schema: schemaSpec });
const responseSpec = z.looseObject({
  description: z.string(),
  headers: z.record(z.string(), headerSpec).optional(),
  content: z
    .record(
      z.string(),
      z.looseObject({
        schema: schemaSpec,
        'x-csv-columns': z.record(z.string(), z.array(z.string())).optional(),
        'x-csv-withheld-columns': z.record(z.string(), z.record(z.string(), z.string())).optional(),
      }),
    )
    .optional(),
});
type ResponseSpec = z.output<typeof responseSpec>;
const operationSpec = z.looseObject({ operationId: z.string(), responses: z.record(z.string(), responseSpec) });
const documentSpec = z.looseObject({
  openapi: z.string(),
  paths: z.record(z.string(), z.record(z.string(), operationSpec)),
  components: z.looseObject({
    schemas: z.record(z.string(), schemaSpec),
    responses: z.looseObject({ RouteNotFound: responseSpec, MethodNotAllowed: responseSpec, HeadersTooLarge: responseSpec }),
  }),
});

/** What came back, as the client saw it. */
export interface Observed {
  method: string;
  /** The request path as sent, percent-encoding and query included. */
  url: string;
  status: number;
  headers: Headers;
  text: string;
}

export interface Contract {
  /** Every way the response breaks the document; empty when it keeps it. */
  violations: (observed: Observed) => string[];
}

const COMPONENTS_ID = 'urn:stockroom:openapi:components';

const isSchemaObject = (value: unknown): value is JsonSchema => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A copy of a schema with every object that lists its properties closed
 * (additionalProperties: false unless it says otherwise), and the document's
 * component references pointed at the components registered with Ajv.
 * Members of an allOf stay open: each would refuse the others' properties.
 */
const prepared = (schema: unknown, underAllOf = false): unknown => {
  if (Array.isArray(schema)) return schema.map((each) => prepared(each, underAllOf));
  if (!isSchemaObject(schema)) return schema;
  const copy: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref' && typeof value === 'string') copy[key] = value.replace('#/components/schemas/', `${COMPONENTS_ID}#/$defs/`);
    else if (key === 'properties' && isSchemaObject(value)) copy[key] = Object.fromEntries(Object.entries(value).map(([name, s]) => [name, prepared(s)]));
    else copy[key] = prepared(value, key === 'allOf');
  }
  if (isSchemaObject(schema.properties) && !('additionalProperties' in schema) && !('unevaluatedProperties' in schema) && !underAllOf) {
    copy.additionalProperties = false;
  }
  return copy;
};

/** `/api/skus/{sku_id}` as a pattern of one raw (still percent-encoded) path, and how many templated segments it has. */
const compilePath = (template: string): { pattern: RegExp; templated: number } => {
  let templated = 0;
  const source = template
    .split('/')
    .map((segment) => {
      if (/^\{[^}]+\}$/.test(segment)) {
        templated += 1;
        return '[^/]+';
      }
      return segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { pattern: new RegExp(`^${source}$`), templated };
};

const mediaType = (headers: Headers): string => (headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

const shown = (text: string): string => (text.length > 600 ? `${text.slice(0, 600)}...` : text) || '(empty)';

export const contractOf = (served: unknown): Contract => {
  const document = documentSpec.parse(served);
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  ajv.addSchema({ $id: COMPONENTS_ID, $defs: Object.fromEntries(Object.entries(document.components.schemas).map(([name, s]) => [name, prepared(s)])) });
  const compiled = new Map<JsonSchema, ValidateFunction>();
  const validatorOf = (schema: JsonSchema): ValidateFunction => {
    let validate = compiled.get(schema);
    if (!validate) {
      validate = ajv.compile(z.record(z.string(), z.unknown()).parse(prepared(schema)));
      compiled.set(schema, validate);
    }
    return validate;
  };

  const paths = Object.entries(document.paths)
    .map(([template, operations]) => ({ template, operations, ...compilePath(template) }))
    // Concrete paths before templated ones, as OpenAPI matches them.
    .sort((a, b) => a.templated - b.templated);

  const againstResponse = (spec: ResponseSpec, observed: Observed): string[] => {
    const problems: string[] = [];
    for (const [name, header] of Object.entries(spec.headers ?? {})) {
      const value = observed.headers.get(name);
      if (value === null) {
        if (header.required) problems.push(`header ${name} is missing`);
        continue;
      }
      const typed = header.schema.type === 'integer' || header.schema.type === 'number' ? Number(value) : value;
      const validate = validatorOf(header.schema);
      if (!validate(typed)) problems.push(`header ${name}: ${JSON.stringify(value)} ${ajv.errorsText(validate.errors)}`);
    }
    const content = spec.content;
    if (!content) {
      if (observed.text !== '') problems.push(`a body where the document has none: ${shown(observed.text)}`);
      return problems;
    }
    const type = mediaType(observed.headers);
    const media = content[type];
    if (!media) {
      problems.push(`content type ${JSON.stringify(type)}, documented: ${Object.keys(content).join(', ')}; body ${shown(observed.text)}`);
      return problems;
    }
    const csvColumns = media['x-csv-columns'];
    if (type === 'text/csv' && csvColumns) {
      const headerLine = observed.text.split('\r\n')[0] ?? '';
      const withheld = media['x-csv-withheld-columns'] ?? {};
      // A role without a permission gets the list without the columns that need it (every combination of withheld permissions).
      const documented = Object.entries(csvColumns).flatMap(([list, columns]) => {
        const needs = withheld[list] ?? {};
        const permissions = [...new Set(Object.values(needs))];
        const subsets = permissions.reduce<string[][]>((all, permission) => [...all, ...all.map((subset) => [...subset, permission])], [[]]);
        return [...new Set(subsets.map((lacking) => columns.filter((column) => !lacking.includes(needs[column] ?? '')).join(',')))];
      });
      if (!documented.includes(headerLine)) problems.push(`CSV header ${JSON.stringify(headerLine)}, documented: ${documented.join(' | ')}`);
      if (!observed.text.endsWith('\r\n')) problems.push('CSV lines end with CRLF, the last one too');
      return problems;
    }
    let body: unknown;
    try {
      body = JSON.parse(observed.text);
    } catch {
      problems.push(`the body is not JSON: ${shown(observed.text)}`);
      return problems;
    }
    const validate = validatorOf(media.schema);
    if (!validate(body)) {
      for (const error of validate.errors ?? []) {
        const extra = error.keyword === 'additionalProperties' ? ` '${String(error.params.additionalProperty)}'` : '';
        problems.push(`body${error.instancePath || ''} ${error.message ?? error.keyword}${extra}`);
      }
      problems.push(`the body was ${shown(observed.text)}`);
    }
    return problems;
  };

  const violations = (observed: Observed): string[] => {
    const path = new URL(observed.url, 'http://contract.invalid').pathname;
    const method = observed.method.toLowerCase();
    const matching = paths.filter((p) => p.pattern.test(path));
    const found = matching.find((p) => method in p.operations);
    if (found) {
      const operation = found.operations[method];
      if (!operation) return [`no operation ${method} at ${found.template}`];
      const spec = operation.responses[String(observed.status)];
      const named = `${observed.method.toUpperCase()} ${found.template} (${operation.operationId}) answered ${observed.status}`;
      if (!spec) {
        return [`${named}, a status the document does not list (it lists ${Object.keys(operation.responses).join(', ')}); body ${shown(observed.text)}`];
      }
      return againstResponse(spec, observed).map((problem) => `${named}: ${problem}`);
    }
    const named = `${observed.method.toUpperCase()} ${path} (no operation) answered ${observed.status}`;
    if (observed.status === 431) return againstResponse(document.components.responses.HeadersTooLarge, observed).map((problem) => `${named}: ${problem}`);
    const known = matching[0];
    if (!known) {
      if (observed.status !== 404) return [`${named}; a path no route has answers 404 RouteNotFound; body ${shown(observed.text)}`];
      return againstResponse(document.components.responses.RouteNotFound, observed).map((problem) => `${named}: ${problem}`);
    }
    if (observed.status !== 405) return [`${named}; ${known.template} exists with other methods, so 405 MethodNotAllowed; body ${shown(observed.text)}`];
    const problems = againstResponse(document.components.responses.MethodNotAllowed, observed);
    const allowed = new Set(matching.flatMap((p) => Object.keys(p.operations).map((m) => m.toUpperCase())));
    const allow = (observed.headers.get('allow') ?? '').split(',').map((m) => m.trim()).filter((m) => m !== '');
    if (allow.length !== allowed.size || !allow.every((m) => allowed.has(m))) {
      problems.push(`Allow is ${JSON.stringify(allow.join(', '))}, the document has ${[...allowed].join(', ')} at ${known.template}`);
    }
    return problems.map((problem) => `${named}: ${problem}`);
  };

  return { violations };
};

/** Thrown from the client into the test that received the response; it carries that response for tests that judge it further. */
export class ContractViolation extends Error {
  constructor(
    readonly problems: readonly string[],
    readonly response: { status: number; body: unknown },
  ) {
    super(`the response breaks the served OpenAPI document:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ContractViolation';
  }
}
