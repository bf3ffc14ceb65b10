/**
 * Validators of Verify's 2xx response bodies, compiled once per process from the response
 * schemas of spec/verify.yaml (the same file the types in generated/verify.ts come from).
 *
 * A tolerant reader: each body is checked twice.
 * - Against a TOLERANT copy of the spec: no `enum`, id patterns of any length from 1 to 64
 *   (the length of 12 is inferred; the prefix is not), and `required` cut down to what the connector truly needs (ESSENTIAL). A
 *   failure here (not JSON, wrong types, wrong `object` constant, an essential field
 *   missing) is a contract failure.
 * - Against the spec as written. What fails only here is drift: an unknown enum value, a
 *   missing non-essential field, an id that does not match the inferred pattern. Drift is
 *   reported (pointer, kind, the value's JSON type, never the value) and the body is used.
 * Unknown extra fields are accepted by both (Verify may add fields at any time).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { projectPath } from '../../paths.js';

/** spec/verify.yaml of the project (found from src/ and from dist/src/ alike). */
export const VERIFY_SPEC_URL = pathToFileURL(projectPath('spec', 'verify.yaml'));

const SPEC_ID = 'https://verify.invalid/spec/verify.yaml';
const TOLERANT_ID = 'https://verify.invalid/spec/verify.tolerant.yaml';
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/**
 * Required fields without which the connector cannot go on, per component schema: ids it
 * calls back with, statuses it decides on, and the account fields money and account ids
 * are computed from. Every other `required` entry of the spec is drift when missing.
 * Inline (unnamed) object schemas keep DEFAULT_ESSENTIAL.
 */
const ESSENTIAL: Record<string, readonly string[]> = {
  bank: ['id', 'object'],
  session: ['id', 'object', 'status'],
  transfer: ['id', 'object', 'status'],
  verification: ['id', 'object', 'status', 'type'],
  bank_account: ['id', 'object', 'iban', 'number', 'currency', 'balance'],
  error: ['object', 'message'],
};
const DEFAULT_ESSENTIAL = ['id', 'object', 'status'];

/**
 * - `unknown_enum`: a value outside the spec's enum (e.g. a new transfer status).
 * - `missing_field`: a required, non-essential field is absent.
 * - `pattern_mismatch`: a string does not match the spec's (inferred) pattern.
 */
export type DriftKind = 'unknown_enum' | 'missing_field' | 'pattern_mismatch';

export interface ContractDrift {
  kind: DriftKind;
  /** JSON pointer into the body, array indices written `*` (`/*\/status`) so it stays low-cardinality. */
  pointer: string;
  /** JSON type of the offending value (`string`, `number`, …) or `missing`. Never the value. */
  valueType: string;
}

export interface CheckResult {
  /** A contract failure: a short description (field paths and schema words only, no data). */
  violation?: string;
  /** Departures the connector tolerates; empty when the body is exactly as specified. */
  drift: ContractDrift[];
}

export interface ResponseValidators {
  /** Validates the 2xx JSON body of an operation. */
  check(operationId: string, body: unknown): CheckResult;
  operations(): string[];
}

let cached: ResponseValidators | undefined;

/** The validators for spec/verify.yaml, compiled on the first call and shared afterwards. */
export function responseValidators(): ResponseValidators {
  cached ??= compileValidators(readFileSync(fileURLToPath(VERIFY_SPEC_URL), 'utf8'));
  return cached;
}

