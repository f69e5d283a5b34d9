/** Reading the published test vectors kept as data under test/vectors/ (one runner per kind reads them). */
import { readdirSync, readFileSync } from 'node:fs';

const DIR = new URL('../vectors/', import.meta.url);

/** A vector file, by its path under test/vectors/. Its first field is "source". */
export function readVectors<T>(path: string): T {
  const data = JSON.parse(readFileSync(new URL(path, DIR), 'utf8')) as T;
  if (Object.keys(data as object)[0] !== 'source') throw new Error(`${path}: does not start with "source"`);
  return data;
}

/** The .json files of a folder under test/vectors/, sorted. */
export function listVectors(folder: string): string[] {
  return readdirSync(new URL(`${folder}/`, DIR))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => `${folder}/${f}`);
}

/** Cases for `it.each(titled(cases, title))('%s', (_title, c) => …)`: vitest would shorten `$field` titles. */
export function titled<T>(cases: readonly T[], title: (c: T) => string): Array<[string, T]> {
  return cases.map((c) => [title(c), c]);
}
