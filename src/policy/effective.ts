/**
 * Which published version is in effect: the newest whose time lock has passed. Pure over its
 * reader: the caller reads the versions (governance policies, rule sets), this only picks one.
 */

/** The newest version from `from` down whose time lock has passed. */
export async function newestInEffect<T extends { effectiveAt?: Date }>(
  from: number,
  read: (version: number) => Promise<T | null>,
  now = Date.now(),
): Promise<T | undefined> {
  for (let v = from; v >= 1; v--) {
    const d = await read(v);
    if (d && (d.effectiveAt?.getTime() ?? 0) <= now) return d;
  }
  return undefined;
}
