/** Shared secrets presented in headers (Kasisto's `secret`, the metrics token, operator keys), checked in constant time. */
import { createHash, hash, timingSafeEqual } from 'node:crypto';

const itself = (digest: Buffer) => digest;

/**
 * The accepted entry a presented secret matches, compared in constant time against every
 * one of them (rotation allows several; operator keys name who presented it). Both sides
 * are hashed first so lengths leak nothing either.
 */
export function matchSecret<T>(presented: string | undefined, accepted: readonly T[], digestOf: (entry: T) => Buffer): T | undefined {
  if (typeof presented !== 'string') return undefined;
  // one-shot hash(): half the cost of createHash().update().digest(), on every request
  const digest = hash('sha256', presented, 'buffer');
  let found: T | undefined;
  for (const entry of accepted) if (timingSafeEqual(digest, digestOf(entry))) found = entry;
  return found;
}

/** Whether a presented secret is one of the accepted ones (see matchSecret). */
export function secretMatches(presented: string | undefined, accepted: readonly Buffer[]): boolean {
  return matchSecret(presented, accepted, itself) !== undefined;
}

/** What an accepted secret is kept as: its SHA-256. */
export function secretDigest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}
