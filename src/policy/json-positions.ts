/**
 * Where things are in a JSON text, so rule-set errors can name a line and column. A small strict
 * scanner records the offset of every object key and array element by path; it also finds
 * duplicate keys, which JSON.parse silently resolves to the last one (a second "operator" key
 * would otherwise hide the first from a reviewer).
 */
export type JsonPath = readonly (string | number)[];

/** `rules[0].conditions.all[1]`; the root is `(root)`. */
export function formatPath(path: JsonPath): string {
  const s = path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
  return s.startsWith('.') ? s.slice(1) : s || '(root)';
}

export class JsonScanError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'JsonScanError';
    this.offset = offset;
  }
}

export interface JsonLayout {
  /** Offset of the key (or element) at `path`, or of its nearest ancestor that exists. */
  offsetOf(path: JsonPath): number;
  duplicates: { path: JsonPath; offset: number }[];
}

const literal = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
const escapes = '"\\/bfnrtu';

/** Scans `text` as strict JSON; throws JsonScanError at the first syntax error. */
export function scanJson(text: string, maxDepth = 128): JsonLayout {
  const offsets = new Map<string, number>();
  const duplicates: { path: JsonPath; offset: number }[] = [];
  let i = 0;
  const fail = (message: string): never => {
    throw new JsonScanError(message, i);
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const string = (): string => {
    const start = i;
    if (text[i] !== '"') fail('expected a double-quoted string');
    for (i++; text[i] !== '"'; i++) {
      if (i >= text.length) fail('unterminated string');
      if (text.charCodeAt(i) < 0x20) fail('control character in string');
      if (text[i] === '\\') {
        i++;
        if (!escapes.includes(text[i] ?? 'x')) fail('bad escape in string');
        if (text[i] === 'u' && !/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('bad \\u escape');
      }
    }
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: JsonPath, depth: number): void => {
    if (depth > maxDepth) fail('JSON nested too deeply');
    space();
    offsets.set(JSON.stringify(path), i);
    const open = text[i];
    if (open === '{' || open === '[') {
      const close = open === '{' ? '}' : ']';
      const seen = new Set<string>();
      i++;
      space();
      if (text[i] === close) return void i++;
      for (let n = 0; ; n++) {
        space();
        const at = i;
        let p: JsonPath;
        if (open === '{') {
          const key = string();
          p = [...path, key];
          if (seen.has(key)) duplicates.push({ path: p, offset: at });
          seen.add(key);
          space();
          if (text[i] !== ':') fail("expected ':' after a key");
          i++;
        } else p = [...path, n];
        value(p, depth + 1);
        offsets.set(JSON.stringify(p), at); // errors about a member point at its key
        space();
        if (text[i] === ',') i++;
        else if (text[i] === close) return void i++;
        else fail(`expected ',' or '${close}'`);
      }
    }
    if (open === '"') return void string();
    literal.lastIndex = i;
    const m = literal.exec(text);
    if (!m) fail('unexpected character');
    i += (m as RegExpExecArray)[0].length;
  };
  value([], 0);
  space();
  if (i < text.length) fail('unexpected text after the JSON value');
  return {
    duplicates,
    offsetOf(path) {
      for (let n = path.length; n >= 0; n--) {
        const o = offsets.get(JSON.stringify(path.slice(0, n)));
        if (o !== undefined) return o;
      }
      return 0;
    },
  };
}

/** 1-based line and column (in UTF-16 code units) of `offset`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lastBreak = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: before.length - lastBreak };
}
