/**
 * Loads one of our OpenAPI 3.1 contracts and validates values against its schemas with
 * Ajv (JSON Schema 2020-12, the dialect of OpenAPI 3.1).
 *
 *   const kasisto = loadSpec('kasisto');                       // or a path to a YAML/JSON file
 *   kasisto.validateSchema('account', value);                  // #/components/schemas/account
 *   kasisto.validateResponse('/accounts', 'post', 200, body);  // the operation's response schema
 *   kasisto.assertResponse('/api/accounts', 'post', res.status, body); // throws with details
 *
 * The whole document is added to Ajv under an `$id`, and every validator is a `$ref` into
 * it, so `$ref`s resolve through the whole document (components, inline schemas in paths).
 * OpenAPI-level `$ref`s (a response, parameter, request body or example that is a `$ref`)
 * are followed with resolve().
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import _addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { PROJECT_ROOT } from './prism.js';

// ajv-formats is CommonJS: under NodeNext its default import is typed as the module object.
const addFormats = ((_addFormats as unknown as { default?: unknown }).default ?? _addFormats) as typeof _addFormats.default;

export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch' | 'trace';
export const HTTP_METHODS: readonly HttpMethod[] = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Loose OpenAPI shapes: enough for walking the documents in tests. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Operation {
  path: string;
  method: HttpMethod;
  operationId: string | undefined;
  /** JSON pointer of the operation object (`/paths/~1token/post`). */
  pointer: string;
  op: JsonObject;
  /** Path-level and operation-level parameters, `$ref`s resolved (operation wins). */
  parameters: JsonObject[];
  /** Documented response statuses as written (`'200'`, `'4XX'`, `'default'`). */
  statuses: string[];
}

export interface ValidationResult {
  valid: boolean;
  errors: ErrorObject[];
  /** Human-readable summary of the errors ('' when valid). */
  message: string;
}

export interface LoadedSpec {
  name: string;
  file: string;
  doc: JsonObject;
  /** `$id` under which the document was added to Ajv. */
  id: string;
  ajv: Ajv2020;
  /** Follows OpenAPI `$ref`s (`#/...` only) until a non-ref object; returns it and its pointer. */
  resolve(value: Json | undefined, pointer?: string): { value: Json | undefined; pointer: string };
  /** The value at a JSON pointer (`/components/schemas/x`), or undefined. */
  at(pointer: string): Json | undefined;
  operations(): Operation[];
  /** Finds an operation by its spec path (`/sessions/{session_id}`) or a concrete path (`/api/accounts`). */
  findOperation(pathOrUrl: string, method: string): Operation | undefined;
  /** Validator for the schema at a JSON pointer of the document (cached). */
  validatorAt(pointer: string): ValidateFunction;
  validateAt(pointer: string, value: unknown): ValidationResult;
  validateSchema(name: string, value: unknown): ValidationResult;
  /** JSON pointer of the response schema for (path, method, status, media type), or undefined. */
  responseSchemaPointer(path: string, method: string, status: number | string, mediaType?: string): string | undefined;
  validateResponse(path: string, method: string, status: number | string, body: unknown, mediaType?: string): ValidationResult;
  /** Like validateResponse, but throws an Error naming the operation and the errors. */
  assertResponse(path: string, method: string, status: number | string, body: unknown, mediaType?: string): void;
}

/**
 * The Kasisto revisions with a spec (`spec/kasisto/<revision>.yaml`), read from the folder
 * so a new revision is covered by every suite that loops over them.
 */
