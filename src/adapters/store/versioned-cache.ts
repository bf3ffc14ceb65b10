/**
 * Values kept with the version of the data they were read at, reused only while that
 * version is still current (the caller reads the version first, then the data, so a value is
 * never kept under a version newer than itself). Bounded by total weight; the least recently
 * used go first.
 */
export class VersionedCache<T> {
  private readonly entries = new Map<string, { version: number; value: T; weight: number }>();
  private total = 0;

  constructor(
    private readonly maxWeight: number,
    private readonly weigh: (value: T) => number,
  ) {}

  get(key: string, version: number): T | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    if (hit.version !== version) {
      this.forget(key);
      return undefined;
    }
    // most recently used last
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit.value;
  }

  set(key: string, version: number, value: T): void {
    const weight = Math.max(1, this.weigh(value));
    if (weight > this.maxWeight / 4) return;
    this.forget(key);
    while (this.entries.size > 0 && this.total + weight > this.maxWeight) this.forget(this.entries.keys().next().value!);
    this.entries.set(key, { version, value, weight });
    this.total += weight;
  }

  get size(): number {
    return this.entries.size;
  }

  private forget(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.total -= entry.weight;
  }
}
