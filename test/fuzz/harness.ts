/**
 * What every fuzzed answer must satisfy, and the tally written to
 * test/fuzz/.results/fuzz.json for the reliability report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSpec, type LoadedSpec } from '../helpers/spec.js';

export const RESULTS_FILE = join(dirname(fileURLToPath(import.meta.url)), '.results', 'fuzz.json');

const defaultSpec = loadSpec('kasisto');

export interface OperationInfo {
  operationId: string;
  /** Path under the base path, e.g. `/transfer`. */
  path: string;
  statuses: Set<number>;
  needsToken: boolean;
  properties: string[];
  /** The body's property schemas (type, format, items), for values that get past validation. */
  schemas: Record<string, PropertySchema>;
  /** The spec's example request bodies: valid baselines to mutate. */
  examples: Record<string, unknown>[];
}

export interface PropertySchema {
  type?: string | string[];
  format?: string;
  items?: PropertySchema;
}

/** The Kasisto operations as spec/kasisto/1.0.yaml (or another revision's spec) describes them. */
export function kasistoOperations(kasisto: LoadedSpec = defaultSpec): OperationInfo[] {
  return kasisto.operations().map((op) => {
    const security = Array.isArray(op.op.security) ? op.op.security : [];
    const needsToken = security.some((s) => s !== null && typeof s === 'object' && !Array.isArray(s) && 'token' in s);
    const body = kasisto.resolve((op.op.requestBody as Record<string, unknown> | undefined) as never).value as
      | { content?: Record<string, { schema?: unknown; examples?: Record<string, { value?: unknown }> }> }
      | undefined;
    const examples = Object.values(body?.content?.['application/json']?.examples ?? {})
      .map((e) => kasisto.resolve(e as never).value as { value?: unknown })
      .map((e) => e.value)
      .filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v));
    const schema = kasisto.resolve(body?.content?.['application/json']?.schema as never).value as { properties?: Record<string, unknown> } | undefined;
    return {
      operationId: op.operationId ?? op.path,
      path: op.path,
      statuses: new Set(op.statuses.map(Number)),
      needsToken,
      properties: Object.keys(schema?.properties ?? {}),
      schemas: (schema?.properties ?? {}) as Record<string, PropertySchema>,
      examples: examples.length > 0 ? examples : [{}],
    };
  });
}

export class Tally {
  inputs = 0;
  readonly byStatus: Record<string, number> = {};
  readonly byOperation: Record<string, number> = {};
  private readonly started = Date.now();

  count(operation: string, status: number | string): void {
    this.inputs += 1;
    this.byStatus[String(status)] = (this.byStatus[String(status)] ?? 0) + 1;
    this.byOperation[operation] = (this.byOperation[operation] ?? 0) + 1;
  }

  write(): void {
    mkdirSync(dirname(RESULTS_FILE), { recursive: true });
    const figures = {
      inputs: this.inputs,
      operations: this.byOperation,
      byStatus: this.byStatus,
      durationMs: Date.now() - this.started,
      finishedAt: new Date().toISOString(),
    };
    writeFileSync(RESULTS_FILE, JSON.stringify(figures, null, 2) + '\n');
  }
}

export interface Answer {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

/** Text that must never appear in an answer: stack frames, source paths, internal codes. */
const LEAKS: [RegExp, string][] = [
  [/\n\s+at\s/, 'a stack trace'],
  [/\bat [^\s]+ \(.*:\d+:\d+\)/, 'a stack frame'],
  [/node_modules/, 'a node_modules path'],
  [/\/(?:src|test|generated)\/[\w/.-]+\.(?:ts|js)/, 'a source path'],
  [/\bFST_[A-Z_]+/, 'a Fastify error code'],
  [/\bSQLITE_|\bsyntax error at or near\b|\bKysely\b/i, 'a database error'],
  [/\bTypeError\b|\bRangeError\b|\bReferenceError\b|\bSyntaxError\b/, 'a JavaScript error name'],
  [/Cannot read propert|is not a function|undefined is not/, 'a JavaScript error message'],
];

export interface CheckOptions {
  operation: OperationInfo | undefined;
  /** Strings that must not be echoed (the secret, the caller's token). */
  secrets: string[];
  /** The URL's percent-encoding is malformed. */
  badUrl?: boolean;
  /** The contract answers are checked against (default: spec/kasisto/1.0.yaml). */
  spec?: LoadedSpec;
  /** 5xx statuses this operation answers by design (501 for an operation the bank cannot fulfil). */
  expected5xx?: number[];
}

/**
 * The properties of every answer: no 5xx, a status the spec documents for the operation
 * (404 for unknown paths), the spec's body for it, `{code, message}` with a message on
 * every error, and nothing internal or secret in it.
 */
export function checkAnswer(res: Answer, { operation, secrets, badUrl = false, spec: kasisto = defaultSpec, expected5xx = [] }: CheckOptions): void {
  const where = `${operation?.operationId ?? 'unknown path'} answered ${res.statusCode}: ${res.body.slice(0, 500)}`;
  if (res.statusCode >= 500 && !expected5xx.includes(res.statusCode)) throw new Error(`5xx: ${where}`);
  if (operation) {
    if (!operation.statuses.has(res.statusCode)) throw new Error(`status not documented for the operation: ${where}`);
  } else if (![401, 404].includes(res.statusCode) && !(res.statusCode === 400 && badUrl)) {
    throw new Error(`unknown path must answer 401 or 404 (400 for a malformed URL): ${where}`);
  }
  const contentType = String(res.headers['content-type'] ?? '');
  if (!contentType.startsWith('application/json')) throw new Error(`content-type ${contentType || '(none)'}: ${where}`);
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    throw new Error(`body is not JSON: ${where}`);
  }
  const result = operation
    ? kasisto.validateResponse(operation.path, 'post', res.statusCode, body)
    : kasisto.validateSchema('error_response', body);
  if (!result.valid) throw new Error(`body does not match the spec (${result.message}): ${where}`);
  if (res.statusCode !== 200) {
    const { code, message } = body as { code: string; message: string };
    if (code.trim() === '' || message.trim() === '') throw new Error(`empty code or message: ${where}`);
    if (res.statusCode === 400 && !/^[A-Za-z][\w.-]*: \S/.test(message)) throw new Error(`a 400 message must start with the field: ${where}`);
  }
  for (const [pattern, what] of LEAKS) {
    if (pattern.test(res.body)) throw new Error(`answer contains ${what}: ${where}`);
  }
  if (res.body.includes(process.cwd())) throw new Error(`answer contains a server path: ${where}`);
  for (const secret of secrets) {
    if (secret && res.body.includes(secret)) throw new Error(`answer echoes a secret or token: ${where}`);
  }
}
