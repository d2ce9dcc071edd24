/**
 * A strict JSON reader for files people write by hand. Compared with JSON.parse it
 *   - reports where a syntax error is, as line and column (1-based), with a readable reason
 *     (trailing comma, comment, missing comma, unterminated string...);
 *   - refuses duplicate keys: JSON.parse silently keeps the last one, so a file that says
 *     "maxMa": 5 near the top and "maxMa": 25 further down would run at 25 mA while a reader sees 5;
 *   - treats "__proto__" as an ordinary key (never as the object's prototype);
 *   - limits nesting depth, so a hostile file cannot exhaust the stack;
 *   - remembers where each value starts, so later errors can point at a line and column too.
 */
import { formatPath } from './paths.js';

export interface JsonTextError {
  readonly line: number;
  readonly column: number;
  readonly offset: number;
  readonly message: string;
}

/** Where the value at a path starts (the nearest enclosing value when the path itself is absent). */
export type Locate = (path: readonly PropertyKey[]) => { readonly line: number; readonly column: number };

export type JsonTextResult =
  | { readonly ok: true; readonly value: unknown; readonly locate: Locate }
  | { readonly ok: false; readonly error: JsonTextError };

const MAX_DEPTH = 64;

class SyntaxFault extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

export function parseJsonText(source: string): JsonTextResult {
  const text = source.startsWith('\uFEFF') ? source.slice(1) : source;
  try {
    const reader = new Reader(text);
    const value = reader.document();
    const positions = reader.positions;
    const locate: Locate = (path) => {
      for (let n = path.length; n >= 0; n--) {
        const offset = positions.get(formatPath(path.slice(0, n)));
        if (offset !== undefined) return lineColumn(text, offset);
      }
      return { line: 1, column: 1 };
    };
    return { ok: true, value, locate };
  } catch (err) {
    if (!(err instanceof SyntaxFault)) throw err;
    const { line, column } = lineColumn(text, err.offset);
    return { ok: false, error: { line, column, offset: err.offset, message: err.message } };
  }
}

