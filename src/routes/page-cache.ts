/**
 * Rendered answers (the serialised JSON, UTF-8 encoded) kept with the version of the data
 * they were made from, reused only while that version is still current. Bounded by count and
 * by total size; the least recently used go first. Kept as bytes: a string would be measured
 * (Content-Length) and encoded again on every send, ~40 µs for a 15 kB page.
 */
export class PageCache {
  private readonly pages = new Map<string, { version: number; page: Buffer }>();
  private bytes = 0;

  constructor(
    private readonly maxPages = 1_000,
    /** a page of 500 entries is ~150 kB */
    private readonly maxBytes = 16_000_000,
  ) {}

  /** The page kept for `key` if it was made at `version`. */
  get(key: string, version: number): Buffer | undefined {
    const hit = this.pages.get(key);
    if (hit === undefined) return undefined;
    if (hit.version !== version) {
      this.forget(key);
      return undefined;
    }
    // most recently used last
    this.pages.delete(key);
    this.pages.set(key, hit);
    return hit.page;
  }

  /** Keeps `page`, made from data at `version` or newer (read the version first, then the data). */
  set(key: string, version: number, page: Buffer): void {
    if (page.length > this.maxBytes / 4) return;
    this.forget(key);
    while (this.pages.size >= this.maxPages || (this.pages.size > 0 && this.bytes + page.length > this.maxBytes)) this.forget(this.pages.keys().next().value!);
    this.pages.set(key, { version, page });
    this.bytes += page.length;
  }

  get size(): number {
    return this.pages.size;
  }

  private forget(key: string): void {
    const entry = this.pages.get(key);
    if (entry === undefined) return;
    this.pages.delete(key);
    this.bytes -= entry.page.length;
  }
}
