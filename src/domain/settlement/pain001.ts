/**
 * A batch as an ISO 20022 pain.001.001.09 CustomerCreditTransferInitiation: the file the
 * operator uploads to its bank to pay what it owes. Pure: same input, same bytes.
 *
 * - MsgId = batch id. Exporting a batch twice gives the same MsgId, and banks refuse a
 *   duplicate MsgId: a second upload cannot pay twice.
 * - One PmtInf per currency (PmtInfId = `<batch id>-<currency>`), in currency order.
 * - EndToEndId = obligation id, so the bank's status and return files name the obligation.
 * - NbOfTxs and CtrlSum are computed from integer minor units, formatted by the currency's
 *   ISO 4217 exponent (money.ts); the group header's CtrlSum adds all currencies, as the
 *   message definition says.
 * - Text fields are transliterated to the restricted Latin set and cut to their lengths
 *   (Nm 140, Ustrd 140); identifiers are refused rather than changed (charset.ts).
 * - A creditor without an IBAN (a payee known only by a reference) is refused with
 *   `creditor_account_missing`: a credit transfer needs a creditor account, and a reference
 *   alone does not say where the money goes. Batch creation should leave such obligations
 *   out (see payoutProblem); the operator pays them through the payee's own channel or
 *   adds the payee's IBAN to the directory.
 */
import { currencyExponent } from '../money.js';
import { requireIdentifier, toRestrictedLatin } from './charset.js';
import { formatMinor, sumAcrossCurrencies } from './decimal.js';
import { SettlementError } from './errors.js';
import { ibanProblem, normalizeIban, requireIban } from './iban.js';
import type { Batch, Debtor, Obligation } from './types.js';

export const PAIN001_NAMESPACE = 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.09';

/** Max35Text / Max140Text of the message definition. */
export const MAX_ID = 35;
export const MAX_NAME = 140;
export const MAX_USTRD = 140;

export interface Pain001Input {
  batch: Pick<Batch, 'id'>;
  obligations: readonly Obligation[];
  debtor: Debtor;
  /** The message's creation time (CreDtTm), epoch ms. */
  createdAt: number;
  /** Requested execution date, YYYY-MM-DD; defaults to the UTC date of createdAt. */
  executionDate?: string;
}

/** Why an obligation cannot be paid by credit transfer, or undefined when it can. */
export function payoutProblem(obligation: Obligation): { kind: 'creditor_account_missing' | 'invalid_iban'; message: string } | undefined {
  const iban = obligation.destination.iban;
  if (iban === null || iban.trim() === '') {
    return { kind: 'creditor_account_missing', message: `obligation ${obligation.id}: the ${obligation.destination.kind === 'payee' ? 'payee' : 'destination account'} has no IBAN` };
  }
  const problem = ibanProblem(iban);
  return problem ? { kind: 'invalid_iban', message: `obligation ${obligation.id}: destination.iban ${problem}` } : undefined;
}

