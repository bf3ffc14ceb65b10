/**
 * A batch as CSV for the operator's spreadsheet or its bank's bulk-upload form (RFC 4180:
 * CRLF line ends, a header row, fields quoted when they hold a comma, quote, CR or LF).
 *
 * Amounts appear twice: `amount` as decimal text by the currency's ISO 4217 exponent (what
 * a person reads, never a float) and `amount_minor` (what a program sums).
 *
 * CSV injection: a spreadsheet runs a cell that starts with = + - @ (or tab / CR) as a
 * formula, and names and references come from customers and payees. Such a cell gets a
 * leading `'`, which spreadsheets show as text. Our own amounts are positive, so the rule
 * never touches a number.
 */
import { formatMinor } from './decimal.js';
import type { Obligation } from './types.js';

export const CSV_COLUMNS = [
  'obligation_id', 'batch_id', 'state', 'currency', 'amount', 'amount_minor', 'destination_kind', 'creditor_name',
  'iban', 'reference', 'user_id', 'movement_id', 'verify_transfer_id', 'verify_reference', 'fx_rate', 'fx_base',
  'fx_quote', 'fx_source_amount', 'fx_source_amount_minor', 'fx_source_currency', 'created_at',
] as const;

export function batchToCsv(obligations: readonly Obligation[]): string {
  const rows: string[][] = [[...CSV_COLUMNS]];
  for (const o of obligations) {
    rows.push([
      o.id, o.batch_id ?? '', o.state, o.currency, formatMinor(o.amount_minor, o.currency), String(o.amount_minor),
      o.destination.kind, o.destination.name ?? '', o.destination.iban ?? '', o.destination.reference ?? '', o.user_id,
      o.movement_id, o.verify_transfer_id, o.verify_reference ?? '', o.fx?.rate ?? '', o.fx?.base ?? '', o.fx?.quote ?? '',
      o.fx ? formatMinor(o.fx.source_amount_minor, o.fx.source_currency) : '', o.fx ? String(o.fx.source_amount_minor) : '',
      o.fx?.source_currency ?? '', new Date(o.created_at).toISOString(),
    ]);
  }
  return rows.map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** One field: neutralised against formula injection, then quoted if RFC 4180 needs it. */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
