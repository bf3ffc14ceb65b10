/** What the domain layer needs from the outside, passed in once at build time. */
import type { Store } from '../adapters/store/store.js';
import type { VerifyClient } from '../adapters/verify/client.js';
import type { Keys } from './crypto.js';
import type { Directory } from './directory.js';
import type { FxRates } from './settlement/fx-rates.js';

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** The settings the domain reads (the whole configuration stays with the composition root and HTTP). */
export interface DomainSettings {
  /** the bank every customer signs in at (part of the pseudonymous user_id) */
  verifyBankId: string;
  /** a movement's lease is sized from Verify's per-attempt time limit */
  verifyTimeoutMs: number;
  accountsCacheSeconds: number;
  otpWindowSeconds: number;
  otpMaxAttempts: number;
  /** failed passwords and one-time passwords one customer may have before being locked out */
  customerMaxFailures: number;
  customerLockoutSeconds: number;
  /** sign-in attempts (/token) one customer may make per window, whatever the address */
  signInAttemptsPerWindow: number;
  signInWindowSeconds: number;
  /** how long reconciliation keeps asking Verify about a transfer it has no final answer for */
  reconcileLookbackDays: number;
  retryWindowSeconds: number;
  tokenIdleTtlSeconds: number;
  tokenAbsoluteTtlSeconds: number;
  tokenRotationGraceSeconds: number;
  /** The bank's default currency (KASISTO_DEFAULT_CURRENCY): balances in it where a contract wants one currency. */
  defaultCurrency?: string;
}

export interface DomainContext {
  config: DomainSettings;
  store: Store;
  verify: VerifyClient;
  keys: Keys;
  directory: Directory;
  log: Logger;
  /** The operator's exchange rates (FX_RATES_FILE); the development pegs when not given. */
  fx?: FxRates;
  /** Identifies this process for movement leases. */
  instanceId: string;
  now(): number;
}
