/**
 * The operator's directory: the category taxonomy, billers (payees every customer sees),
 * known merchants, and customer profile names. It ships with a default file; DIRECTORY_FILE
 * replaces it, and `npm run admin` adds per-user payees and profile names to the store so
 * every instance sees them.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { components } from '../../generated/kasisto/1.0.js';

type Category = components['schemas']['category'];
type Merchant = components['schemas']['merchant'];

export interface DirectoryPayee {
  payee_id: string;
  name: string;
  alias: string[];
  category?: string;
  iban?: string;
}

export interface DirectoryProfile {
  bank_id?: string;
  username: string;
  first_name?: string;
  last_name?: string;
  full_name?: string;
}

export interface Directory {
  categories: Category[];
  merchants: Merchant[];
  payees: DirectoryPayee[];
  profiles: DirectoryProfile[];
}

export const DEFAULT_DIRECTORY_FILE = fileURLToPath(new URL('./default-directory.json', import.meta.url));

const ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** Loads and checks a directory file; throws naming the first bad entry. */
export function loadDirectory(path: string = DEFAULT_DIRECTORY_FILE): Directory {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`directory file ${path} cannot be read as JSON: ${(error as Error).message}`);
  }
  const doc = raw as Partial<Directory>;
  const list = <T>(name: keyof Directory): T[] => {
    const value = doc[name] ?? [];
    if (!Array.isArray(value)) throw new Error(`directory file ${path}: "${name}" must be an array`);
    return value as T[];
  };
  const categories = list<Category>('categories');
  const merchants = list<Merchant>('merchants');
  const payees = list<DirectoryPayee>('payees');
  const profiles = list<DirectoryProfile>('profiles');
  const check = (kind: string, id: unknown, name: unknown) => {
    if (typeof id !== 'string' || !ID.test(id)) throw new Error(`directory file ${path}: a ${kind} has an invalid id ${JSON.stringify(id)}`);
    if (typeof name !== 'string' || name.length === 0) throw new Error(`directory file ${path}: ${kind} ${id} needs a name`);
  };
  for (const c of categories) check('category', c.category_id, c.name);
  for (const m of merchants) check('merchant', m.merchant_id, m.name);
  for (const p of payees) check('payee', p.payee_id, p.name);
  const categoryIds = new Set(categories.map((c) => c.category_id));
  for (const p of payees) {
    if (p.category && !categoryIds.has(p.category)) throw new Error(`directory file ${path}: payee ${p.payee_id} names unknown category ${p.category}`);
  }
  for (const required of ['transfers', 'payments']) {
    if (!categoryIds.has(required)) throw new Error(`directory file ${path}: the taxonomy must contain the category "${required}"`);
  }
  return {
    categories: categories.map((c) => ({ category_id: c.category_id, name: c.name, alias: c.alias ?? [] })),
    merchants: merchants.map((m) => ({ merchant_id: m.merchant_id, name: m.name, alias: m.alias ?? [] })),
    payees: payees.map((p) => ({ ...p, alias: p.alias ?? [] })),
    profiles,
  };
}
