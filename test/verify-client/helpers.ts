/**
 * Helpers for the Verify client tests: the spec's examples, and small throwaway HTTP servers
 * on 127.0.0.1 that count requests and connections.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { createVerifyClient, type VerifyCallEvent, type VerifyClient, type VerifyClientOptions } from '../../src/adapters/verify/client.js';

export const SPEC_PATH = fileURLToPath(new URL('../../spec/verify.yaml', import.meta.url));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;

export const spec: Loose = parse(readFileSync(SPEC_PATH, 'utf8'));

/** Follows a local `$ref` (`#/components/…`) in the spec. */
export function deref<T = Loose>(node: Loose): T {
  let current = node;
  while (current && typeof current === 'object' && typeof current.$ref === 'string') {
    const pointer = (current.$ref as string).replace(/^#\//, '').split('/');
    current = pointer.reduce((acc: Loose, token) => acc?.[token.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  }
  return current as T;
}

/** The value of a named example under #/components/examples. */
export function example(name: string): Loose {
  const ex = spec.components.examples[name];
  if (!ex) throw new Error(`no example ${name}`);
  return structuredClone(ex.value);
}

export const SES = 'ses_2Ocvnws4y3Yr';
export const TR = 'tr_F2sqeKZa8ppl';
export const VRF = 'vrf_zGf5ZH3LzXDz';
export const BA = 'ba_l5uF4BMbTh4L';
export const SECRET_KEY = 'sk_test_S3cr3tK3yV4lu3xyz';
export const PUBLIC_KEY = 'pk_test_Publ1cK3yV4lu3abc';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface TestServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Connections accepted so far. */
  connections: number;
  /** Connections currently open. */
  openConnections(): number;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string, index: number) => unknown;

/** A node:http server on 127.0.0.1:0 that records every request and hands it to handler. */
export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const index = requests.length;
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      Promise.resolve(handler(req, res, body, index)).catch(() => res.destroy());
    });
  });
  server.on('connection', (socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get connections() {
      return connections;
    },
    openConnections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A client with test keys and an onCall recorder. */
export function testClient(
  baseUrl: string,
  overrides: Partial<VerifyClientOptions> = {},
): { client: VerifyClient; events: VerifyCallEvent[] } {
  const events: VerifyCallEvent[] = [];
  const client = createVerifyClient({
    baseUrl,
    secretKey: SECRET_KEY,
    publicKey: PUBLIC_KEY,
    bankId: 'test_bank',
    timeoutMs: 2_000,
    retries: 2,
    onCall: (e) => events.push(e),
    ...overrides,
  });
  return { client, events };
}

/** The rejection of a promise (fails if it resolves). */
export async function failure(promise: Promise<unknown>): Promise<Loose> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}
