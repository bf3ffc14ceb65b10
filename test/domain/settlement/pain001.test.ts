import { XMLParser, XMLValidator } from 'fast-xml-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { currencyExponent } from '../../../src/domain/money.js';
import { buildPain001, escapeXml, payoutProblem, PAIN001_NAMESPACE } from '../../../src/domain/settlement/pain001.js';
import { isRestrictedLatin, requireIdentifier, toRestrictedLatin } from '../../../src/domain/settlement/charset.js';
import { AE_IBAN, errorOf, iban, obligation } from './fixtures.js';

const debtor = { name: 'Operator Bank LLC', iban: iban('AE', '0260001015912345601'), bic: 'EBILAEAD' };
const createdAt = Date.UTC(2026, 10, 30, 9, 15, 30, 123);
const BH_IBAN = iban('BH', 'BMAG00001299123456');
const US_CREDITOR = iban('GB', 'WEST12345698765432');

// Text nodes stay strings: amounts must be compared as the exact text the bank reads.
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, isArray: (name) => ['PmtInf', 'CdtTrfTxInf'].includes(name) });

function parse(xml: string) {
  expect(XMLValidator.validate(xml)).toBe(true);
  return parser.parse(xml).Document;
}

const mixed = [
  obligation({ id: 'ob-a1', amount_minor: 150, currency: 'AED' }),
  obligation({ id: 'ob-b1', amount_minor: 1250, currency: 'BHD', destination: { kind: 'own_account', iban: BH_IBAN, reference: null, name: 'Mona Haddad' } }),
  obligation({ id: 'ob-u1', amount_minor: 99, currency: 'USD', destination: { kind: 'payee', iban: US_CREDITOR, reference: 'INV-2026-11', name: 'Acme Telecom' } }),
  obligation({ id: 'ob-a2', amount_minor: 1_000_000_01, currency: 'AED' }),
  obligation({ id: 'ob-b2', amount_minor: 5, currency: 'BHD', destination: { kind: 'own_account', iban: BH_IBAN, reference: null, name: 'Ali' } }),
];

