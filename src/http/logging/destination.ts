/**
 * Where the log lines go (stdout in production). Every line written during one turn of the
 * event loop is joined and written with one write(2) when the turn ends, and whatever is
 * left is written synchronously when the process exits. Lines are never reordered; a hard
 * kill (SIGKILL) loses at most the lines of the turn it interrupts.
 *
 * Why not pino's default destination (sonic-boom, asynchronous): it sends each write through
 * libuv's thread pool (a thread wake-up, a completion callback, and a copy of the text to
 * work out what was written) and measures its whole buffered text on every line, twice a
 * request for the access lines (measured in bench/notes.md).
 *
 * A destination that does not keep up (a full pipe: EAGAIN) is retried every 10 ms; lines
 * keep queueing in memory up to MAX_PENDING_BYTES, past which they are dropped and counted,
 * and the count is logged once the destination accepts lines again.
 */
import { writeSync } from 'node:fs';

const MAX_PENDING_BYTES = 64 * 1024 * 1024;
const RETRY_MS = 10;

export class LineWriter {
  private pending: string[] = [];
  private pendingBytes = 0;
  /** Bytes of an earlier write the destination has not taken yet (partial write or EAGAIN). */
  private unwritten: Buffer | undefined;
  private scheduled = false;
  private dropped = 0;

  constructor(private readonly fd: number) {
    process.once('exit', () => this.flushSync());
  }

  /** pino's stream interface: one serialised line, newline included. */
  write(line: string): boolean {
    if (this.pendingBytes > MAX_PENDING_BYTES) {
      this.dropped += 1;
      return false;
    }
    this.pending.push(line);
    // string length: close enough for a bound
    this.pendingBytes += line.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushLater);
    }
    return true;
  }

  /** Writes everything queued now (pino calls this from logger.flush() and its exit handlers). */
  flushSync(): void {
    this.drain(true);
  }

  flush(callback?: (error?: Error) => void): void {
    this.drain(false);
    callback?.();
  }

  private readonly flushLater = (): void => {
    this.scheduled = false;
    this.drain(false);
  };

  private drain(blocking: boolean): void {
    for (;;) {
      let chunk: string | Buffer;
      if (this.unwritten !== undefined) {
        chunk = this.unwritten;
        this.unwritten = undefined;
      } else if (this.pending.length > 0) {
        chunk = this.pending.length === 1 ? this.pending[0]! : this.pending.join('');
        this.pending = [];
        this.pendingBytes = 0;
      } else {
        break;
      }
      const { rest, blocked } = this.send(chunk);
      this.unwritten = rest;
      if (blocked) return this.retryLater(blocking);
    }
    if (this.dropped > 0) {
      const dropped = this.dropped;
      this.dropped = 0;
      this.write(`${JSON.stringify({ level: 40, time: Date.now(), msg: `${dropped} log lines dropped: the log destination did not keep up` })}\n`);
    }
  }

  /** Writes what the destination takes now; `rest` is what it did not (a partial write or a full pipe). */
  private send(chunk: string | Buffer): { rest: Buffer | undefined; blocked: boolean } {
    try {
      const written = typeof chunk === 'string' ? writeSync(this.fd, chunk) : writeSync(this.fd, chunk);
      if (typeof chunk === 'string') {
        // nearly always all of it; only a partial write needs the bytes
        if (written === Buffer.byteLength(chunk)) return { rest: undefined, blocked: false };
        chunk = Buffer.from(chunk);
      }
      return { rest: written >= chunk.length ? undefined : chunk.subarray(written), blocked: false };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return { rest: typeof chunk === 'string' ? Buffer.from(chunk) : chunk, blocked: true };
      // a destination that is gone (EPIPE, EBADF): nothing more can be written there
      this.pending = [];
      this.pendingBytes = 0;
      return { rest: undefined, blocked: false };
    }
  }

  private retryLater(blocking: boolean): void {
    if (blocking) {
      // at exit: wait for the destination rather than lose the last lines
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, RETRY_MS);
      return this.drain(true);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setTimeout(this.flushLater, RETRY_MS).unref();
    }
  }
}

let stdout: LineWriter | undefined;

/** The process's one writer for stdout (every app built in the process shares it). */
export function stdoutLines(): LineWriter {
  stdout ??= new LineWriter(1);
  return stdout;
}
