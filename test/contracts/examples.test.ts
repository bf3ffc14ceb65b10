/**
 * Every example in every contract (each Kasisto revision and Verify) validates against its schema: request bodies, responses
 * and response headers (`examples` and `example`, also when the example, the response, the
 * request body, the parameter or the header is a `$ref` into components), parameters, and
 * `example`/`examples` written inside schemas. A failure names the example's JSON pointer
 * and where it is used.
 *
 * Also: every request body and every response with content has at least one *named*
 * example per media type (Prism serves them, Redoc shows them, `Prefer: example=` picks
 * them), and every entry of components.examples is used somewhere.
 */
import { describe, expect, it } from 'vitest';
import { KASISTO_REVISIONS, loadSpec, pointerOf, type Json, type JsonObject, type LoadedSpec } from '../helpers/spec.js';

interface ExampleCase {
  api: string;
  /** Pointer of the example value, after following `$ref`s (`/components/examples/x/value`). */
  valuePointer: string;
  /** Where the example is attached (`/paths/~1token/post/requestBody/content/application~1json/examples/x`). */
  usedAt: string;
  /** Pointer of the schema the example must satisfy. */
  schemaPointer: string;
  value: Json;
}

interface MissingNamedExample {
  api: string;
  where: string;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function collect(spec: LoadedSpec) {
  const cases = new Map<string, ExampleCase>();
  const missing: MissingNamedExample[] = [];
  const usedComponentExamples = new Set<string>();
  const problems: string[] = [];

  const add = (c: Omit<ExampleCase, 'api'>) => {
    const key = `${c.valuePointer} @ ${c.schemaPointer}`;
    if (!cases.has(key)) cases.set(key, { api: spec.name, ...c });
  };

  /** `example` and `examples` of a media type, parameter or header object. */
  const fromHolder = (holder: JsonObject, holderPtr: string, schemaPtr: string, requireNamed: boolean) => {
    if ('example' in holder) {
      add({ valuePointer: holderPtr + '/example', usedAt: holderPtr + '/example', schemaPointer: schemaPtr, value: holder.example! });
    }
    const examples = isObject(holder.examples) ? holder.examples : {};
    for (const [name, raw] of Object.entries(examples)) {
      const usedAt = holderPtr + pointerOf('examples', name);
      const { value: ex, pointer: exPtr } = spec.resolve(raw, usedAt);
      if (exPtr.startsWith('/components/examples/')) usedComponentExamples.add(exPtr);
      if (!isObject(ex) || !('value' in ex)) {
        problems.push(`${usedAt}: a named example needs an inline "value" (no externalValue: docs and mocks are offline)`);
        continue;
      }
      add({ valuePointer: exPtr + '/value', usedAt, schemaPointer: schemaPtr, value: ex.value! });
    }
    if (requireNamed && Object.keys(examples).length === 0) missing.push({ api: spec.name, where: holderPtr });
  };

  const fromContent = (content: Json | undefined, contentPtr: string) => {
    if (!isObject(content)) return;
    for (const [mt, media] of Object.entries(content)) {
      if (!isObject(media)) continue;
      const mediaPtr = contentPtr + pointerOf(mt);
      if (media.schema === undefined) {
        problems.push(`${mediaPtr}: media type without a schema`);
        continue;
      }
      fromHolder(media, mediaPtr, mediaPtr + '/schema', true);
    }
  };

  const fromParamOrHeader = (raw: Json | undefined, ptr: string) => {
    const { value: p, pointer } = spec.resolve(raw, ptr);
    if (!isObject(p)) return;
    if (p.schema !== undefined) fromHolder(p, pointer, pointer + '/schema', false);
    if (p.content !== undefined) fromContent(p.content, pointer + '/content');
  };

  for (const op of spec.operations()) {
    const pathPtr = pointerOf('paths', op.path);
    const item = spec.at(pathPtr);
    if (isObject(item) && Array.isArray(item.parameters)) {
      item.parameters.forEach((p, i) => fromParamOrHeader(p, pathPtr + pointerOf('parameters', i)));
    }
    if (Array.isArray(op.op.parameters)) {
      op.op.parameters.forEach((p, i) => fromParamOrHeader(p, op.pointer + pointerOf('parameters', i)));
    }
    if (op.op.requestBody !== undefined) {
      const { value: body, pointer } = spec.resolve(op.op.requestBody, op.pointer + '/requestBody');
      if (isObject(body)) {
        if (!isObject(body.content) || Object.keys(body.content).length === 0) missing.push({ api: spec.name, where: pointer });
        fromContent(body.content, pointer + '/content');
      }
    }
    const responses = isObject(op.op.responses) ? op.op.responses : {};
    if (Object.keys(responses).length === 0) problems.push(`${op.pointer}: no responses`);
    for (const [status, raw] of Object.entries(responses)) {
      const { value: resp, pointer } = spec.resolve(raw, op.pointer + pointerOf('responses', status));
      if (!isObject(resp)) continue;
      fromContent(resp.content, pointer + '/content');
      if (isObject(resp.headers)) {
        for (const [h, header] of Object.entries(resp.headers)) fromParamOrHeader(header, pointer + pointerOf('headers', h));
      }
    }
  }

  // `example` / `examples` inside schemas (JSON Schema annotations).
  const walkSchema = (schema: Json | undefined, ptr: string) => {
    if (!isObject(schema)) return;
    if (Array.isArray(schema.examples)) {
      schema.examples.forEach((v, i) =>
        add({ valuePointer: ptr + pointerOf('examples', i), usedAt: ptr, schemaPointer: ptr, value: v }),
      );
    }
    if ('example' in schema) add({ valuePointer: ptr + '/example', usedAt: ptr, schemaPointer: ptr, value: schema.example! });
    for (const kw of ['properties', 'patternProperties', '$defs', 'dependentSchemas'] as const) {
      const m = schema[kw];
      if (isObject(m)) for (const [k, s] of Object.entries(m)) walkSchema(s, ptr + pointerOf(kw, k));
    }
    for (const kw of ['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains', 'propertyNames'] as const) {
      if (isObject(schema[kw])) walkSchema(schema[kw], ptr + pointerOf(kw));
    }
    for (const kw of ['allOf', 'anyOf', 'oneOf', 'prefixItems'] as const) {
      const list = schema[kw];
      if (Array.isArray(list)) list.forEach((s, i) => walkSchema(s, ptr + pointerOf(kw, i)));
    }
  };
  const components = isObject(spec.doc.components) ? spec.doc.components : {};
  const schemas = isObject(components.schemas) ? components.schemas : {};
  for (const [name, schema] of Object.entries(schemas)) walkSchema(schema, pointerOf('components', 'schemas', name));

  const componentExamples = isObject(components.examples) ? Object.keys(components.examples) : [];
  const unused = componentExamples
    .map((n) => pointerOf('components', 'examples', n))
    .filter((p) => !usedComponentExamples.has(p));

  return { cases: [...cases.values()], missing, unused, problems };
}

for (const api of [...KASISTO_REVISIONS.map((rev) => `kasisto-${rev}`), 'verify', 'operator']) {
  describe(`${api} examples`, () => {
    const spec = loadSpec(api);
    const { cases, missing, unused, problems } = collect(spec);

    it('has examples to check', () => {
      expect(cases.length).toBeGreaterThan(20);
    });

    it.each(cases.map((c) => [`#${c.valuePointer}`, c] as const))('%s is valid', (_name, c) => {
      const r = spec.validateAt(c.schemaPointer, c.value);
      if (!r.valid) {
        throw new Error(
          `${api}: example #${c.valuePointer} (used at #${c.usedAt}) does not match its schema #${c.schemaPointer}:\n  ${r.message}`,
        );
      }
    });

    it('every request body and every response with content has a named example per media type', () => {
      expect(missing.map((m) => `#${m.where}`), 'these have no named `examples`').toEqual([]);
    });

    it('every named example has an inline value and every media type a schema', () => {
      expect(problems).toEqual([]);
    });

    it('every operation documents at least one response with content', () => {
      for (const op of spec.operations()) {
        const withContent = op.statuses.filter((s) => {
          const r = spec.resolve(spec.at(op.pointer + pointerOf('responses', s))).value;
          return isObject(r) && isObject(r.content);
        });
        expect(withContent.length, `${op.method.toUpperCase()} ${op.path}`).toBeGreaterThan(0);
      }
    });

    it('every entry of components.examples is used', () => {
      expect(unused).toEqual([]);
    });

    it('the validator rejects a wrong example (self-check)', () => {
      const c = cases.find((x) => isObject(x.value) && x.schemaPointer.includes('/content/'));
      expect(c).toBeDefined();
      // An object example made into a string cannot match an object schema.
      expect(spec.validateAt(c!.schemaPointer, 'not an object').valid).toBe(false);
    });
  });
}
