/**
 * A small bounded map for imported keys (Node KeyObjects and what goes with them), so a key that
 * signs, verifies or decrypts many messages is imported once. When full, the entry used least
 * recently goes. No imports: identity.ts, which Temporal also bundles into workflows, uses it.
 */
export class KeyCache<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      // most recently used last
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): V {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string);
    return value;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
