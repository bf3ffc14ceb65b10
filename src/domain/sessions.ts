/**
 * Customer logins: /token opens a Verify session and logs it in; the connector answers an
 * opaque token and keeps only its hash, the Verify session, the sealed credentials (for
 * the token's life only) and any pending verification.
 */
import type { Grant } from '../adapters/store/store.js';
import { isKnownSessionStatus, type VerifyCredentials } from '../adapters/verify/client.js';
import { DomainError, forbidden, invalidField, otpRequired } from './errors.js';
import type { DomainContext } from './context.js';
import { newId, newOpaqueToken, seal, storedTokenHash, unseal, userIdFor } from './crypto.js';
import { challengeOf, logOtpEvent, parsePending, pendingFrom } from './otp.js';
import { admitSignIn, countFailure, forgetFailures } from './customer-guard.js';
import { toDomainError } from './verify-errors.js';

/** Verify's login credentials as generated: a field Verify adds fails tsc where they are sealed. */
export type Credentials = VerifyCredentials;

/** An authenticated call: the login behind the token and, if rotated, the successor token. */
export interface Caller {
  grant: Grant;
  tokenHash: string;
  /** Set when this call rotated the token: the platform must use it from now on. */
  newToken?: string;
  /**
   * The token is old enough to be replaced. Done only once the answer is a 200 (see
   * rotateIfDue): a successor sent with no other answer never reaches the platform, yet the
   * old token would be retired and stop working after the grace period.
   */
  rotationDue?: boolean;
}

const MAX_CREDENTIAL_LENGTH = 256;
/** How stale a login's stored last use may be (see authenticate). */
export const LAST_USE_PRECISION_MS = 1_000;
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** A session opened only to log in and list accounts; Verify requires an amount. */
const SIGN_IN_SESSION = { currency: 'AED', amount: 1, description: 'Kasisto assistant sign-in' };

export async function createToken(ctx: DomainContext, username: unknown, password: unknown): Promise<{ userId: string; token: string }> {
  const login = requireCredential('username', username);
  const secret = requireCredential('password', password);
  const now = ctx.now();
  const userId = userIdFor(ctx.keys, ctx.config.verifyBankId, login);
  // per customer, whatever the address or token: a locked-out customer's guesses never reach the bank
  await admitSignIn(ctx, userId);
  const session = await ctx.verify.createSession(SIGN_IN_SESSION).catch(rethrow);
  const loggedIn = await ctx.verify.login(session.id, { credentials: { login, password: secret } }).catch(rethrow);
  if (!isKnownSessionStatus(loggedIn.status)) throw new DomainError('upstream_error', 'The bank answered the sign-in in an unexpected way; try again shortly');
  if (loggedIn.status !== 'connected' && loggedIn.status !== 'pending_verification') {
    const lockedOut = await countFailure(ctx, userId);
    ctx.log.info({ user_id: userId, verify_session: session.id, locked_out: lockedOut }, 'login refused by the bank');
    throw new DomainError('invalid_credentials', 'The bank refused these credentials');
  }
  const grantId = newId('gr');
  const token = newOpaqueToken();
  const pending = loggedIn.status === 'pending_verification' && loggedIn.verification ? pendingFrom(loggedIn.verification, { type: 'session', sessionId: session.id }) : undefined;
  await ctx.store.createGrant(
    {
      id: grantId,
      user_id: userId,
      bank_id: ctx.config.verifyBankId,
      status: pending ? 'pending_otp' : 'active',
      sealed_credentials: seal(ctx.keys, JSON.stringify({ login, password: secret } satisfies Credentials), grantId),
      verify_session_id: session.id,
      pending_json: pending ? JSON.stringify(pending) : null,
      otp_attempts: 0,
      otp_started_at: pending ? now : null,
      accounts_json: null,
      accounts_cached_at: null,
      created_at: now,
      last_used_at: now,
      absolute_expires_at: now + ctx.config.tokenAbsoluteTtlSeconds * 1000,
    },
    storedTokenHash(ctx.keys, token),
  );
  // a sign-in that still waits for its one-time password proves nothing yet
  if (!pending) await forgetFailures(ctx, userId);
  ctx.log.info({ user_id: userId, grant: grantId, otp_pending: Boolean(pending) }, 'customer signed in');
  if (pending) logOtpEvent(ctx, { grant: grantId }, 'issued');
  return { userId, token };
}

