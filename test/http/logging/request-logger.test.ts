/** request.log is made only when used: a child logger per request costs on every request. */
import Fastify, { LogController } from 'fastify';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { loggerOptions } from '../../../src/http/logging/redaction.js';
import { lazyChildLogger } from '../../../src/http/logging/request-logger.js';

describe('request.log', () => {
  it('is made only when a line at an enabled level is logged, with the request_id bound', async () => {
    const lines: string[] = [];
    const options = { ...(loggerOptions(loadConfig({ LOG_LEVEL: 'info' })) as object), stream: { write: (line: string) => void lines.push(line) } };
    const app = Fastify({ logger: options, childLoggerFactory: lazyChildLogger, genReqId: () => 'rid-7', logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }) } as never);
    let made = 0;
    const child = app.log.child.bind(app.log);
    (app.log as { child: unknown }).child = (...args: Parameters<typeof child>) => (made++, child(...args));
    app.post('/quiet', async (request) => ({ enabled: (request.log as unknown as { isLevelEnabled(l: string): boolean }).isLevelEnabled('debug') }));
    app.post('/debug', async (request) => (request.log.debug({ x: 1 }, 'not at info'), {}));
    app.post('/loud', async (request) => (request.log.info({ password: 'hunter2' }, 'hello'), {}));
    expect((await app.inject({ method: 'POST', url: '/quiet' })).json()).toEqual({ enabled: false });
    await app.inject({ method: 'POST', url: '/debug' });
    expect(made).toBe(0);
    await app.inject({ method: 'POST', url: '/loud' });
    expect(made).toBe(1);
    await app.close();
    expect(lines.map((line) => JSON.parse(line))).toEqual([expect.objectContaining({ request_id: 'rid-7', msg: 'hello', password: '[redacted]' })]);
  });
});
