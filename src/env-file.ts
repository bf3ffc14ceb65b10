/**
 * `.env` support with Node's own loader (process.loadEnvFile, Node ≥ 20.12): the file fills
 * in settings the environment does not have; the environment always wins (the loader never
 * overwrites a variable that is already set). What is reported is where each setting came
 * from (environment, .env, or default), never a value: some settings are secrets.
 */
import { resolve } from 'node:path';
import { ConfigError } from './config.js';

export type SettingSource = 'environment' | '.env' | 'default';

export interface EnvFileResult {
  /** Absolute path of the file read, or undefined when there is none. */
  file: string | undefined;
  sources: Map<string, SettingSource>;
}

/**
 * Loads `file` (default: .env in the working directory, or the file ENV_FILE names) into
 * process.env when it exists, and tells for each of `names` where its value comes from. An
 * empty value counts as unset, as loadConfig treats it.
 */
export function loadEnvFile(names: readonly string[], file = process.env['ENV_FILE'] || '.env'): EnvFileResult {
  const env = process.env;
  const isSet = (name: string) => env[name] !== undefined && env[name] !== '';
  const before = new Set(names.filter(isSet));
  const path = resolve(file);
  let loaded: string | undefined;
  try {
    process.loadEnvFile(path);
    loaded = path;
  } catch (error) {
    // unreadable (not missing) or malformed: refuse to start, as for a bad setting
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError([`${path}: ${(error as Error).message}`]);
  }
  const sources = new Map<string, SettingSource>();
  for (const name of names) sources.set(name, before.has(name) ? 'environment' : isSet(name) ? '.env' : 'default');
  return { file: loaded, sources };
}

/** "settings: PORT, LOG_LEVEL from the environment; KASISTO_SECRET from /app/.env; 38 default" */
export function describeSources({ file, sources }: EnvFileResult): string {
  const from = (source: SettingSource) => [...sources].filter(([, s]) => s === source).map(([name]) => name);
  const parts: string[] = [];
  const fromEnv = from('environment');
  const fromFile = from('.env');
  if (fromEnv.length) parts.push(`${fromEnv.join(', ')} from the environment`);
  if (fromFile.length) parts.push(`${fromFile.join(', ')} from ${file}`);
  parts.push(`${from('default').length} at their defaults${file ? '' : ' (no .env file)'}`);
  return `settings: ${parts.join('; ')}`;
}
