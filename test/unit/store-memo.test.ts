import { describe, expect, it } from 'vitest';
import { ImmutableMemo } from '../../src/store/memo.js';

/** A load that waits for `release()` and counts its calls; every call returns a new object. */
function gatedLoader<T>(make: () => T | null) {
  let calls = 0;
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const load = async () => {
    calls++;
    await gate;
    return make();
  };
  return { load, release: () => open(), calls: () => calls };
}

describe('ImmutableMemo', () => {
  it('concurrent first reads of one id share one load and get the same object', async () => {
    const memo = new ImmutableMemo<{ n: number }>();
    let n = 0;
    const l = gatedLoader(() => ({ n: ++n }));
    const reads = [memo.get('a', l.load), memo.get('a', l.load), memo.get('a', l.load)];
    l.release();
    const [x, y, z] = await Promise.all(reads);
    expect(l.calls()).toBe(1);
    expect(x).toBe(y);
    expect(y).toBe(z);
    // a mark made through one caller's object is seen by every later caller
    x!.n = 42;
    expect(await memo.get('a', l.load)).toBe(x);
    expect(memo.peek('a')).toBe(x);
    expect(l.calls()).toBe(1);
  });

  it('does not keep an empty or failed load; the next read loads again', async () => {
    const memo = new ImmutableMemo<string>();
    const empty = gatedLoader<string>(() => null);
    const both = [memo.get('a', empty.load), memo.get('a', empty.load)];
    empty.release();
    expect(await Promise.all(both)).toEqual([null, null]);
    expect(empty.calls()).toBe(1);
    expect(memo.peek('a')).toBeUndefined();

    const failing = async () => Promise.reject(new Error('db down'));
    await expect(Promise.all([memo.get('a', failing), memo.get('a', failing)])).rejects.toThrow('db down');
    expect(await memo.get('a', async () => 'doc')).toBe('doc');
    expect(memo.peek('a')).toBe('doc');
  });

  it('a load still in flight when its id is forgotten answers its callers but is not kept', async () => {
    const memo = new ImmutableMemo<string>();
    const l = gatedLoader(() => 'old');
    const read = memo.get('a', l.load);
    memo.forget('a');
    l.release();
    expect(await read).toBe('old');
    expect(memo.peek('a')).toBeUndefined();
    expect(await memo.get('a', async () => 'new')).toBe('new');
  });

  it('keeps at most `limit` documents, dropping the oldest', async () => {
    const memo = new ImmutableMemo<string>(2);
    for (const id of ['a', 'b', 'c']) await memo.get(id, async () => id);
    expect(memo.peek('a')).toBeUndefined();
    expect(memo.peek('b')).toBe('b');
    expect(memo.peek('c')).toBe('c');
  });
});