/** A copy of the spec with enums dropped, id lengths relaxed and `required` cut to ESSENTIAL. */
export function tolerantSpec(spec: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(spec) as { components?: { schemas?: Record<string, unknown> } };
  const relax = (node: unknown, essential: readonly string[]): void => {
    if (Array.isArray(node)) {
      for (const item of node) relax(item, essential);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const schema = node as Record<string, unknown>;
    if (Array.isArray(schema.enum)) delete schema.enum;
    // ids: the prefixes are in Verify's examples, the length of 12 is inferred
    if (typeof schema.pattern === 'string') schema.pattern = schema.pattern.replace(/\{12\}/g, '{1,64}');
    if (Array.isArray(schema.required)) schema.required = schema.required.filter((f) => essential.includes(f as string));
    for (const [key, value] of Object.entries(schema)) {
      // `examples`/`example` are data, not schemas
      if (key !== 'examples' && key !== 'example') relax(value, DEFAULT_ESSENTIAL);
    }
  };
  for (const [name, schema] of Object.entries(copy.components?.schemas ?? {})) relax(schema, ESSENTIAL[name] ?? DEFAULT_ESSENTIAL);
  for (const [key, value] of Object.entries(copy)) if (key !== 'components') relax(value, DEFAULT_ESSENTIAL);
  return copy as Record<string, unknown>;
}

/** Compiles validators from the text of an OpenAPI 3.1 document (exported for tests). */
export function compileValidators(specText: string): ResponseValidators {
  const spec = parse(specText) as { paths?: Record<string, Record<string, unknown>> };
  // verbose: errors carry the schema object they come from, to tell oneOf branches apart
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true, verbose: true });
  addFormats.default(ajv);
  const tolerantAjv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
  addFormats.default(tolerantAjv);
  // The whole document as one schema resource: the spec's `#/components/schemas/…` refs resolve in it.
  ajv.addSchema({ ...(spec as object), $id: SPEC_ID });
  tolerantAjv.addSchema({ ...tolerantSpec(spec as Record<string, unknown>), $id: TOLERANT_ID });
  const owners = propertyOwners(spec);

  const validators = new Map<string, { strict: ValidateFunction; tolerant: ValidateFunction }>();
  for (const [path, item] of Object.entries(spec.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method] as { operationId?: string; responses?: Record<string, unknown> } | undefined;
      if (!op?.operationId || !op.responses) continue;
      const status = Object.keys(op.responses).find((s) => /^2\d\d$/.test(s));
      if (!status) continue;
      const pointer = ['paths', path, method, 'responses', status, 'content', 'application/json', 'schema']
        .map((token) => token.replace(/~/g, '~0').replace(/\//g, '~1'))
        .join('/');
      const response = op.responses[status] as { content?: Record<string, { schema?: unknown }> } | undefined;
      if (!response?.content?.['application/json']?.schema) continue;
      validators.set(op.operationId, {
        strict: ajv.compile({ $ref: `${SPEC_ID}#/${pointer}` }),
        tolerant: tolerantAjv.compile({ $ref: `${TOLERANT_ID}#/${pointer}` }),
      });
    }
  }

  return {
    check(operationId, body) {
      const v = validators.get(operationId);
      if (!v) return { violation: `no response schema for ${operationId}`, drift: [] };
      if (!v.tolerant(body)) {
        const first = v.tolerant.errors?.[0];
        // instancePath names fields only and Ajv messages carry schema values, never data
        const violation = first ? `response ${first.instancePath || 'body'} ${first.message ?? 'is invalid'}` : 'response is invalid';
        return { violation, drift: [] };
      }
      if (v.strict(body)) return { drift: [] };
      return { drift: driftOf(v.strict.errors ?? [], body, owners) };
    },
    operations() {
      return [...validators.keys()];
    },
  };
}

const DRIFT_KEYWORDS: Record<string, DriftKind> = { enum: 'unknown_enum', required: 'missing_field', pattern: 'pattern_mismatch' };

/** Maps each property schema object of the spec to the object schema whose `properties` hold it. */
function propertyOwners(node: unknown, owners = new WeakMap<object, object>()): WeakMap<object, object> {
  if (!node || typeof node !== 'object') return owners;
  const props = (node as { properties?: unknown }).properties;
  if (props && typeof props === 'object' && !Array.isArray(props)) {
    for (const child of Object.values(props)) if (child && typeof child === 'object') owners.set(child, node);
  }
  for (const value of Object.values(node)) propertyOwners(value, owners);
  return owners;
}

/**
 * The drift among the strict validator's errors. Under a `oneOf` (a verification's
 * `verifiable` is a session or a transfer) Ajv reports the errors of every branch; the
 * branches the body is not (its `object` constant or a type does not match) are dropped,
 * keyed by (instance object, object schema): Ajv's verbose `parentSchema` is the spec's own
 * schema object, so the owners map tells which object schema an error belongs to.
 */
function driftOf(errors: ErrorObject[], body: unknown, owners: WeakMap<object, object>): ContractDrift[] {
  const ids = new Map<object, number>();
  const idOf = (o: object | undefined) => {
    if (!o) return -1;
    if (!ids.has(o)) ids.set(o, ids.size);
    return ids.get(o)!;
  };
  const owner = (e: ErrorObject) => {
    const parent = e.parentSchema as object | undefined;
    if (e.keyword === 'required') return `${e.instancePath}|${idOf(parent)}`;
    return `${e.instancePath.replace(/\/[^/]*$/, '')}|${idOf(parent ? owners.get(parent) : undefined)}`;
  };
  const wrongBranch = new Set(errors.filter((e) => e.keyword === 'const' || e.keyword === 'type').map(owner));
  const seen = new Set<string>();
  const out: ContractDrift[] = [];
  for (const e of errors) {
    const kind = DRIFT_KEYWORDS[e.keyword];
    if (!kind || wrongBranch.has(owner(e))) continue;
    const missing = e.keyword === 'required' ? String((e.params as { missingProperty?: unknown }).missingProperty ?? '') : undefined;
    const path = missing === undefined ? e.instancePath : `${e.instancePath}/${missing.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const pointer = path.replace(/\/\d+(?=\/|$)/g, '/*');
    const key = `${kind}${pointer}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ kind, pointer, valueType: missing === undefined ? jsonType(at(body, e.instancePath)) : 'missing' });
  }
  return out;
}

function at(body: unknown, pointer: string): unknown {
  if (!pointer) return body;
  let current: unknown = body;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[token];
  }
  return current;
}

/** The JSON type of a value: what a drift log line may say about it. */
export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (Number.isInteger(value)) return 'integer';
  return typeof value;
}
