/** Shared secrets presented in headers (Kasisto's `secret`, the metrics token), checked in constant time. */
import { createHash, hash, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time check of a presented secret against the accepted ones (rotation allows
 * several). Both sides are hashed first so lengths leak nothing either.
 */
export function secretMatches(presented: string | undefined, accepted: readonly Buffer[]): boolean {
  if (typeof presented !== 'string') return false;
  // one-shot hash(): half the cost of createHash().update().digest(), on every request
  const digest = hash('sha256', presented, 'buffer');
  let match = false;
  for (const candidate of accepted) match = timingSafeEqual(digest, candidate) || match;
  return match;
}

/** What an accepted secret is kept as: its SHA-256. */
export function secretDigest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}
