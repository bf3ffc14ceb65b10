/**
 * Shared by the reliability suites: the figures each suite writes for
 * `npm run report:reliability` (test/reliability/.results/<suite>.json), and small helpers.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Trial } from '../../scripts/lib/reliability-trial.js';

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '.results');

export type { Trial };

export class Figures {
  readonly trials: Trial[] = [];
  readonly notes: Record<string, unknown> = {};
  private readonly started = Date.now();

  constructor(
    readonly suite: string,
    readonly settings: Record<string, unknown>,
  ) {}

  add(trial: Trial): void {
    this.trials.push(trial);
  }

  write(): void {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const body = {
      suite: this.suite,
      settings: this.settings,
      trials: this.trials,
      notes: this.notes,
      durationMs: Date.now() - this.started,
      finishedAt: new Date().toISOString(),
    };
    writeFileSync(join(RESULTS_DIR, `${this.suite}.json`), `${JSON.stringify(body, null, 2)}\n`);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
