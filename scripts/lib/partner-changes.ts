/**
 * The partner contract changes issue 12 tried, as edits of a parsed spec (yaml Document,
 * comments kept). Used by the spec:diff tests (and handy to try an engine by hand).
 */
import { isMap, isSeq, type Document } from 'yaml';

export interface PartnerChange {
  /** Which spec it edits: the API's base name in redocly.yaml (`verify`, `kasisto`). */
  api: string;
  /** The verdict a consumer-safe differ must give. */
  breaking: boolean;
  /** A JSON pointer (or its prefix) the report must name. */
  pointer: string;
  apply(doc: Document): void;
}

function renameKey(doc: Document, path: string[], from: string, to: string): void {
  const map = doc.getIn(path, true);
  if (!isMap(map)) throw new Error(`${path.join('.')} is not a mapping`);
  const pair = map.items.find((p) => String((p.key as { value?: unknown })?.value ?? p.key) === from);
  if (!pair) throw new Error(`${path.join('.')}.${from} not found`);
  pair.key = doc.createNode(to);
}

export const PARTNER_CHANGES: Record<string, PartnerChange> = {
  'Verify renames bank_account.iban to account_iban': {
    api: 'verify',
    breaking: true,
    pointer: '/components/schemas/bank_account/properties/iban',
    apply(doc) {
      renameKey(doc, ['components', 'schemas', 'bank_account', 'properties'], 'iban', 'account_iban');
      const required = doc.getIn(['components', 'schemas', 'bank_account', 'required'], true);
      if (isSeq(required)) {
        const i = required.items.findIndex((n) => String((n as { value?: unknown }).value ?? n) === 'iban');
        if (i >= 0) required.set(i, 'account_iban');
      }
    },
  },
  'Verify adds a required session request field': {
    api: 'verify',
    breaking: true,
    pointer: '/components/schemas/create_session_request/required',
    apply(doc) {
      doc.setIn(['components', 'schemas', 'create_session_request', 'properties', 'purpose_code'], doc.createNode({ type: 'string' }));
      const required = doc.getIn(['components', 'schemas', 'create_session_request', 'required'], true);
      if (!isSeq(required)) throw new Error('create_session_request.required not found');
      required.add(doc.createNode('purpose_code'));
    },
  },
  'Verify adds transfer status processing': {
    api: 'verify',
    breaking: true,
    pointer: '/components/schemas/transfer/properties/status/enum',
    apply(doc) {
      const values = doc.getIn(['components', 'schemas', 'transfer', 'properties', 'status', 'enum'], true);
      if (!isSeq(values)) throw new Error('transfer.status.enum not found');
      values.add(doc.createNode('processing'));
    },
  },
  'Kasisto adds an account field and an operation': {
    api: 'kasisto-1.0',
    breaking: false,
    pointer: '/paths/~1bank_locations',
    apply(doc) {
      doc.setIn(
        ['components', 'schemas', 'account', 'properties', 'account_nickname'],
        doc.createNode({ type: 'string', description: 'A name the customer gave the account.' }),
      );
      const customer = doc.getIn(['paths', '/customer'], true);
      if (!isMap(customer)) throw new Error('paths./customer not found');
      const copy = doc.createNode(customer.toJSON());
      (copy as unknown as { setIn(path: string[], v: unknown): void }).setIn(['post', 'operationId'], 'listBankLocations');
      doc.setIn(['paths', '/bank_locations'], copy);
    },
  },
};
