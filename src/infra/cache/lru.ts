/** What the LRU needs to know about an entry to bound memory. */
export interface Sized {
  size: number;
}

/**
 * A bounded LRU on a Map: Map keeps insertion order, so moving a key to the
 * end on each hit makes the first key the least recently used one. Bounded by
 * entry count and by the sum of entry sizes (serialized bytes).
 */
export class Lru<V extends Sized> {
  private readonly map = new Map<string, V>();
  private bytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
    private readonly onRemove: (key: string, value: V) => void = () => undefined,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  get(key: string): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  /** Reads without counting as a use. */
  peek(key: string): V | undefined {
    return this.map.get(key);
  }

  set(key: string, value: V): void {
    this.delete(key);
    if (value.size > this.maxBytes) return;
    this.map.set(key, value);
    this.bytes += value.size;
    while (this.map.size > this.maxEntries || this.bytes > this.maxBytes) {
      const oldest = this.map.keys().next().value as string;
      this.delete(oldest);
    }
  }

  delete(key: string): boolean {
    const value = this.map.get(key);
    if (value === undefined) return false;
    this.map.delete(key);
    this.bytes -= value.size;
    this.onRemove(key, value);
    return true;
  }
}
