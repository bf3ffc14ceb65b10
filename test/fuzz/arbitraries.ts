/**
 * Hostile inputs for the Kasisto API: values of every JSON type and then some, bodies that
 * are not JSON or not objects, prototype-pollution keys, odd headers. Bodies are built as
 * JSON *text* so that duplicate keys and own `__proto__` keys reach the server as sent.
 */
import fc from 'fast-check';

/** Strings a person or a program might throw at an API. */
export const NASTY_STRINGS = [
  '',
  ' ',
  '\t\n\r',
  'NaN',
  '-NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '0',
  '1e308',
  '1e309',
  '0x10',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  "' OR '1'='1' --",
  '"; DROP TABLE movements; --',
  '../../../../etc/passwd',
  '%00',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfff',
  '\ud83d\ude00',
  '\u202e\u0041\u0042',
  '\ufeff',
  'ﷺ',
  'Z̷̛͙a̵̟͋l̴̗̈g̸̱̃o̶͔̍',
  '<script>alert(1)</script>',
  '${7*7}{{7*7}}',
  '%s%s%s%n',
  '\\u0000',
  'usr_000000000000000000000000',
  'acct_0000000000000000',
  'payee_dewa',
  '2024-02-30',
  '9999-12-31',
  '0000-00-00',
  '1970-01-01',
  '2024-13-01',
  '+002024-01-01',
  '2024-1-1',
  '2024-01-01T00:00:00Z',
  'AED',
  'aed',
  'XXX',
  'BHD ',
];

/** Numbers at the edges of IEEE 754 and of the money code. */
export const NASTY_NUMBERS = [
  0,
  -0,
  -1,
  1e308,
  -1e308,
  1.7976931348623157e308,
  5e-324,
  -5e-324,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  Number.MIN_SAFE_INTEGER,
  2 ** 31,
  2 ** 31 - 1,
  -(2 ** 31) - 1,
  2 ** 53 / 100,
  0.1 + 0.2,
  0.001,
  0.0001,
  1.005,
  123.456,
  1e-7,
  1e21,
  1e-21,
  4.35,
];

/** Number literals as JSON text, including ones JSON.stringify never writes. */
export const NASTY_NUMBER_TEXT = ['1e400', '-1e400', '-0', '-0.0', '1E+2', '0.10', '1.0', '100000000000000000000000000000000000001', '0.0000000000000000000000000000001'];

export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'];

const bigString = fc.integer({ min: 1_000, max: 70_000 }).chain((n) => fc.constantFrom('A', '€', '\u0000', '"', '\\', '😀').map((c) => c.repeat(Math.ceil(n / c.length))));

/** Control characters, NUL first among them: text columns and parsers choke on these. */
const controlString = fc
  .oneof(fc.constant('\u0000'), fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 8 }))
  .chain((ctl) => fc.constantFrom(ctl, `acct_${ctl}`, `${ctl}x`));

export const anyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: controlString },
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 300 }) },
  // mostly under the 64 KB body limit, sometimes over
  { weight: 1, arbitrary: bigString },
);

export const anyNumber: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_NUMBERS) },
  { weight: 2, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ min: -10, max: 10, noNaN: true }) },
);

/** A JSON text of a value of any type (as a fragment to splice into a body). */
export const leafText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: anyString.map((s) => JSON.stringify(s)) },
  { weight: 3, arbitrary: anyNumber.map((n) => JSON.stringify(n)) },
  { weight: 1, arbitrary: fc.constantFrom(...NASTY_NUMBER_TEXT) },
  { weight: 1, arbitrary: fc.constantFrom('null', 'true', 'false', '[]', '{}', '[null]', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}') },
);

/** Nested arrays/objects as JSON text, up to a few thousand levels deep. */
export const deepText: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 10, max: 6_000 }), fc.constantFrom('[', '{"a":'), leafText)
  .map(([depth, open, leaf]) => open.repeat(depth) + leaf + (open === '[' ? ']' : '}').repeat(depth));

export const hugeArrayText: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 100, max: 25_000 }), fc.constantFrom('0', '""', 'null', '"acct_0000000000000000"', '{}', '[]'))
  .map(([n, item]) => `[${Array(n).fill(item).join(',')}]`);

const keyText: fc.Arbitrary<string> = fc.oneof(fc.constantFrom(...PROTO_KEYS, 'user_id', 'amount', '', ' ', 'a'.repeat(1000)), fc.string({ maxLength: 12 }));

/** A value of any type, as JSON text. */
export const valueText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: leafText },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 5 }).map((items) => `[${items.join(',')}]`) },
    { weight: 1, arbitrary: fc.array(fc.tuple(keyText, tie('value')), { maxLength: 4 }).map(objectText) },
    { weight: 1, arbitrary: deepText },
    { weight: 1, arbitrary: hugeArrayText },
  ),
})).value;

export function objectText(entries: readonly (readonly [string, string])[]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
}

