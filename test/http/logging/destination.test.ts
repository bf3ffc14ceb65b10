/** The log destination: every line, in order, one write per event-loop turn, and also at exit. */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LineWriter } from '../../../src/http/logging/destination.js';

const dir = mkdtempSync(join(tmpdir(), 'log-destination-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('LineWriter', () => {
  it('writes every line in order, one write per event-loop turn', async () => {
    const file = join(dir, 'lines.log');
    const fd = openSync(file, 'w');
    const writer = new LineWriter(fd);
    const lines = Array.from({ length: 1000 }, (_, i) => `{"n":${i}}\n`);
    for (const line of lines.slice(0, 500)) writer.write(line);
    expect(readFileSync(file, 'utf8')).toBe(''); // not yet: at the end of the turn
    await new Promise((resolve) => setImmediate(resolve));
    for (const line of lines.slice(500)) writer.write(line);
    writer.flushSync();
    expect(readFileSync(file, 'utf8')).toBe(lines.join(''));
    closeSync(fd);
  });

  it('writes what is left when the process exits', () => {
    const file = join(dir, 'exit.log');
    const script = join(dir, 'exit.ts');
    writeFileSync(
      script,
      `import { openSync } from 'node:fs';
       import { LineWriter } from ${JSON.stringify(join(process.cwd(), 'src/http/logging/destination.ts'))};
       const w = new LineWriter(openSync(${JSON.stringify(file)}, 'w'));
       w.write('first\\n'); w.write('last\\n');
       process.exit(3);`,
    );
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(3);
    expect(readFileSync(file, 'utf8')).toBe('first\nlast\n');
  });
});