export const KASISTO_REVISIONS: readonly string[] = readdirSync(resolvePath(PROJECT_ROOT, 'spec/kasisto'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.slice(0, -'.yaml'.length))
  .sort();

const SPEC_FILES: Record<string, string> = {
  kasisto: 'spec/kasisto/1.0.yaml',
  verify: 'spec/verify.yaml',
  ...Object.fromEntries(KASISTO_REVISIONS.map((rev) => [`kasisto-${rev}`, `spec/kasisto/${rev}.yaml`])),
  operator: 'spec/operator.yaml',
};

export function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
export function unescapePointerToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}
export function pointerOf(...tokens: Array<string | number>): string {
  return tokens.map((t) => '/' + escapePointerToken(String(t))).join('');
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function valueAt(doc: Json, pointer: string): Json | undefined {
  if (pointer === '' || pointer === '#') return doc;
  const p = pointer.startsWith('#') ? pointer.slice(1) : pointer;
  let cur: Json | undefined = doc;
  for (const raw of p.split('/').slice(1)) {
    const token = unescapePointerToken(decodeURIComponent(raw));
    if (Array.isArray(cur)) cur = cur[Number(token)];
    else if (isObject(cur)) cur = cur[token];
    else return undefined;
  }
  return cur;
}

const specCache = new Map<string, LoadedSpec>();

/** Loads `kasisto` (revision 1.0), `kasisto-<revision>`, `verify` or a spec file (relative to the project root); cached per file. */
export function loadSpec(nameOrPath: string): LoadedSpec {
  const rel = SPEC_FILES[nameOrPath] ?? nameOrPath;
  const file = resolvePath(PROJECT_ROOT, rel);
  const cached = specCache.get(file);
  if (cached) return cached;
  const spec = buildSpec(file, parse(readFileSync(file, 'utf8')) as JsonObject);
  specCache.set(file, spec);
  return spec;
}

/** Builds a LoadedSpec from an already parsed document (e.g. a modified copy). */
export function buildSpec(file: string, doc: JsonObject): LoadedSpec {
  // spec/kasisto/1.3.yaml → kasisto-1.3; other files by their base name.
  const name = file.replace(/^.*\/(kasisto)\//, '$1-').replace(/^.*\//, '').replace(/\.(ya?ml|json)$/i, '');
  const id = `urn:contract:${encodeURIComponent(file)}`;
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  // OpenAPI's own formats (https://spec.openapis.org/registry/format/).
  const isInt = (min: number, max: number) => (n: number) => Number.isInteger(n) && n >= min && n <= max;
  ajv.addFormat('int32', { type: 'number', validate: isInt(-(2 ** 31), 2 ** 31 - 1) });
  ajv.addFormat('int64', { type: 'number', validate: isInt(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER) });
  ajv.addFormat('float', { type: 'number', validate: (n: number) => Number.isFinite(n) });
  ajv.addFormat('double', { type: 'number', validate: (n: number) => Number.isFinite(n) });
  ajv.addFormat('password', true);
  // The document itself is the schema resource; OpenAPI's keys are unknown keywords to Ajv.
  ajv.addSchema({ ...doc, $id: id } as object, id);

  const validators = new Map<string, ValidateFunction>();

  const resolve: LoadedSpec['resolve'] = (value, pointer = '') => {
    let cur = value;
    let ptr = pointer;
    const seen = new Set<string>();
    while (isObject(cur) && typeof cur.$ref === 'string') {
      const ref = cur.$ref;
      if (!ref.startsWith('#')) throw new Error(`${name}: external $ref not supported: ${ref} (at ${ptr})`);
      if (seen.has(ref)) throw new Error(`${name}: circular $ref ${ref}`);
      seen.add(ref);
      ptr = ref.slice(1);
      cur = valueAt(doc, ptr);
      if (cur === undefined) throw new Error(`${name}: unresolvable $ref ${ref}`);
    }
    return { value: cur, pointer: ptr };
  };

  let ops: Operation[] | undefined;
  const operations = (): Operation[] => {
    if (ops) return ops;
    ops = [];
    const paths = isObject(doc.paths) ? doc.paths : {};
    for (const [path, rawItem] of Object.entries(paths)) {
      const { value: item, pointer: itemPtr } = resolve(rawItem, pointerOf('paths', path));
      if (!isObject(item)) continue;
      const common = Array.isArray(item.parameters) ? item.parameters : [];
      for (const method of HTTP_METHODS) {
        const op = item[method];
        if (!isObject(op)) continue;
        const params = new Map<string, JsonObject>();
        for (const p of [...common, ...(Array.isArray(op.parameters) ? op.parameters : [])]) {
          const r = resolve(p).value;
          if (isObject(r)) params.set(`${String(r.in)}:${String(r.name)}`, r);
        }
        ops.push({
          path,
          method,
          operationId: typeof op.operationId === 'string' ? op.operationId : undefined,
          pointer: itemPtr + pointerOf(method),
          op,
          parameters: [...params.values()],
          statuses: isObject(op.responses) ? Object.keys(op.responses) : [],
        });
      }
    }
    return ops;
  };

  const basePath = (() => {
    const servers = Array.isArray(doc.servers) ? doc.servers : [];
    const url = isObject(servers[0]) ? servers[0].url : undefined;
    return typeof url === 'string' && url.startsWith('/') ? url.replace(/\/+$/, '') : '';
  })();

  const findOperation: LoadedSpec['findOperation'] = (pathOrUrl, method) => {
    const m = method.toLowerCase();
    let path = pathOrUrl.replace(/^https?:\/\/[^/]+/, '').replace(/[?#].*$/, '');
    const candidates = operations().filter((o) => o.method === m);
    const exact = candidates.find((o) => o.path === path);
    if (exact) return exact;
    if (basePath && path.startsWith(basePath + '/')) path = path.slice(basePath.length);
    for (const o of candidates) {
      const re = new RegExp('^' + o.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+') + '$');
      if (re.test(path)) return o;
    }
    return undefined;
  };

  const validatorAt: LoadedSpec['validatorAt'] = (pointer) => {
    const ptr = pointer.startsWith('#') ? pointer.slice(1) : pointer;
    let v = validators.get(ptr);
    if (!v) {
      if (valueAt(doc, ptr) === undefined) throw new Error(`${name}: no schema at #${ptr}`);
      const fragment = ptr
        .split('/')
        .map((t) => encodeURIComponent(t))
        .join('/');
      v = ajv.compile({ $ref: `${id}#${fragment}` });
      validators.set(ptr, v);
    }
    return v;
  };

  const validateAt: LoadedSpec['validateAt'] = (pointer, value) => {
    const v = validatorAt(pointer);
    const valid = v(value) as boolean;
    const errors = valid ? [] : [...(v.errors ?? [])];
    return {
      valid,
      errors,
      message: valid ? '' : ajv.errorsText(errors, { dataVar: 'value', separator: '\n  ' }),
    };
  };

  const responseSchemaPointer: LoadedSpec['responseSchemaPointer'] = (path, method, status, mediaType = 'application/json') => {
    const op = findOperation(path, method);
    if (!op) throw new Error(`${name}: no operation ${method.toUpperCase()} ${path}`);
    const responses = isObject(op.op.responses) ? op.op.responses : {};
    const code = String(status);
    const key =
      code in responses ? code : `${code[0]}XX` in responses ? `${code[0]}XX` : 'default' in responses ? 'default' : undefined;
    if (key === undefined) {
      throw new Error(`${name}: ${method.toUpperCase()} ${op.path} documents no response ${code} (has ${op.statuses.join(', ')})`);
    }
    const { value: response, pointer: respPtr } = resolve(responses[key], op.pointer + pointerOf('responses', key));
    if (!isObject(response) || !isObject(response.content)) return undefined;
    const content = response.content;
    const mt =
      mediaType in content
        ? mediaType
        : Object.keys(content).find((k) => k.split(';')[0]!.trim() === mediaType.split(';')[0]!.trim());
    if (mt === undefined || !isObject(content[mt]) || content[mt].schema === undefined) return undefined;
    return respPtr + pointerOf('content', mt, 'schema');
  };

  const validateResponse: LoadedSpec['validateResponse'] = (path, method, status, body, mediaType) => {
    const ptr = responseSchemaPointer(path, method, status, mediaType);
    if (ptr === undefined) {
      const empty = body === undefined || body === '' || body === null;
      return empty
        ? { valid: true, errors: [], message: '' }
        : { valid: false, errors: [], message: `no ${mediaType ?? 'application/json'} body is documented for ${status}` };
    }
    return validateAt(ptr, body);
  };

  return {
    name,
    file,
    doc,
    id,
    ajv,
    resolve,
    at: (pointer) => valueAt(doc, pointer),
    operations,
    findOperation,
    validatorAt,
    validateAt,
    validateSchema: (schemaName, value) => validateAt(pointerOf('components', 'schemas', schemaName), value),
    responseSchemaPointer,
    validateResponse,
    assertResponse: (path, method, status, body, mediaType) => {
      const r = validateResponse(path, method, status, body, mediaType);
      if (!r.valid) {
        throw new Error(
          `${name}: ${method.toUpperCase()} ${path} ${status} does not match the contract:\n  ${r.message}\n` +
            `body: ${JSON.stringify(body)?.slice(0, 2000)}`,
        );
      }
    },
  };
}