/** Text that is not valid JSON, or JSON that is not an object. */
export const brokenBody: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '{',
    '}',
    '{"a":',
    '{"a":1,}',
    "{'a':1}",
    '{a:1}',
    '{"a":NaN}',
    '{"a":undefined}',
    '{"a":Infinity}',
    '{"a":0x10}',
    '{"a":01}',
    '{"a":1} {"b":2}',
    '{"a":1}garbage',
    '\ufeff{}',
    '{"a":"\\ud800"}',
    '{"a":"\\u00"}',
    '{"a":"\u0001"}',
    '/* comment */ {}',
    'null',
    'true',
    '0',
    '-0',
    '"a string"',
    '[]',
    '[{}]',
    'user_id=usr_1&otp=1234',
    '<xml/>',
    '\u0000',
  ),
  valueText.filter((t) => !t.startsWith('{')),
  valueText.map((t) => t.slice(0, Math.max(0, t.length - 1))),
  fc.string({ unit: 'binary', maxLength: 200 }),
);

/** Header values as they can arrive over HTTP: visible ASCII, spaces and obs-text. */
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', 'null', 'undefined', '[object Object]', '0', '-1', '__proto__', 'a'.repeat(600), 'a'.repeat(5000)),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 }),
  fc.string({ unit: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 20 }),
);

const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
export const headerName: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'x-forwarded-for', 'x-http-method-override', 'transfer-encoding-x', 'expect-x', 'authorization', 'cookie', 'request_id', 'idempotency-key'),
  fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength: 20 }),
);

export const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=UTF-8',
  'APPLICATION/JSON',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/json; boundary=x',
  'application/json, text/plain',
  'application/jsonx',
  'application/vnd.api+json',
  'application/problem+json',
  'text/json',
  'text/plain',
  'text/html',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----x',
  'application/octet-stream',
  '*/*',
  '',
  ';',
  'application/',
];

/** The Kasisto headers the connector reads, each either sensible or hostile. */
export interface HeaderChoice {
  secret: 'valid' | 'missing' | 'wrong' | 'padded' | 'duplicate';
  token: 'valid' | 'missing' | 'random' | 'long' | 'duplicate' | 'padded';
  contentType: string | undefined;
  requestId: string | undefined;
  idempotencyKey: string | undefined;
  extra: [string, string][];
}

export const headerChoice = (opts: { mostlyValid: boolean }): fc.Arbitrary<HeaderChoice> =>
  fc.record({
    secret: opts.mostlyValid
      ? fc.oneof({ weight: 20, arbitrary: fc.constant('valid' as const) }, { weight: 1, arbitrary: fc.constantFrom('missing', 'wrong', 'padded', 'duplicate') as fc.Arbitrary<HeaderChoice['secret']> })
      : (fc.constantFrom('valid', 'valid', 'valid', 'missing', 'wrong', 'padded', 'duplicate') as fc.Arbitrary<HeaderChoice['secret']>),
    token: opts.mostlyValid
      ? fc.oneof({ weight: 20, arbitrary: fc.constant('valid' as const) }, { weight: 1, arbitrary: fc.constantFrom('missing', 'random', 'long', 'duplicate', 'padded') as fc.Arbitrary<HeaderChoice['token']> })
      : (fc.constantFrom('valid', 'valid', 'missing', 'random', 'long', 'duplicate', 'padded') as fc.Arbitrary<HeaderChoice['token']>),
    contentType: opts.mostlyValid
      ? fc.oneof({ weight: 10, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined }) })
      : fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined, freq: 8 }),
    requestId: fc.option(fc.oneof(headerValue, fc.uuid()), { nil: undefined, freq: 2 }),
    idempotencyKey: fc.option(headerValue, { nil: undefined, freq: 2 }),
    extra: fc.array(fc.tuple(headerName, headerValue), { maxLength: opts.mostlyValid ? 1 : 4 }),
  });

const dateLike: fc.Arbitrary<string> = fc.oneof(
  fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 })).map(([y, m, d]) => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`),
  fc.constantFrom('2024-02-29', '2023-02-29', '1970-01-01', '9999-12-31', '0000-01-01', '2024-06-31'),
);

/** Many short distinct strings: each becomes work (or SQL parameters) for the server. */
const manyStrings: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 100, max: 21_000 }), fc.boolean())
  .map(([n, distinct]) => JSON.stringify(Array.from({ length: n }, (_, i) => (distinct ? i.toString(36) : ''))));

/**
 * A value of the property's own type (so it gets past schema validation and reaches the
 * domain code), hostile within that type; sometimes a value of another type.
 */
export function typedValueText(schema: { type?: string | string[]; format?: string; items?: { type?: string | string[] } } | undefined): fc.Arbitrary<string> {
  const type = Array.isArray(schema?.type) ? schema.type[0] : schema?.type;
  const own: fc.Arbitrary<string> =
    type === 'string' && schema?.format === 'date'
      ? fc.oneof(dateLike, anyString).map((s) => JSON.stringify(s))
      : type === 'string'
        ? anyString.map((s) => JSON.stringify(s))
        : type === 'number'
          ? fc.oneof(anyNumber.map((n) => JSON.stringify(n)), fc.constantFrom(...NASTY_NUMBER_TEXT))
          : type === 'integer'
            ? fc.oneof(fc.constantFrom('0', '-1', '1', '2147483647', '2147483648', '-2147483649', '9007199254740993', '1e308', '1e400', '1.0', '1e2', '-0'), fc.integer().map(String))
            : type === 'array'
              ? fc.oneof(fc.array(anyString, { maxLength: 20 }).map((a) => JSON.stringify(a)), manyStrings)
              : valueText;
  return fc.oneof({ weight: 4, arbitrary: own }, { weight: 1, arbitrary: valueText });
}
