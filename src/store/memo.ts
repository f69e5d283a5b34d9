/**
 * A bounded in-memory memo of documents that never change once written (active shares, wallet
 * records): a hit saves a database round trip on every ceremony. Whatever retires such a
 * document later must also `forget` it here.
 */
export class ImmutableMemo<T> {
  private readonly entries = new Map<string, T>();
  constructor(private readonly limit = 10_000) {}

  async get(id: string, load: () => Promise<T | null>): Promise<T | null> {
    const hit = this.entries.get(id);
    if (hit) return hit;
    const doc = await load();
    if (doc) {
      if (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(id, doc);
    }
    return doc;
  }

  forget(id: string): void {
    this.entries.delete(id);
  }
}
