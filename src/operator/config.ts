/**
 * The operator API's settings (OPERATOR_*), parsed from the validated environment. Keys are
 * kept only as SHA-256 digests, compared in constant time (http/secret.ts); what the audit
 * log and batches record is a key's name.
 */
import { secretDigest } from '../http/secret.js';
import type { Debtor } from '../domain/settlement/types.js';

export type OperatorRole = 'viewer' | 'settler';

export interface OperatorKey {
  name: string;
  role: OperatorRole;
  digest: Buffer;
}

export interface OperatorConfig {
  /** The operator listener's port; undefined: no operator listener. */
  port: number | undefined;
  host: string;
  keys: OperatorKey[];
  /** Two-person rule: the key that created a batch cannot mark it paid. */
  fourEyes: boolean;
  /** The operator's paying account for pain.001; undefined when not configured. */
  debtor: Debtor | undefined;
}

const KEY_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** `name:role:key,…` → keys; problems name the entry (never the key). */
export function parseOperatorKeys(text: string | undefined, problems: string[]): OperatorKey[] {
  if (!text) return [];
  const keys: OperatorKey[] = [];
  const names = new Set<string>();
  text.split(',').forEach((raw, i) => {
    const entry = raw.trim();
    if (entry === '') return;
    const first = entry.indexOf(':');
    const second = entry.indexOf(':', first + 1);
    const name = first > 0 ? entry.slice(0, first) : '';
    const role = second > first ? entry.slice(first + 1, second) : '';
    const key = second > first ? entry.slice(second + 1) : '';
    const at = `OPERATOR_API_KEYS entry ${i + 1}`;
    if (!KEY_NAME.test(name)) problems.push(`${at}: the name must be 1 to 64 of A-Z a-z 0-9 . _ - (name:role:key)`);
    else if (names.has(name)) problems.push(`${at}: the name ${name} is used twice`);
    if (role !== 'viewer' && role !== 'settler') problems.push(`${at}: the role must be viewer or settler`);
    if (key.length < 16) problems.push(`${at}: the key must be at least 16 characters`);
    names.add(name);
    if (KEY_NAME.test(name) && (role === 'viewer' || role === 'settler') && key.length >= 16) keys.push({ name, role, digest: secretDigest(key) });
  });
  return keys;
}

export function operatorConfigOf(v: Record<string, any>, problems: string[]): OperatorConfig {
  const name: string | undefined = v.OPERATOR_DEBTOR_NAME;
  const iban: string | undefined = v.OPERATOR_DEBTOR_IBAN;
  if (Boolean(name) !== Boolean(iban)) problems.push('OPERATOR_DEBTOR_NAME and OPERATOR_DEBTOR_IBAN must be set together');
  return {
    port: v.OPERATOR_PORT,
    host: v.OPERATOR_HOST,
    keys: parseOperatorKeys(v.OPERATOR_API_KEYS, problems),
    fourEyes: v.OPERATOR_FOUR_EYES,
    debtor: name && iban ? { name, iban, ...(v.OPERATOR_DEBTOR_BIC ? { bic: v.OPERATOR_DEBTOR_BIC } : {}) } : undefined,
  };
}
