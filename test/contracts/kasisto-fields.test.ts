/**
 * Each spec/kasisto/<revision>.yaml keeps Kasisto's own definitions of that revision: every
 * Swagger definition exists in components.schemas under the same name, with the same
 * property names, types, formats, enums, array item types and `$ref` targets; Swagger's
 * required flags appear in our `required` lists; every Swagger operation exists with its
 * body schema, headers, statuses and 200 schema, and there is no operation Kasisto did not
 * define. The deliberate differences are listed per revision below, each with its reason;
 * anything else fails.
 *
 * Kasisto's files are copied, unmodified, into spec/partners/kasisto/ (see its README), so
 * this suite runs in every clone and never skips. A failure lists every difference, one per
 * line, naming the definition and the property (`account.fcy_available_balance: type number
 * expected, spec has string`).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/prism.js';
import { KASISTO_REVISIONS, loadSpec, type JsonObject, type LoadedSpec } from '../helpers/spec.js';

const PARTNER_DIR = resolve(PROJECT_ROOT, 'spec/partners/kasisto');

/** Statuses this connector adds to every revision (Kasisto defines 200, 401, 403, 450–453, 500, 501). */
const CONNECTOR_STATUSES = ['400', '413', '429', '502', '503', '504'];

interface Revision {
  /** Kasisto's Swagger file in spec/partners/kasisto/. */
  swagger: string;
  /** Schemas we have that Kasisto's file has not, with the reason. */
  addedSchemas?: Record<string, string>;
  /**
   * Properties we add to a Kasisto definition (`definition.property` → reason). `source`,
   * when given, is a partner document in spec/partners/kasisto/ that must mention the
   * property (so an addition from Kasisto's prose is checked against that prose).
   */
  addedProperties?: Record<string, { reason: string; source?: string }>;
  /** Properties whose type deliberately differs, with the types we use instead. */
  typeOverrides?: Record<string, { types: string[]; reason: string }>;
  /** Properties whose Swagger `items` we leave out, with the reason. */
  itemsOmitted?: Record<string, string>;
  /** Statuses on every operation beyond Kasisto's file and the connector's own, with the reason. */
  addedStatuses?: Record<string, string>;
  /** Operations (`POST /payees`) whose 200 has a `token` header Kasisto's file lacks, with the reason. */
  addedTokenHeader?: Record<string, string>;
}

const REVISIONS: Record<string, Revision> = {
  '1.0': {
    swagger: 'kasisto-swagger-1.0.json',
    addedSchemas: {
      error_response: "Kasisto's error body, published days after this file (still 1.0); the connector answers it on every error status",
      otp_details: 'the OTP challenge of a 450 as the connector describes it (Kasisto named otp_details only in 1.3, as a string)',
    },
    addedProperties: {
      'transaction_criteria.start_date': { reason: 'date ranges, published days after this file (still 1.0)' },
      'transaction_criteria.end_date': { reason: 'date ranges, published days after this file (still 1.0)' },
    },
    addedStatuses: {
      '500': "Kasisto's, on every operation, published days after this file (still 1.0)",
      '501': "Kasisto's, on every operation, published days after this file (still 1.0)",
    },
    addedTokenHeader: {
      'POST /payees': 'Kasisto gives every other data operation a token header; 1.0 final gives /payees one too',
    },
    typeOverrides: {
      // Kasisto typed it as a string in 1.0 and as a number right after; we accept both.
      'account.available_credit': { types: ['number', 'string'], reason: 'string in this file, number from 1.0 final on' },
    },
  },
  '1.0-final': { swagger: 'kasisto-swagger-1.0.0-final.json' },
  '1.2': { swagger: 'kasisto-swagger-1.2.0.json' },
  '1.3': {
    swagger: 'kasisto-swagger-1.3.0-beta10.json',
    addedProperties: {
      'transaction_criteria.transaction_ids': { reason: "in Kasisto's 1.3 Beta 10 overview's /transactions request, not in its Swagger file", source: 'api-overview-1.3.0-beta10.md' },
      'transaction_criteria.meta': { reason: "in Kasisto's 1.3 Beta 10 overview's /transactions request, not in its Swagger file", source: 'api-overview-1.3.0-beta10.md' },
    },
    itemsOmitted: {
      'bank_location.opening_days': "Kasisto types it as a string but gives it `items`; JSON Schema ignores items on a string, so the spec says it in words",
    },
  },
};

