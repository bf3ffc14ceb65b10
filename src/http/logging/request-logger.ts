/**
 * `request.log`, made only when something logs through it. Fastify gives every request a
 * child logger with its request_id bound; pino makes one by serialising the bindings (through
 * the redaction) up front (see bench/notes.md), yet most requests
 * log nothing through it: their two access lines are written with request.id (access-log.ts)
 * and the domain logs only on events. So the child is a stand-in that creates the real one
 * (the same `logger.child(bindings, options)` Fastify would call) the first time a line at
 * an enabled level is logged, or anything else is asked of it.
 */
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';

type Bindings = Record<string, unknown>;
type Options = { level?: string } & Record<string, unknown>;
type LevelName = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** Fastify's childLoggerFactory option. */
export const lazyChildLogger: NonNullable<FastifyServerOptions['childLoggerFactory']> = (logger, bindings, options) =>
  new LazyChildLogger(logger, bindings as Bindings, options as Options) as unknown as FastifyBaseLogger;

class LazyChildLogger {
  #real: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindingsGiven: Bindings,
    private readonly options: Options,
  ) {}

  /** The child Fastify would have made. */
  private get real(): FastifyBaseLogger {
    this.#real ??= this.parent.child(this.bindingsGiven, this.options as never);
    return this.#real;
  }

  get level(): string {
    return this.#real?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  /** Answered from the parent's levels while there is no child yet, so asking makes none. */
  isLevelEnabled(level: string): boolean {
    const real = this.#real as { isLevelEnabled?(level: string): boolean } | undefined;
    if (real) return real.isLevelEnabled?.(level) ?? true;
    const values = (this.parent as { levels?: { values?: Record<string, number> } }).levels?.values;
    const wanted = values?.[level];
    const threshold = values?.[this.level];
    if (wanted === undefined || threshold === undefined) return (this.real as { isLevelEnabled?(level: string): boolean }).isLevelEnabled?.(level) ?? true;
    return wanted >= threshold;
  }

  fatal(...args: unknown[]): void {
    this.log('fatal', args);
  }
  error(...args: unknown[]): void {
    this.log('error', args);
  }
  warn(...args: unknown[]): void {
    this.log('warn', args);
  }
  info(...args: unknown[]): void {
    this.log('info', args);
  }
  debug(...args: unknown[]): void {
    this.log('debug', args);
  }
  trace(...args: unknown[]): void {
    this.log('trace', args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: Options): FastifyBaseLogger {
    return this.real.child(bindings, options as never);
  }

  /** Anything else pino offers (bindings(), flush(), …) is the real child's. */
  bindings(): Bindings {
    return (this.real as unknown as { bindings(): Bindings }).bindings();
  }

  flush(callback?: (error?: Error) => void): void {
    (this.real as unknown as { flush?(callback?: (error?: Error) => void): void }).flush?.(callback);
  }

  private log(level: LevelName, args: unknown[]): void {
    if (!this.isLevelEnabled(level)) return;
    (this.real[level] as (...args: unknown[]) => void)(...args);
  }
}