describe('pain.001.001.09', () => {
  const doc = parse(buildPain001({ batch: { id: 'bt-0001' }, obligations: mixed, debtor, createdAt }));

  it('is well-formed XML in the pain.001.001.09 namespace with the group header', () => {
    expect(doc['@xmlns']).toBe(PAIN001_NAMESPACE);
    const header = doc.CstmrCdtTrfInitn.GrpHdr;
    expect(header.MsgId).toBe('bt-0001');
    expect(header.CreDtTm).toBe('2026-11-30T09:15:30Z');
    expect(header.NbOfTxs).toBe('5');
    // 1.50 + 1000000.01 AED, 1.250 + 0.005 BHD, 0.99 USD, all at 3 decimals
    expect(header.CtrlSum).toBe('1000003.755');
    expect(header.InitgPty.Nm).toBe('Operator Bank LLC');
  });

  it('has one payment-information block per currency with exact counts and sums', () => {
    const blocks = doc.CstmrCdtTrfInitn.PmtInf;
    expect(blocks.map((b: { PmtInfId: string }) => b.PmtInfId)).toEqual(['bt-0001-AED', 'bt-0001-BHD', 'bt-0001-USD']);
    const summary = blocks.map((b: { NbOfTxs: string; CtrlSum: string; CdtTrfTxInf: { Amt: { InstdAmt: { '#text': string; '@Ccy': string } } }[] }) => ({
      n: b.NbOfTxs,
      sum: b.CtrlSum,
      amounts: b.CdtTrfTxInf.map((t) => `${t.Amt.InstdAmt['#text']} ${t.Amt.InstdAmt['@Ccy']}`),
    }));
    expect(summary).toEqual([
      { n: '2', sum: '1000001.51', amounts: ['1.50 AED', '1000000.01 AED'] },
      { n: '2', sum: '1.255', amounts: ['1.250 BHD', '0.005 BHD'] },
      { n: '1', sum: '0.99', amounts: ['0.99 USD'] },
    ]);
    for (const b of blocks) {
      expect(b.PmtMtd).toBe('TRF');
      expect(b.ReqdExctnDt.Dt).toBe('2026-11-30');
      expect(b.DbtrAcct.Id.IBAN).toBe(debtor.iban);
      expect(b.DbtrAgt.FinInstnId.BICFI).toBe('EBILAEAD');
    }
  });

  it('uses the obligation id as end-to-end id and carries creditor, IBAN and remittance', () => {
    const usd = doc.CstmrCdtTrfInitn.PmtInf[2].CdtTrfTxInf[0];
    expect(usd.PmtId.EndToEndId).toBe('ob-u1');
    expect(usd.Cdtr.Nm).toBe('Acme Telecom');
    expect(usd.CdtrAcct.Id.IBAN).toBe(US_CREDITOR);
    expect(usd.RmtInf.Ustrd).toBe('INV-2026-11 REF-ob-u1');
  });

  it('writes NOTPROVIDED as debtor agent without a BIC', () => {
    const d = parse(buildPain001({ batch: { id: 'bt-0001' }, obligations: mixed.slice(0, 1), debtor: { name: 'Op', iban: debtor.iban }, createdAt }));
    expect(d.CstmrCdtTrfInitn.PmtInf[0].DbtrAgt.FinInstnId.Othr.Id).toBe('NOTPROVIDED');
  });

  it('transliterates names to the restricted Latin set and cuts them to 140', () => {
    const long = `Zoë Müller-Łukasz & Søren Æbelø_"<x>" ${'ص'.repeat(5)} ${'a'.repeat(200)}`;
    const d = parse(buildPain001({
      batch: { id: 'bt-0001' },
      obligations: [obligation({ id: 'ob-x', destination: { kind: 'payee', iban: AE_IBAN, reference: `R${'9'.repeat(200)}`, name: long } })],
      debtor,
      createdAt,
    }));
    const tx = d.CstmrCdtTrfInitn.PmtInf[0].CdtTrfTxInf[0];
    expect(tx.Cdtr.Nm.startsWith('Zoe Muller-Lukasz + Soren AEbelo x aaaa')).toBe(true);
    expect(tx.Cdtr.Nm).toHaveLength(140);
    expect(isRestrictedLatin(tx.Cdtr.Nm)).toBe(true);
    expect(tx.RmtInf.Ustrd).toHaveLength(140);
  });

  it('names a creditor that has nothing printable NOTPROVIDED', () => {
    const d = parse(buildPain001({ batch: { id: 'bt-0001' }, obligations: [obligation({ id: 'ob-x', destination: { kind: 'payee', iban: AE_IBAN, reference: null, name: 'محمد' } })], debtor, createdAt }));
    expect(d.CstmrCdtTrfInitn.PmtInf[0].CdtTrfTxInf[0].Cdtr.Nm).toBe('NOTPROVIDED');
  });

  it('refuses a creditor without IBAN, naming the obligation', () => {
    const noIban = obligation({ id: 'ob-ref', destination: { kind: 'payee', iban: null, reference: 'ACC-77', name: 'Water Co' } });
    expect(payoutProblem(noIban)?.kind).toBe('creditor_account_missing');
    const error = errorOf(() => buildPain001({ batch: { id: 'bt-0001' }, obligations: [mixed[0]!, noIban], debtor, createdAt }));
    expect(error.kind).toBe('creditor_account_missing');
    expect(error.message).toContain('ob-ref');
    expect(error.field).toBe('obligations[1].destination.iban');
  });

  it('refuses a corrupted creditor or debtor IBAN', () => {
    const bad = obligation({ id: 'ob-bad', destination: { kind: 'own_account', iban: 'AE070331234567890123457', reference: null, name: 'X' } });
    expect(errorOf(() => buildPain001({ batch: { id: 'bt-0001' }, obligations: [bad], debtor, createdAt })).kind).toBe('invalid_iban');
    const e = errorOf(() => buildPain001({ batch: { id: 'bt-0001' }, obligations: [mixed[0]!], debtor: { ...debtor, iban: 'AE000260001015912345601' }, createdAt }));
    expect(e.kind).toBe('invalid_iban');
    expect(e.field).toBe('debtor.iban');
  });

  it('refuses identifiers it would have to change, instead of changing them', () => {
    expect(errorOf(() => buildPain001({ batch: { id: 'bt_0001' }, obligations: [obligation({ id: 'ob-1', batch_id: 'bt_0001' })], debtor, createdAt })).kind).toBe('invalid_identifier');
    expect(errorOf(() => buildPain001({ batch: { id: 'bt-0001' }, obligations: [obligation({ id: `ob-${'1'.repeat(33)}` })], debtor, createdAt })).message).toMatch(/at most 35/);
    // MsgId of 35 leaves no room for "-AED" in PmtInfId
    const id35 = `bt-${'0'.repeat(32)}`;
    expect(errorOf(() => buildPain001({ batch: { id: id35 }, obligations: [obligation({ id: 'ob-1', batch_id: id35 })], debtor, createdAt })).field).toBe('PmtInfId');
  });

  it('refuses an empty batch, an obligation of another batch, a due one, a duplicate', () => {
    expect(errorOf(() => buildPain001({ batch: { id: 'bt-0001' }, obligations: [], debtor, createdAt })).kind).toBe('invalid_batch');
    expect(errorOf(() => buildPain001({ batch: { id: 'bt-0001' }, obligations: [obligation({ id: 'ob-1', batch_id: 'bt-0002' })], debtor, createdAt })).message).toMatch(/not in batch/);
    expect(errorOf(() => buildPain001({ batch: { id: 'bt-0001' }, obligations: [obligation({ id: 'ob-1', state: 'due' })], debtor, createdAt })).message).toMatch(/still due/);
    expect(errorOf(() => buildPain001({ batch: { id: 'bt-0001' }, obligations: [mixed[0]!, mixed[0]!], debtor, createdAt })).message).toMatch(/twice/);
    expect(errorOf(() => buildPain001({ batch: { id: 'bt-0001' }, obligations: [obligation({ id: 'ob-1', amount_minor: 1.5 })], debtor, createdAt })).field).toBe('obligations[0].amount_minor');
  });

  it('is deterministic', () => {
    const input = { batch: { id: 'bt-0001' }, obligations: mixed, debtor, createdAt };
    expect(buildPain001(input)).toBe(buildPain001(input));
  });
});

