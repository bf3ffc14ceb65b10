import { describe, expect, it } from 'vitest';
import { batchToCsv, CSV_COLUMNS, csvCell } from '../../../src/domain/settlement/csv.js';
import { obligation } from './fixtures.js';

/** A strict RFC 4180 reader, so the test checks what a spreadsheet would see. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  for (;;) {
    let cell = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (text[i] === '"' && text[i + 1] === '"') { cell += '"'; i += 2; }
        else if (text[i] === '"') { i++; break; }
        else if (i >= text.length) throw new Error('unterminated quote');
        else cell += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r') {
        if (text[i] === '"' || text[i] === '\n') throw new Error(`bare ${JSON.stringify(text[i])} at ${i}`);
        cell += text[i++];
      }
    }
    row.push(cell);
    if (text[i] === ',') { i++; continue; }
    if (text.slice(i, i + 2) !== '\r\n') throw new Error(`expected CRLF at ${i}`);
    rows.push(row);
    row = [];
    i += 2;
    if (i === text.length) return rows;
  }
}

describe('batch CSV', () => {
  const obligations = [
    obligation({ id: 'ob-1', amount_minor: 150, currency: 'AED' }),
    obligation({
      id: 'ob-2', amount_minor: 1250, currency: 'BHD',
      destination: { kind: 'payee', iban: null, reference: '=HYPERLINK("http://evil")', name: 'Smith, "Jr"\nLtd' },
      fx: { rate: '0.376', base: 'USD', quote: 'BHD', source_amount_minor: 332, source_currency: 'USD' },
    }),
    obligation({ id: 'ob-3', amount_minor: 7, currency: 'JPY', destination: { kind: 'payee', iban: null, reference: '-2+3', name: '@cmd' } }),
  ];
  const rows = parseCsv(batchToCsv(obligations));
  const byName = (row: string[]) => Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, row[i]]));

  it('has a header row and one row per obligation, every row as wide as the header', () => {
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row).toHaveLength(CSV_COLUMNS.length);
  });

  it('writes amounts as decimals by exponent and as minor units', () => {
    expect([1, 2, 3].map((i) => [byName(rows[i]!).amount, byName(rows[i]!).amount_minor, byName(rows[i]!).currency])).toEqual([
      ['1.50', '150', 'AED'], ['1.250', '1250', 'BHD'], ['7', '7', 'JPY'],
    ]);
    expect(byName(rows[2]!)).toMatchObject({ fx_rate: '0.376', fx_source_amount: '3.32', fx_source_amount_minor: '332', fx_source_currency: 'USD' });
    expect(byName(rows[1]!).created_at).toBe('2026-11-30T08:00:00.000Z');
  });

  it('quotes commas, quotes and newlines (RFC 4180) and defuses formulas', () => {
    const row = byName(rows[2]!);
    expect(row.creditor_name).toBe('Smith, "Jr"\nLtd');
    expect(row.reference).toBe(`'=HYPERLINK("http://evil")`);
    expect(byName(rows[3]!).reference).toBe("'-2+3");
    expect(byName(rows[3]!).creditor_name).toBe("'@cmd");
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('\tx')).toBe("'\tx");
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a"b')).toBe('"a""b"');
  });

  it('is only a header for an empty list', () => {
    expect(batchToCsv([])).toBe(`${CSV_COLUMNS.join(',')}\r\n`);
  });
});
