/**
 * What the Kasisto contract says of each operation, read from the spec rather than repeated
 * by hand in the handlers: which ones take the customer's token, which may answer 450 (ask
 * for a one-time password), and which one answers a one-time password (lists 451–453).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export interface OperationRules {
  /** every security requirement includes the customer's `token` */
  needsToken: Set<string>;
  /** the contract lists 450 */
  mayAskOtp: Set<string>;
  /** the contract lists 451 (a wrong one-time password): where a pending OTP is answered */
  answersOtp: Set<string>;
  /** a `token` header parameter without a requirement of it (1.3 /bank_locations: optional) */
  mayTakeToken: Set<string>;
  /** header parameters the contract marks required (1.2/1.3: `Date`, `request_id`), as written */
  requiredHeaders: Map<string, string[]>;
}

export function operationRules(specFile: string): OperationRules {
  type Parameter = { $ref?: string; name?: string; in?: string; required?: boolean };
  type Operation = { operationId?: string; security?: Record<string, unknown>[]; responses?: Record<string, unknown>; parameters?: Parameter[] };
  const spec = parseYaml(readFileSync(specFile, 'utf8')) as {
    security?: Record<string, unknown>[];
    paths?: Record<string, Record<string, Operation>>;
    components?: { parameters?: Record<string, Parameter> };
  };
  const rules: OperationRules = { needsToken: new Set(), mayAskOtp: new Set(), answersOtp: new Set(), mayTakeToken: new Set(), requiredHeaders: new Map() };
  const resolve = (p: Parameter): Parameter => (p.$ref?.startsWith('#/components/parameters/') ? (spec.components?.parameters?.[p.$ref.slice('#/components/parameters/'.length)] ?? p) : p);
  for (const item of Object.values(spec.paths ?? {})) {
    for (const operation of Object.values(item)) {
      const id = operation.operationId;
      if (!id) continue;
      const security = operation.security ?? spec.security ?? [];
      if (security.length > 0 && security.every((requirement) => 'token' in requirement)) rules.needsToken.add(id);
      if (operation.responses?.['450']) rules.mayAskOtp.add(id);
      if (operation.responses?.['451']) rules.answersOtp.add(id);
      const headers = (operation.parameters ?? []).map(resolve).filter((p) => p.in === 'header');
      if (!rules.needsToken.has(id) && headers.some((p) => p.name === 'token')) rules.mayTakeToken.add(id);
      const required = headers.filter((p) => p.required && p.name && p.name !== 'token' && p.name !== 'secret').map((p) => p.name!);
      if (required.length > 0) rules.requiredHeaders.set(id, required);
    }
  }
  return rules;
}
