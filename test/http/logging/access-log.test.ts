/** The access lines the connector writes itself: byte for byte the lines pino would write. */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { AccessLogController } from '../../../src/http/logging/access-log.js';
import { loggerOptions } from '../../../src/http/logging/redaction.js';

describe('access lines', () => {
  /** The two lines of one request as written, with the time fields made comparable. */
  async function accessLinesOf(fast: boolean, request: { url: string; headers: Record<string, string> }) {
    const lines: string[] = [];
    const controller = new AccessLogController({ requestIdLogLabel: 'request_id' });
    const options = { ...(loggerOptions(loadConfig({ LOG_LEVEL: 'info' })) as object), stream: { write: (line: string) => void lines.push(line) } };
    const app = Fastify({ logger: options, logController: controller, genReqId: () => 'id "with" \\ quotes' } as never);
    controller.useLogger(app.log);
    if (!fast) (controller as unknown as { lines: unknown }).lines = undefined;
    app.post('/api/x', async () => ({ ok: true }));
    await app.inject({ method: 'POST', url: request.url, headers: { 'content-type': 'application/json', ...request.headers }, payload: '{}' });
    await app.close();
    return lines.map((line) => line.replace(/"time":\d+/, '"time":0').replace(/"responseTime":[\d.e-]+/, '"responseTime":0'));
  }

  it('are rendered here exactly as pino renders them', async () => {
    const requests: { url: string; headers: Record<string, string> }[] = [
      { url: '/api/x', headers: {} },
      { url: '/api/x?q="a"\\b%C3%A9\u00e9', headers: { 'accept-version': '2', host: 'h"ost' } },
    ];
    for (const request of requests) {
      const [fast, pino] = [await accessLinesOf(true, request), await accessLinesOf(false, request)];
      expect(fast.length).toBe(2);
      expect(fast).toEqual(pino);
      expect(JSON.parse(fast[0]!)).toMatchObject({ level: 30, request_id: 'id "with" \\ quotes', msg: 'incoming request', req: { method: 'POST' } });
    }
  });
});