function requireCredential(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw invalidField(field, 'is required');
  if (value.length > MAX_CREDENTIAL_LENGTH) throw invalidField(field, `must be at most ${MAX_CREDENTIAL_LENGTH} characters`);
  // A lone surrogate becomes U+FFFD in UTF-8: two logins would share a user_id, and the
  // sealed password would differ from the one that signed in.
  if (LONE_SURROGATE.test(value)) throw invalidField(field, 'must be valid Unicode text');
  return value;
}

function rethrow(error: unknown): never {
  throw toDomainError(error);
}

/**
 * Checks the `token` header: known, not expired, not ended, and belonging to the body's
 * user_id. Rotates a token older than a third of the idle lifetime.
 */
export async function authenticate(ctx: DomainContext, token: unknown, bodyUserId: unknown, knownTokenHash?: string): Promise<Caller> {
  if (typeof token !== 'string' || token.length === 0) throw forbidden('The token header is required');
  if (token.length > 512) throw forbidden('The token is not valid');
  // the HTTP layer has usually hashed it already (its rate limit is keyed by it)
  const tokenHash = knownTokenHash ?? storedTokenHash(ctx.keys, token);
  const found = await ctx.store.findToken(tokenHash);
  if (!found || found.grant.status === 'ended') throw forbidden('The token is not valid or has expired: call /token again');
  const { grant } = found;
  const now = ctx.now();
  const idleMs = ctx.config.tokenIdleTtlSeconds * 1000;
  if (grant.absolute_expires_at <= now || grant.last_used_at + idleMs <= now) {
    await ctx.store.endGrant(grant.id);
    throw forbidden('The token has expired: call /token again');
  }
  if (found.retiredAt !== null && found.retiredAt + ctx.config.tokenRotationGraceSeconds * 1000 <= now) {
    throw forbidden('The token was replaced by a newer one and is no longer valid');
  }
  if (bodyUserId !== undefined && bodyUserId !== grant.user_id) throw forbidden('The token does not belong to this user_id');
  // Idle expiry is judged on the stored last use, so it may lag the real one by at most the
  // write interval: one second, the precision the idle lifetime is promised to.
  if (now - grant.last_used_at >= LAST_USE_PRECISION_MS) {
    await ctx.store.updateGrant(grant.id, { last_used_at: now });
    grant.last_used_at = now;
  }
  const caller: Caller = { grant, tokenHash };
  if (found.retiredAt === null && now - found.createdAt > idleMs / 3) caller.rotationDue = true;
  return caller;
}

/** Rotates a token that is due, for an answer that carries the successor (a 200). */
export async function rotateIfDue(ctx: DomainContext, caller: Caller): Promise<string | undefined> {
  if (caller.rotationDue && !caller.newToken) await rotate(ctx, caller);
  return caller.newToken;
}

/** Issues a successor token; the predecessor stays valid for the rotation grace period. */
export async function rotate(ctx: DomainContext, caller: Caller): Promise<string> {
  const token = newOpaqueToken();
  await ctx.store.rotateToken(caller.grant.id, caller.tokenHash, storedTokenHash(ctx.keys, token), ctx.now());
  caller.newToken = token;
  caller.rotationDue = false;
  return token;
}

/** Data operations cannot run while the login itself still waits for a verification: 450 with its challenge. */
export function requireSignedIn(caller: Caller): void {
  if (caller.grant.status === 'active') return;
  const pending = parsePending(caller.grant.pending_json);
  if (pending) throw otpRequired(challengeOf(pending));
  throw forbidden('Complete the one-time password step first (/validate_otp)');
}

export function credentialsOf(ctx: DomainContext, grant: Grant): Credentials {
  if (!grant.sealed_credentials) throw forbidden('The token has expired: call /token again');
  try {
    return JSON.parse(unseal(ctx.keys, grant.sealed_credentials, grant.id)) as Credentials;
  } catch {
    // sealed under another CREDENTIALS_KEY (or damaged): this sign-in cannot be used again
    throw forbidden('The sign-in can no longer be used: call /token again');
  }
}
