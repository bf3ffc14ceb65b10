/**
 * Every keyed or secret value the connector makes: opaque tokens (stored only as hashes),
 * stable pseudonyms for users and accounts, sealed bank credentials. One master key (CREDENTIALS_KEY) is split with HKDF so that the
 * sealing key and the pseudonym key are never the same bytes.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

export interface Keys {
  seal: Buffer;
  pseudonym: Buffer;
}

export function deriveKeys(master: Buffer): Keys {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), info, 32));
  return { seal: derive('kasisto-connector/seal-credentials/v1'), pseudonym: derive('kasisto-connector/pseudonyms/v1') };
}

/** A new opaque bearer value: 256 random bits, base64url (43 characters). */
export function newOpaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * What the store keeps instead of a token: keyed by CREDENTIALS_KEY, so a new key makes
 * every earlier token unknown (403, sign in again) instead of leaving logins whose sealed
 * credentials can no longer be opened.
 */
export function storedTokenHash(keys: Keys, token: string): string {
  return keyedHash(keys, 'token', token);
}

/** A random id with a readable prefix, e.g. mv_3f9a…: 80 random bits as 20 hex characters. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(10).toString('hex')}`;
}

function keyedHash(keys: Keys, ...parts: string[]): string {
  const mac = createHmac('sha256', keys.pseudonym);
  for (const part of parts) mac.update(`${part.length}:${part}`);
  return mac.digest('hex');
}

/** Stable pseudonym of bank + username: never the username itself, same at every login. */
export function userIdFor(keys: Keys, bankId: string, username: string): string {
  return `usr_${keyedHash(keys, 'user', bankId, username).slice(0, 24)}`;
}

/** Stable account id across Verify sessions (Verify's ba_ ids change every session). */
export function accountIdFor(keys: Keys, bankId: string, iban: string): string {
  return `acct_${keyedHash(keys, 'account', bankId, iban).slice(0, 16)}`;
}

/** Fingerprint of a request's meaning, for recognising the platform's retries. */
export function fingerprint(keys: Keys, ...parts: string[]): string {
  return keyedHash(keys, 'fingerprint', ...parts);
}

/** AES-256-GCM; the associated data binds a sealed value to the row that owns it. */
export function seal(keys: Keys, plaintext: string, associatedData: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keys.seal, iv);
  cipher.setAAD(Buffer.from(associatedData));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

export function unseal(keys: Keys, sealed: string, associatedData: string): string {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('sealed value has an unknown format');
  const decipher = createDecipheriv('aes-256-gcm', keys.seal, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(associatedData));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
