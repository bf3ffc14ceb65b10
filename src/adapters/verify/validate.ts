/**
 * Validators of Verify's 2xx response bodies, compiled once per process from the response
 * schemas of spec/verify.yaml (the same file the types in generated/verify.ts come from).
 * Unknown fields are allowed (Verify may add fields at any time); missing required fields,
 * wrong types, wrong `object` constants, unknown status enums and bad id patterns are not.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { projectPath } from '../../paths.js';

/** spec/verify.yaml of the project (found from src/ and from dist/src/ alike). */
export const VERIFY_SPEC_URL = pathToFileURL(projectPath('spec', 'verify.yaml'));

const SPEC_ID = 'https://verify.invalid/spec/verify.yaml';
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

export interface ResponseValidators {
  /** Validates the 2xx JSON body of an operation; returns a short description of the violation, or undefined. */
  check(operationId: string, body: unknown): string | undefined;
  operations(): string[];
}

let cached: ResponseValidators | undefined;

/** The validators for spec/verify.yaml, compiled on the first call and shared afterwards. */
export function responseValidators(): ResponseValidators {
  cached ??= compileValidators(readFileSync(fileURLToPath(VERIFY_SPEC_URL), 'utf8'));
  return cached;
}

/** Compiles validators from the text of an OpenAPI 3.1 document (exported for tests). */
export function compileValidators(specText: string): ResponseValidators {
  const spec = parse(specText) as { paths?: Record<string, Record<string, unknown>> };
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
  addFormats.default(ajv);
  // The whole document as one schema resource: the spec's `#/components/schemas/…` refs resolve in it.
  ajv.addSchema({ ...(spec as object), $id: SPEC_ID });

  const validators = new Map<string, ValidateFunction>();
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
      validators.set(op.operationId, ajv.compile({ $ref: `${SPEC_ID}#/${pointer}` }));
    }
  }

  return {
    check(operationId, body) {
      const validate = validators.get(operationId);
      if (!validate) return `no response schema for ${operationId}`;
      if (validate(body)) return undefined;
      const first = validate.errors?.[0];
      // instancePath names fields only and Ajv messages carry schema values, never data
      return first ? `response ${first.instancePath || 'body'} ${first.message ?? 'is invalid'}` : 'response is invalid';
    },
    operations() {
      return [...validators.keys()];
    },
  };
}