/** 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

class Reader {
  private pos = 0;
  private depth = 0;
  private readonly path: (string | number)[] = [];
  /** Offset where each value starts, by formatted path ("" is the document). */
  readonly positions = new Map<string, number>();

  constructor(private readonly text: string) {}

  document(): unknown {
    this.skipSpace();
    if (this.pos >= this.text.length) throw new SyntaxFault(this.pos, 'the file is empty (expected a JSON object)');
    const value = this.value();
    this.skipSpace();
    if (this.pos < this.text.length) throw this.unexpected('end of file');
    return value;
  }

  private value(): unknown {
    this.positions.set(formatPath(this.path), this.pos);
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.nested(() => this.object());
      case '[':
        return this.nested(() => this.array());
      case '"':
        return this.string();
      case 't':
        return this.word('true', true);
      case 'f':
        return this.word('false', false);
      case 'n':
        return this.word('null', null);
      case undefined:
        throw this.unexpected('a value');
      default:
        if (c === '-' || (c >= '0' && c <= '9')) return this.number();
        throw this.unexpected('a value');
    }
  }

  private nested(read: () => unknown): unknown {
    if (++this.depth > MAX_DEPTH) throw new SyntaxFault(this.pos, `nesting deeper than ${MAX_DEPTH} levels`);
    const value = read();
    this.depth--;
    return value;
  }

  private object(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    const seen = new Map<string, number>();
    this.pos++; // {
    this.skipSpace();
    if (this.peek() === '}') {
      this.pos++;
      return result;
    }
    for (;;) {
      this.skipSpace();
      if (this.peek() === '}') throw new SyntaxFault(this.pos, "trailing comma before '}' (JSON allows none)");
      if (this.peek() !== '"') throw this.unexpected('a key in double quotes');
      const keyAt = this.pos;
      const key = this.string();
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        const at = lineColumn(this.text, earlier);
        throw new SyntaxFault(keyAt, `duplicate key "${key}" (first at line ${at.line}, column ${at.column}); each key may appear once`);
      }
      seen.set(key, keyAt);
      this.skipSpace();
      if (this.peek() !== ':') throw this.unexpected(`':' after the key "${key}"`);
      this.pos++;
      this.skipSpace();
      this.path.push(key);
      Object.defineProperty(result, key, { value: this.value(), enumerable: true, writable: true, configurable: true });
      this.path.pop();
      this.skipSpace();
      const next = this.peek();
      this.pos++;
      if (next === '}') return result;
      if (next !== ',') {
        this.pos--;
        throw this.unexpected(`',' or '}' after the value of "${key}"`);
      }
    }
  }

  private array(): unknown[] {
    const result: unknown[] = [];
    this.pos++; // [
    this.skipSpace();
    if (this.peek() === ']') {
      this.pos++;
      return result;
    }
    for (;;) {
      this.skipSpace();
      if (this.peek() === ']') throw new SyntaxFault(this.pos, "trailing comma before ']' (JSON allows none)");
      this.path.push(result.length);
      result.push(this.value());
      this.path.pop();
      this.skipSpace();
      const next = this.peek();
      this.pos++;
      if (next === ']') return result;
      if (next !== ',') {
        this.pos--;
        throw this.unexpected("',' or ']' after an array item");
      }
    }
  }

  private string(): string {
    const start = this.pos;
    this.pos++; // opening quote
    let out = '';
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined || c === '\n') throw new SyntaxFault(start, 'unterminated string (a closing " is missing on this line)');
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c < ' ') throw new SyntaxFault(this.pos, 'control character in a string (write it as an escape such as \\t)');
      if (c === '\\') out += this.escape();
      else {
        out += c;
        this.pos++;
      }
    }
  }

  private escape(): string {
    const c = this.text[this.pos + 1];
    if (c === 'u') {
      const hex = this.text.slice(this.pos + 2, this.pos + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new SyntaxFault(this.pos, 'invalid \\u escape (expected 4 hex digits)');
      this.pos += 6;
      return String.fromCharCode(parseInt(hex, 16));
    }
    const plain = c === undefined ? undefined : ESCAPES[c];
    if (plain === undefined) throw new SyntaxFault(this.pos, `invalid escape '\\${c ?? ''}' in a string`);
    this.pos += 2;
    return plain;
  }

  private number(): number {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (match === null) throw new SyntaxFault(this.pos, 'invalid number (JSON numbers look like 2, -0.5 or 1e3)');
    const value = Number(match[0]);
    if (!Number.isFinite(value)) throw new SyntaxFault(this.pos, `number ${match[0]} is out of range`);
    this.pos += match[0].length;
    const after = this.peek();
    if (after !== undefined && /[0-9A-Za-z.+]/.test(after)) throw new SyntaxFault(this.pos, `invalid number '${match[0]}${after}...' (JSON numbers look like 2, -0.5 or 1e3)`);
    return value;
  }

  private word<T>(word: string, value: T): T {
    if (this.text.startsWith(word, this.pos)) {
      this.pos += word.length;
      return value;
    }
    throw this.unexpected('a value');
  }

  private skipSpace(): void {
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') this.pos++;
      else if (c === '/' && (this.text[this.pos + 1] === '/' || this.text[this.pos + 1] === '*')) {
        throw new SyntaxFault(this.pos, 'comments are not allowed in JSON (use a "description" field)');
      } else return;
    }
  }

  private peek(): string | undefined {
    return this.text[this.pos];
  }

  private unexpected(expected: string): SyntaxFault {
    const c = this.text[this.pos];
    if (c === undefined) return new SyntaxFault(this.pos, `unexpected end of file (expected ${expected})`);
    if (c === "'") return new SyntaxFault(this.pos, `single quotes are not JSON: use double quotes (expected ${expected})`);
    const shown = /[\x20-\x7e]/.test(c) ? `'${c}'` : `character U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    return new SyntaxFault(this.pos, `unexpected ${shown} (expected ${expected})`);
  }
}