export function buildPain001(input: Pain001Input): string {
  const { batch, obligations, debtor } = input;
  const msgId = requireIdentifier(batch.id, MAX_ID, 'batch.id');
  if (obligations.length === 0) throw new SettlementError('invalid_batch', 'obligations: a payout file needs at least one obligation', 'obligations');
  const debtorIban = requireIban(debtor.iban, 'debtor.iban');
  const bic = debtor.bic?.trim().toUpperCase();
  if (bic !== undefined && bic !== '' && !/^[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?$/.test(bic)) {
    throw new SettlementError('invalid_batch', 'debtor.bic: must be a BIC of 8 or 11 characters', 'debtor.bic');
  }
  const debtorName = toRestrictedLatin(debtor.name, MAX_NAME);
  if (!debtorName) throw new SettlementError('invalid_batch', 'debtor.name: has no character the payout file can carry', 'debtor.name');
  const executionDate = input.executionDate ?? new Date(input.createdAt).toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(executionDate)) throw new SettlementError('invalid_batch', 'executionDate: must be YYYY-MM-DD', 'executionDate');

  const seen = new Set<string>();
  obligations.forEach((o, i) => {
    const field = `obligations[${i}]`;
    requireIdentifier(o.id, MAX_ID, `${field}.id`);
    if (seen.has(o.id)) throw new SettlementError('invalid_batch', `${field}.id: ${o.id} appears twice`, `${field}.id`);
    seen.add(o.id);
    if (o.batch_id !== batch.id) throw new SettlementError('invalid_batch', `${field}: obligation ${o.id} is not in batch ${batch.id}`, `${field}.batch_id`);
    if (o.state === 'due') throw new SettlementError('invalid_batch', `${field}: obligation ${o.id} is still due, not batched`, `${field}.state`);
    if (!Number.isSafeInteger(o.amount_minor) || o.amount_minor <= 0) {
      throw new SettlementError('invalid_batch', `${field}.amount_minor: must be a positive integer`, `${field}.amount_minor`);
    }
    currencyExponent(o.currency); // throws on an unknown code before any XML is written
    const problem = payoutProblem(o);
    if (problem) throw new SettlementError(problem.kind, `${field}: ${problem.message}`, `${field}.destination.iban`);
  });

  // DecimalNumber allows 18 digits in all: a sum beyond that cannot be written exactly.
  const total = sumAcrossCurrencies(obligations);
  if (total.replace('.', '').replace(/^0+/, '').length > 18) {
    throw new SettlementError('invalid_batch', `obligations: the control sum ${total} has more than 18 digits; split the batch`, 'obligations');
  }

  const byCurrency = new Map<string, Obligation[]>();
  for (const o of obligations) byCurrency.set(o.currency, [...(byCurrency.get(o.currency) ?? []), o]);
  const currencies = [...byCurrency.keys()].sort();

  const lines: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<Document xmlns="${PAIN001_NAMESPACE}">`,
    '<CstmrCdtTrfInitn>',
    '<GrpHdr>',
    el('MsgId', msgId),
    el('CreDtTm', isoDateTime(input.createdAt)),
    el('NbOfTxs', String(obligations.length)),
    el('CtrlSum', total),
    `<InitgPty>${el('Nm', debtorName)}</InitgPty>`,
    '</GrpHdr>',
  ];
  for (const currency of currencies) {
    const group = byCurrency.get(currency) ?? [];
    lines.push(
      '<PmtInf>',
      el('PmtInfId', requireIdentifier(`${msgId}-${currency}`, MAX_ID, 'PmtInfId')),
      el('PmtMtd', 'TRF'),
      el('NbOfTxs', String(group.length)),
      el('CtrlSum', sumAcrossCurrencies(group)),
      `<ReqdExctnDt>${el('Dt', executionDate)}</ReqdExctnDt>`,
      `<Dbtr>${el('Nm', debtorName)}</Dbtr>`,
      `<DbtrAcct><Id>${el('IBAN', debtorIban)}</Id></DbtrAcct>`,
      // Without a BIC the agent is identified as NOTPROVIDED (EPC convention); the bank derives it from the IBAN.
      `<DbtrAgt><FinInstnId>${bic ? el('BICFI', bic) : `<Othr>${el('Id', 'NOTPROVIDED')}</Othr>`}</FinInstnId></DbtrAgt>`,
    );
    for (const o of group) lines.push(transaction(o));
    lines.push('</PmtInf>');
  }
  lines.push('</CstmrCdtTrfInitn>', '</Document>', '');
  return lines.join('\n');
}

function transaction(o: Obligation): string {
  const name = toRestrictedLatin(o.destination.name ?? '', MAX_NAME) || 'NOTPROVIDED';
  const remittance = toRestrictedLatin([o.destination.reference, o.verify_reference ?? o.verify_transfer_id].filter(Boolean).join(' '), MAX_USTRD);
  return [
    '<CdtTrfTxInf>',
    `<PmtId>${el('EndToEndId', o.id)}</PmtId>`,
    `<Amt><InstdAmt Ccy="${escapeXml(o.currency)}">${formatMinor(o.amount_minor, o.currency)}</InstdAmt></Amt>`,
    `<Cdtr>${el('Nm', name)}</Cdtr>`,
    `<CdtrAcct><Id>${el('IBAN', normalizeIban(o.destination.iban ?? ''))}</Id></CdtrAcct>`,
    remittance ? `<RmtInf>${el('Ustrd', remittance)}</RmtInf>` : '',
    '</CdtTrfTxInf>',
  ].join('');
}

function el(name: string, text: string): string {
  return `<${name}>${escapeXml(text)}</${name}>`;
}

/** Escapes the five XML specials; the restricted set leaves only `'` to escape, but ids and codes pass here too. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

/** ISODateTime in UTC without milliseconds, the form every bank accepts. */
function isoDateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
