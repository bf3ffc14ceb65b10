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
}

export function operationRules(specFile: string): OperationRules {
  type Operation = { operationId?: string; security?: Record<string, unknown>[]; responses?: Record<string, unknown> };
  const spec = parseYaml(readFileSync(specFile, 'utf8')) as { security?: Record<string, unknown>[]; paths?: Record<string, Record<string, Operation>> };
  const rules: OperationRules = { needsToken: new Set(), mayAskOtp: new Set(), answersOtp: new Set() };
  for (const item of Object.values(spec.paths ?? {})) {
    for (const operation of Object.values(item)) {
      const id = operation.operationId;
      if (!id) continue;
      const security = operation.security ?? spec.security ?? [];
      if (security.length > 0 && security.every((requirement) => 'token' in requirement)) rules.needsToken.add(id);
      if (operation.responses?.['450']) rules.mayAskOtp.add(id);
      if (operation.responses?.['451']) rules.answersOtp.add(id);
    }
  }
  return rules;
}
