/** Payees, merchants, categories and profile names: the directory file plus the store. */
import type { components } from '../../generated/kasisto/1.0.js';
import type { DomainContext } from './context.js';
import { userIdFor } from './crypto.js';
import type { DirectoryPayee } from './directory.js';

type KasistoPayee = components['schemas']['payee'];
type KasistoMerchant = components['schemas']['merchant'];
type KasistoCustomer = components['schemas']['customer'];

/** The payees a user may pay: operator-added ones (store) over the file's billers. */
export async function payeesOf(ctx: DomainContext, userId: string): Promise<DirectoryPayee[]> {
  const stored = await ctx.store.listPayees(userId);
  const byId = new Map<string, DirectoryPayee>();
  for (const p of ctx.directory.payees) byId.set(p.payee_id, p);
  for (const p of stored) {
    byId.set(p.payee_id, {
      payee_id: p.payee_id,
      name: p.name,
      alias: JSON.parse(p.aliases_json) as string[],
      ...(p.iban ? { iban: p.iban } : {}),
      ...(p.category ? { category: p.category } : {}),
    });
  }
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export async function findPayee(ctx: DomainContext, userId: string, payeeId: string): Promise<DirectoryPayee | undefined> {
  return (await payeesOf(ctx, userId)).find((p) => p.payee_id === payeeId);
}

export function toKasistoPayee(p: DirectoryPayee): KasistoPayee {
  return { payee_id: p.payee_id, name: p.name, alias: p.alias };
}

/** Merchants: the directory's, plus every payee the user has actually paid. */
export async function merchantsOf(ctx: DomainContext, userId: string): Promise<KasistoMerchant[]> {
  const merchants = new Map<string, KasistoMerchant>();
  for (const m of ctx.directory.merchants) merchants.set(m.merchant_id ?? m.name ?? '', m);
  const paid = await ctx.store.listPaidPayees(userId);
  const payees = paid.length > 0 ? await payeesOf(ctx, userId) : [];
  for (const { dest_id, dest_name } of paid) {
    const payee = payees.find((p) => p.payee_id === dest_id);
    merchants.set(dest_id, { merchant_id: dest_id, name: payee?.name ?? dest_name ?? dest_id, alias: payee?.alias ?? [] });
  }
  return [...merchants.values()];
}

export async function customerOf(ctx: DomainContext, userId: string): Promise<KasistoCustomer> {
  const stored = await ctx.store.getProfile(userId);
  const fromFile = stored
    ? undefined
    : ctx.directory.profiles.find((p) => userIdFor(ctx.keys, p.bank_id ?? ctx.config.verifyBankId, p.username) === userId);
  const first = stored?.first_name ?? fromFile?.first_name;
  const last = stored?.last_name ?? fromFile?.last_name;
  const full = stored?.full_name ?? fromFile?.full_name ?? ([first, last].filter(Boolean).join(' ') || undefined);
  return {
    user_id: userId,
    ...(full ? { full_name: full } : {}),
    ...(first ? { first_name: first } : {}),
    ...(last ? { last_name: last } : {}),
    meta: [],
  };
}
