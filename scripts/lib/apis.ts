/**
 * The APIs named in redocly.yaml (`apis:`), the one list every contract script reads, so a
 * spec added there (another partner, another revision) is generated, drift-checked and
 * diffed without touching the scripts.
 */
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { parse } from 'yaml';

export interface ApiEntry {
  /** The key in redocly.yaml, e.g. `verify@2018`. */
  name: string;
  /** `verify@2018` -> `verify`; `kasisto@1.1` -> `kasisto`. */
  base: string;
  /** Absolute path of the spec. */
  root: string;
  /** Spec path relative to the project root, for messages: `spec/verify.yaml`. */
  rootRel: string;
  /** Absolute path of the generated types (x-openapi-ts.output), when the API has one. */
  output?: string;
  /** The same, relative to the project root. */
  outputRel?: string;
  /** The raw entry, to copy into a temporary config. */
  raw: Record<string, unknown>;
}

export interface RedoclyConfig {
  file: string;
  dir: string;
  doc: Record<string, unknown>;
  apis: ApiEntry[];
}

export function readRedoclyConfig(projectRoot: string, file = 'redocly.yaml'): RedoclyConfig {
  const path = resolve(projectRoot, file);
  const dir = dirname(path);
  const doc = parse(readFileSync(path, 'utf8')) as Record<string, unknown> | null;
  if (!doc || typeof doc !== 'object') throw new Error(`${file}: not a YAML mapping`);
  const apisNode = doc.apis;
  if (!apisNode || typeof apisNode !== 'object') throw new Error(`${file}: no 'apis' mapping`);
  const apis: ApiEntry[] = [];
  for (const [name, value] of Object.entries(apisNode as Record<string, unknown>)) {
    const raw = (value ?? {}) as Record<string, unknown>;
    if (typeof raw.root !== 'string') throw new Error(`${file}: apis.${name}.root is missing`);
    const root = resolve(dir, raw.root);
    const ts = raw['x-openapi-ts'] as { output?: unknown } | undefined;
    const output = typeof ts?.output === 'string' ? resolve(dir, ts.output) : undefined;
    apis.push({
      name,
      base: name.split('@')[0]!,
      root,
      rootRel: relative(projectRoot, root),
      ...(output ? { output, outputRel: relative(projectRoot, output) } : {}),
      raw,
    });
  }
  return { file: path, dir, doc, apis };
}
