/** What the domain layer needs from the outside, passed in once at build time. */
import type { Config } from '../config.js';
import type { Store } from '../adapters/store/store.js';
import type { VerifyClient } from '../adapters/verify/client.js';
import type { Keys } from './crypto.js';
import type { Directory } from './directory.js';

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface DomainContext {
  config: Config;
  store: Store;
  verify: VerifyClient;
  keys: Keys;
  directory: Directory;
  log: Logger;
  /** Identifies this process for movement leases. */
  instanceId: string;
  now(): number;
}