describe('restricted character set', () => {
  it('keeps allowed text, transliterates, replaces the rest with spaces', () => {
    expect(toRestrictedLatin("O'Brien (Ltd.) 12/34 +?:,-", 140)).toBe("O'Brien (Ltd.) 12/34 +?:,-");
    expect(toRestrictedLatin('Crème Brûlée Straße', 140)).toBe('Creme Brulee Strasse');
    expect(toRestrictedLatin('a_b@c#d', 140)).toBe('a b c d');
    expect(toRestrictedLatin('abc def', 5)).toBe('abc d');
    expect(toRestrictedLatin('abc def', 4)).toBe('abc'); // cut, then the trailing space trimmed
  });

  it('refuses identifiers with EPC-forbidden slashes', () => {
    expect(() => requireIdentifier('/ab', 35, 'id')).toThrow(/start or end/);
    expect(() => requireIdentifier('a//b', 35, 'id')).toThrow(/start or end/);
    expect(requireIdentifier('ob-1f', 35, 'id')).toBe('ob-1f');
  });

  it('escapes XML specials', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });
});

describe('pain.001 sums and counts (property)', () => {
  it('every block and the header add up exactly from minor units, and amounts read back to them', () => {
    const currencies = ['AED', 'USD', 'BHD', 'JPY', 'KWD'];
    fc.assert(
      fc.property(
        fc.array(fc.record({ currency: fc.constantFrom(...currencies), amount: fc.integer({ min: 1, max: 10 ** 13 }) }), { minLength: 1, maxLength: 40 }),
        (drafts) => {
          const obligations = drafts.map((d, i) => obligation({ id: `ob-${i}`, currency: d.currency, amount_minor: d.amount }));
          const d = parse(buildPain001({ batch: { id: 'bt-0001' }, obligations, debtor, createdAt }));
          const toMinor = (text: string, ccy: string) => {
            const [int, frac = ''] = text.split('.');
            expect(frac.length).toBe(currencyExponent(ccy));
            return BigInt(int! + frac);
          };
          const blocks = d.CstmrCdtTrfInitn.PmtInf as { PmtInfId: string; NbOfTxs: string; CtrlSum: string; CdtTrfTxInf: { PmtId: { EndToEndId: string }; Amt: { InstdAmt: { '#text': string; '@Ccy': string } } }[] }[];
          const expected = [...new Set(drafts.map((x) => x.currency))].sort();
          expect(blocks.map((b) => b.PmtInfId)).toEqual(expected.map((c) => `bt-0001-${c}`));
          let headerSum = 0n; // at 3 decimals, the largest exponent present here
          for (const [i, ccy] of expected.entries()) {
            const mine = obligations.filter((o) => o.currency === ccy);
            const block = blocks[i]!;
            expect(block.NbOfTxs).toBe(String(mine.length));
            const sum = mine.reduce((acc, o) => acc + BigInt(o.amount_minor), 0n);
            expect(toMinor(block.CtrlSum, ccy)).toBe(sum);
            expect(block.CdtTrfTxInf.map((t) => [t.PmtId.EndToEndId, toMinor(t.Amt.InstdAmt['#text'], t.Amt.InstdAmt['@Ccy'])])).toEqual(mine.map((o) => [o.id, BigInt(o.amount_minor)]));
            headerSum += sum * 10n ** BigInt(Math.max(...expected.map(currencyExponent)) - currencyExponent(ccy));
          }
          expect(d.CstmrCdtTrfInitn.GrpHdr.NbOfTxs).toBe(String(drafts.length));
          expect(BigInt(d.CstmrCdtTrfInitn.GrpHdr.CtrlSum.replace('.', ''))).toBe(headerSum);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses a control sum beyond 18 digits', () => {
    const big = Array.from({ length: 120 }, (_, i) => obligation({ id: `ob-${i}`, currency: 'BHD', amount_minor: Number.MAX_SAFE_INTEGER }));
    expect(errorOf(() => buildPain001({ batch: { id: 'bt-0001' }, obligations: big, debtor, createdAt })).message).toMatch(/more than 18 digits/);
  });
});