type Prop = {
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  items?: Prop;
  $ref?: string;
  required?: boolean;
};
type Definition = { type?: string; required?: string[]; properties?: Record<string, Prop> };
type SwaggerParam = { in: string; name: string; required?: boolean; type?: string; schema?: { $ref?: string } };
type SwaggerResponse = { schema?: { $ref?: string; type?: string; items?: { $ref?: string } }; headers?: Record<string, unknown> };
type SwaggerOp = { parameters: SwaggerParam[]; responses: Record<string, SwaggerResponse> };
type Swagger = { definitions: Record<string, Definition>; paths: Record<string, Record<string, SwaggerOp>> };

const show = (v: unknown) => (v === undefined ? 'none' : Array.isArray(v) ? v.join('|') : String(v));
const typesOf = (p: Prop | undefined): string[] | undefined =>
  p?.type === undefined ? undefined : (Array.isArray(p.type) ? [...p.type] : [p.type]).sort();
const refName = (ref: string | undefined) => ref?.replace(/^#\/(definitions|components\/schemas)\//, '');
/** Kasisto's files write `{type: object, $ref}` in places; the `$ref` is what counts. */
const swaggerTypes = (p: Prop | undefined) => (p?.$ref ? undefined : typesOf(p));

/** The differences between one Kasisto property and ours, each naming `definition.property`. */
function compareProperty(where: string, theirs: Prop, mine: Prop, rev: Revision): string[] {
  const problems: string[] = [];
  const differ = (what: string, expected: unknown, actual: unknown) => {
    if (JSON.stringify(expected) !== JSON.stringify(actual)) problems.push(`${where}: ${what} ${show(expected)} expected, spec has ${show(actual)}`);
  };
  differ('type', rev.typeOverrides?.[where]?.types ?? swaggerTypes(theirs), typesOf(mine));
  differ('format', theirs.format, mine.format);
  differ('$ref', refName(theirs.$ref), refName(mine.$ref));
  if (theirs.enum || mine.enum) {
    const missing = (theirs.enum ?? []).filter((v) => !(mine.enum ?? []).includes(v));
    const extra = (mine.enum ?? []).filter((v) => !(theirs.enum ?? []).includes(v));
    if (missing.length) problems.push(`${where}: enum value(s) ${missing.join(', ')} missing from the spec`);
    if (extra.length) problems.push(`${where}: enum value(s) ${extra.join(', ')} in the spec but not in Kasisto's file`);
  }
  if (rev.itemsOmitted?.[where]) {
    if (mine.items) problems.push(`${where}: items present although listed as omitted`);
  } else if (theirs.items || mine.items) {
    problems.push(...compareProperty(`${where}[]`, theirs.items ?? {}, mine.items ?? {}, rev));
  }
  return problems;
}

/** The differences between one Kasisto definition and our schema of the same name. */
function compareDefinition(name: string, def: Definition, schema: Definition | undefined, rev: Revision): string[] {
  if (!schema) return [`${name}: definition missing from components.schemas`];
  const problems: string[] = [];
  if (schema.type !== 'object') problems.push(`${name}: type object expected, spec has ${show(schema.type)}`);
  const theirs = def.properties ?? {};
  const mine = schema.properties ?? {};
  for (const prop of Object.keys(theirs)) if (!(prop in mine)) problems.push(`${name}.${prop}: in Kasisto's definition, missing from the spec`);
  for (const prop of Object.keys(mine)) {
    if (!(prop in theirs) && !rev.addedProperties?.[`${name}.${prop}`]) problems.push(`${name}.${prop}: in the spec, not in Kasisto's definition`);
  }
  const required = new Set(schema.required ?? []);
  const swaggerRequired = [...(def.required ?? []), ...Object.entries(theirs).filter(([, p]) => p.required === true).map(([n]) => n)];
  for (const prop of swaggerRequired) if (!required.has(prop)) problems.push(`${name}.${prop}: required in Kasisto's file, not in the spec's required list`);
  for (const [prop, t] of Object.entries(theirs)) if (mine[prop]) problems.push(...compareProperty(`${name}.${prop}`, t, mine[prop], rev));
  return problems;
}

/** The differences between Kasisto's operations and ours (paths, bodies, headers, statuses). */
function compareOperations(swagger: Swagger, spec: LoadedSpec, rev: Revision): string[] {
  const problems: string[] = [];
  const ours = spec.operations();
  for (const op of ours) {
    if (!swagger.paths[op.path]?.[op.method]) problems.push(`${op.method.toUpperCase()} ${op.path}: in the spec, not in Kasisto's file`);
  }
  for (const [path, item] of Object.entries(swagger.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const where = `${method.toUpperCase()} ${path}`;
      const mine = ours.find((o) => o.path === path && o.method === method);
      if (!mine) {
        problems.push(`${where}: in Kasisto's file, missing from the spec`);
        continue;
      }
      // Request body: schema and required flag.
      const body = op.parameters.find((p) => p.in === 'body');
      const reqBody = spec.resolve(mine.op.requestBody).value as { required?: boolean; content?: Record<string, { schema?: { $ref?: string } }> } | undefined;
      if (body) {
        const ref = refName(reqBody?.content?.['application/json']?.schema?.$ref);
        if (ref !== refName(body.schema?.$ref)) problems.push(`${where}: request body ${refName(body.schema?.$ref)} expected, spec has ${show(ref)}`);
        if ((reqBody?.required ?? false) !== (body.required ?? false)) {
          problems.push(`${where}: requestBody.required ${String(body.required ?? false)} expected, spec has ${String(reqBody?.required ?? false)}`);
        }
      }
      // Headers: secret/token as security schemes, the others as header parameters.
      const security = (mine.op.security ?? spec.doc.security) as Array<Record<string, unknown>>;
      const schemes = Object.keys(security?.[0] ?? {}).sort();
      if (security.length !== 1) problems.push(`${where}: one security requirement expected, spec has ${security.length}`);
      const headers = op.parameters.filter((p) => p.in === 'header');
      const expectedSchemes = headers.filter((h) => (h.name === 'secret' || h.name === 'token') && h.required).map((h) => h.name).sort();
      if (JSON.stringify(schemes) !== JSON.stringify(expectedSchemes)) {
        problems.push(`${where}: security schemes ${expectedSchemes.join(', ')} expected, spec has ${schemes.join(', ') || 'none'}`);
      }
      const params = mine.parameters.filter((p) => p.in === 'header');
      const param = (name: string) => params.find((p) => String(p.name).toLowerCase() === name.toLowerCase());
      for (const h of headers) {
        if ((h.name === 'secret' || h.name === 'token') && h.required) continue;
        const p = param(h.name);
        if (!p) problems.push(`${where}: header ${h.name} missing from the spec's parameters`);
        else if ((p.required ?? false) !== (h.required ?? false)) {
          problems.push(`${where}: header ${h.name} required ${String(h.required ?? false)} expected, spec has ${String(p.required ?? false)}`);
        }
      }
      for (const p of params) {
        const h = headers.find((x) => x.name.toLowerCase() === String(p.name).toLowerCase());
        if (!h && p.required) problems.push(`${where}: header ${String(p.name)} is required by the spec but not in Kasisto's file (additions must be optional)`);
      }
      // Statuses: Kasisto's, plus only the connector's own.
      for (const status of Object.keys(op.responses)) if (!mine.statuses.includes(status)) problems.push(`${where}: status ${status} missing`);
      for (const status of mine.statuses) {
        if (!(status in op.responses) && !CONNECTOR_STATUSES.includes(status) && !rev.addedStatuses?.[status]) problems.push(`${where}: status ${status} is neither Kasisto's nor the connector's`);
      }
      // Response schemas and the token response header.
      for (const [status, res] of Object.entries(op.responses)) {
        const r = spec.resolve(spec.at(`${mine.pointer}/responses/${status}`)).value as
          | { headers?: Record<string, unknown>; content?: Record<string, { schema?: { $ref?: string; type?: string; items?: { $ref?: string } } }> }
          | undefined;
        const schema = r?.content?.['application/json']?.schema;
        const describe = (s: { $ref?: string; type?: string; items?: { $ref?: string } } | undefined) =>
          s === undefined ? 'none' : s.$ref ? refName(s.$ref) : s.type === 'array' ? `array of ${show(refName(s.items?.$ref))}` : show(s.type);
        // Kasisto 1.0 errors have no body; our error_response there is the connector's addition.
        if (res.schema && describe(res.schema) !== describe(schema)) {
          problems.push(`${where}: ${status} body ${describe(res.schema)} expected, spec has ${describe(schema)}`);
        }
        if (status === '200' && Boolean(res.headers?.token) !== Boolean(r?.headers?.token) && !rev.addedTokenHeader?.[where]) {
          problems.push(`${where}: 200 token response header ${res.headers?.token ? 'expected' : 'not in Kasisto\'s file'}, spec ${r?.headers?.token ? 'has it' : 'has none'}`);
        }
      }
    }
  }
  return problems;
}

const fail = (problems: string[]) => {
  // Every difference on its own line, never truncated.
  if (problems.length) throw new Error(`${problems.length} difference(s):\n${problems.join('\n')}`);
};

it("keeps Kasisto's files unmodified: each matches the SHA-256 its README records", () => {
  const readme = readFileSync(resolve(PARTNER_DIR, 'README.md'), 'utf8');
  const recorded = [...readme.matchAll(/^([0-9a-f]{64}) {2}(\S+)$/gm)].map((m) => [m[2]!, m[1]!] as const);
  const files = [...new Set([...Object.values(REVISIONS).map((r) => r.swagger), 'api-overview-1.3.0-beta10.md'])];
  expect(recorded.map(([f]) => f).sort()).toEqual(files.sort());
  fail(
    recorded
      .filter(([f, sha]) => createHash('sha256').update(readFileSync(resolve(PARTNER_DIR, f))).digest('hex') !== sha)
      .map(([f]) => `spec/partners/kasisto/${f}: differs from the copy recorded in its README (partner files are not edited)`),
  );
});

it('has a spec for every revision listed here, and a revision entry for every spec', () => {
  expect([...KASISTO_REVISIONS].sort()).toEqual(Object.keys(REVISIONS).sort());
});

for (const [rev, r] of Object.entries(REVISIONS)) {
  describe(`Kasisto ${rev}: spec/kasisto/${rev}.yaml against spec/partners/kasisto/${r.swagger}`, () => {
    const swagger = JSON.parse(readFileSync(resolve(PARTNER_DIR, r.swagger), 'utf8')) as Swagger;
    const spec = loadSpec(`kasisto-${rev}`);
    const ours = (spec.doc.components as { schemas: Record<string, JsonObject> }).schemas as Record<string, Definition>;

    it('compares a non-trivial set of definitions and operations', () => {
      expect(Object.keys(swagger.definitions).length).toBeGreaterThanOrEqual(20);
      expect(Object.keys(swagger.paths).length).toBeGreaterThanOrEqual(10);
    });

    it('has no schemas beyond Kasisto\'s definitions except the documented additions', () => {
      fail(
        Object.keys(ours)
          .filter((n) => !(n in swagger.definitions) && !r.addedSchemas?.[n])
          .map((n) => `${n}: schema in the spec, not a definition in Kasisto's file`),
      );
    });

    it('lists only real additions (each documented difference still applies)', () => {
      const problems: string[] = [];
      for (const [where, { source }] of Object.entries(r.addedProperties ?? {})) {
        const [def, prop] = where.split('.') as [string, string];
        if (swagger.definitions[def]?.properties?.[prop]) problems.push(`${where}: listed as added, but Kasisto's file has it`);
        if (!ours[def]?.properties?.[prop]) problems.push(`${where}: listed as added, but the spec lacks it`);
        if (source && !readFileSync(resolve(PARTNER_DIR, source), 'utf8').includes(`"${prop}"`)) problems.push(`${where}: ${source} does not mention "${prop}"`);
      }
      for (const name of Object.keys(r.addedSchemas ?? {})) {
        if (name in swagger.definitions) problems.push(`${name}: listed as an added schema, but Kasisto's file defines it`);
        if (!(name in ours)) problems.push(`${name}: listed as an added schema, but the spec lacks it`);
      }
      for (const where of Object.keys(r.itemsOmitted ?? {})) {
        const [def, prop] = where.split('.') as [string, string];
        if (!swagger.definitions[def]?.properties?.[prop]?.items) problems.push(`${where}: listed as items omitted, but Kasisto's file has no items there`);
      }
      fail(problems);
    });

    for (const [name, def] of Object.entries(swagger.definitions)) {
      it(`definition ${name}`, () => fail(compareDefinition(name, def, ours[name], r)));
    }

    it('has every operation of Kasisto\'s file, and no other, with its body, headers, statuses and 200 schema', () => {
      fail(compareOperations(swagger, spec, r));
    });
  });
}

describe('the comparison itself (self-check)', () => {
  const rev = REVISIONS['1.3']!;
  it('names the definition and the property of a wrong type', () => {
    expect(compareProperty('account.fcy_available_balance', { type: 'number', format: 'float' }, { type: 'string', format: 'float' }, rev)).toEqual([
      'account.fcy_available_balance: type number expected, spec has string',
    ]);
  });
  it('names a missing property, an extra one, a missing enum value and a required flag', () => {
    const def: Definition = { type: 'object', required: ['amount'], properties: { amount: { type: 'number' }, status: { type: 'string', enum: ['a', 'b'] } } };
    const schema: Definition = { type: 'object', properties: { status: { type: 'string', enum: ['a'] }, extra: { type: 'string' } } };
    expect(compareDefinition('transfer', def, schema, rev).sort()).toEqual(
      [
        "transfer.amount: in Kasisto's definition, missing from the spec",
        "transfer.extra: in the spec, not in Kasisto's definition",
        "transfer.amount: required in Kasisto's file, not in the spec's required list",
        'transfer.status: enum value(s) b missing from the spec',
      ].sort(),
    );
  });
});

describe('Kasisto 1.0 quirks kept on purpose', () => {
  const ours = (loadSpec('kasisto-1.0').doc.components as { schemas: Record<string, Definition> }).schemas;
  const swagger = JSON.parse(readFileSync(resolve(PARTNER_DIR, REVISIONS['1.0']!.swagger), 'utf8')) as Swagger;
  it('available_credit is [string, number]; transaction.description has no type, as in Kasisto 1.0', () => {
    expect(typesOf(ours.account!.properties!.available_credit)).toEqual(['number', 'string']);
    expect(ours.transaction!.properties!.description!.type).toBeUndefined();
    expect(swagger.definitions.transaction!.properties!.description!.type).toBeUndefined();
  });
});
