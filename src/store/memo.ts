/**
 * A bounded in-memory memo of documents that never change once written (active shares, wallet
 * records): a hit saves a database round trip on every ceremony. Whatever retires such a
 * document later must also `forget` it here.
 *
 * Concurrent first reads of one id share one load, so they all get the same object: a caller
 * may mark what it got in place (an aborted OT setup) and every other caller sees the mark.
 */
export class ImmutableMemo<T> {
  private readonly entries = new Map<string, T>();
  /** Loads in flight, by id (a failed or empty load is not kept). */
  private readonly loading = new Map<string, Promise<T | null>>();
  constructor(private readonly limit = 10_000) {}

  /** The memoised document, without loading it. */
  peek(id: string): T | undefined {
    return this.entries.get(id);
  }

  async get(id: string, load: () => Promise<T | null>): Promise<T | null> {
    const hit = this.entries.get(id);
    if (hit) return hit;
    return this.loading.get(id) ?? this.startLoad(id, load);
  }

  forget(id: string): void {
    this.entries.delete(id);
    // a load in flight still answers its callers but is not kept
    this.loading.delete(id);
  }

  private startLoad(id: string, load: () => Promise<T | null>): Promise<T | null> {
    const pending: Promise<T | null> = Promise.resolve()
      .then(load)
      .then(
        (doc) => {
          if (this.loading.get(id) === pending) {
            this.loading.delete(id);
            if (doc) {
              if (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value!);
              this.entries.set(id, doc);
            }
          }
          return doc;
        },
        (err: unknown) => {
          if (this.loading.get(id) === pending) this.loading.delete(id);
          throw err;
        },
      );
    this.loading.set(id, pending);
    return pending;
  }
}
