/**
 * The sandbox's security handlers, one per security scheme of spec/verify.yaml
 * (`secretKey`, `publicKey`). fastify-openapi-glue calls them before the operation's
 * handler; for an operation that accepts either scheme it tries both.
 *
 * Test mode only: any `sk_test_…` is a secret key, any `pk_test_…` a public key, sent as
 * `Authorization: Token <key>` (Verify's reference; quotes around the key tolerated) or
 * `Bearer <key>` (some of Verify's clients). Missing or unknown key → 401; a valid key of
 * the wrong kind → 403.
 */
import type { FastifyRequest } from 'fastify';
import { SandboxError } from './errors.js';

export type KeyKind = 'secret' | 'public';

export type KeyCheck = { ok: true; kind: KeyKind; key: string } | { ok: false; message: string };

const KEY = /^(sk|pk)_(test|live)_\S+$/;

/** Reads and classifies the key of an `Authorization` header. */
export function readKey(header: string | undefined): KeyCheck {
  if (header === undefined || header.trim() === '') {
    return { ok: false, message: 'No API key provided: send Authorization: Token <key>' };
  }
  const match = /^\s*(Token|Bearer)\s+(.+?)\s*$/i.exec(header);
  if (!match) return { ok: false, message: 'Invalid API key provided: use Authorization: Token <key> (or Bearer <key>)' };
  const key = match[2]!.replace(/^"(.*)"$/, '$1');
  const parts = KEY.exec(key);
  if (!parts) return { ok: false, message: 'Invalid API key provided' };
  if (parts[2] === 'live') {
    return { ok: false, message: 'Invalid API key provided: the sandbox accepts test keys only (sk_test_…, pk_test_…)' };
  }
  return { ok: true, kind: parts[1] === 'sk' ? 'secret' : 'public', key };
}

function requireKey(request: FastifyRequest, kind: KeyKind): void {
  const check = readKey(request.headers.authorization);
  if (!check.ok) throw new SandboxError(401, check.message);
  if (check.kind !== kind) throw new SandboxError(403, `This endpoint requires a ${kind} key`);
}

export interface SecurityHandlers {
  secretKey(request: FastifyRequest): Promise<void>;
  publicKey(request: FastifyRequest): Promise<void>;
}

export function createSecurityHandlers(): SecurityHandlers {
  return {
    secretKey: async (request) => requireKey(request, 'secret'),
    publicKey: async (request) => requireKey(request, 'public'),
  };
}
