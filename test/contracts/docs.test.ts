/**
 * `npm run docs` (scripts/docs.sh) builds offline HTML references: each file must embed
 * Redoc's standalone bundle and load no script from the network.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/prism.js';
import { loadSpec } from '../helpers/spec.js';

const run = promisify(execFile);
/** Redoc's standalone bundle as shipped in @redocly/cli (what --inlineBundle embeds). */
const REDOC_BUNDLE = join(PROJECT_ROOT, 'node_modules/@redocly/cli/lib/chunks/redoc.standalone.js');

describe('npm run docs (scripts/docs.sh)', () => {
  let outDir: string;
  let stdout = '';

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'docs-test-'));
    const res = await run('bash', ['scripts/docs.sh', outDir], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off' },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 50_000,
    });
    stdout = res.stdout;
  }, 60_000);

  afterAll(() => {
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  for (const api of ['kasisto', 'verify'] as const) {
    describe(`${api}.html`, () => {
      const file = () => join(outDir, `${api}.html`);
      const html = () => readFileSync(file(), 'utf8');

      it('is written to the output directory given as argument', () => {
        expect(existsSync(file()), stdout).toBe(true);
      });

      it('loads no script from the network', () => {
        expect(html()).not.toMatch(/<script[^>]*\bsrc\s*=\s*["']?https?:/i);
        expect(html()).not.toMatch(/<link[^>]*\bhref\s*=\s*["']?https?:/i);
        expect(html()).not.toContain('redoc/v3.0.1/bundles/redoc.standalone.js'); // the CDN bundle URL
      });

      it("inlines Redoc's standalone bundle and hydrates the page from it", () => {
        const text = html();
        // Slices of the very bundle that ships inside @redocly/cli appear verbatim.
        const bundle = readFileSync(REDOC_BUNDLE, 'utf8');
        for (const at of [0, 0.25, 0.5, 0.75]) {
          const start = Math.floor(bundle.length * at);
          const slice = bundle.slice(start, start + 4000);
          expect(text.includes(slice), `bundle slice at ${start} not inlined`).toBe(true);
        }
        // The bundle's own header and its global entry points.
        expect(text).toMatch(/const\s*\{\s*RedocStandalone\s*,\s*hydrate\s*,\s*init\s*\}\s*=/);
        expect(text).toContain('hydrate(__redoc_definition');
        expect(text.length).toBeGreaterThan(1_000_000);
      });

      it('carries the API title and every operation', () => {
        const spec = loadSpec(api);
        const title = (spec.doc.info as { title: string }).title;
        const text = html();
        expect(text).toContain(`<title>${title}</title>`);
        for (const op of spec.operations()) expect(text).toContain(`"operationId":"${op.operationId}"`);
      });
    });
  }
});
