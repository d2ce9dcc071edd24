/**
 * A strict JSON reader for files people write by hand, built on `jsonc-parser` (VS Code's JSON
 * parser: a scanner and a visitor that report every token's offset and every error's code). The
 * library does the lexing and parsing; this module keeps only the project's own rules:
 *   - strict JSON: no comments, no trailing commas, nothing empty (jsonc-parser allows them on
 *     request; here they are errors that say what is wrong);
 *   - refuses duplicate keys: JSON.parse silently keeps the last one, so a file that says
 *     "maxMa": 5 near the top and "maxMa": 25 further down would run at 25 mA while a reader sees 5;
 *   - the first error only, as line and column (1-based) with a readable reason naming what was
 *     expected (trailing comma, comment, missing comma, unterminated string...);
 *   - treats "__proto__" as an ordinary key (never as the object's prototype);
 *   - limits nesting depth, so a hostile file cannot exhaust the stack (the visitor recurses);
 *   - numbers must be finite doubles (1e999 is an error, not Infinity);
 *   - remembers where each value starts, so later errors can point at a line and column too.
 */
import { type JSONVisitor, printParseErrorCode, visit } from 'jsonc-parser';
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

/** The first error found; thrown out of the visitor to stop it (jsonc-parser would carry on). */
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
    const { value, positions } = read(text);
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

// ---- building the value from the visitor's events ---------------------------------------------------

/** What the reader expects next inside an object or array (for the "expected ..." of an error). */
type Expecting = 'key' | 'colon' | 'value' | 'comma-or-close';

interface Frame {
  readonly kind: 'object' | 'array';
  readonly value: Record<string, unknown> | unknown[];
  readonly path: readonly (string | number)[];
  /** Key offsets, for the duplicate-key message. */
  readonly seen: Map<string, number>;
  key: string | undefined;
  expecting: Expecting;
}

/** The last token the visitor reported: a trailing comma and a malformed number are told by it. */
type Last = { readonly kind: 'comma' | 'other'; readonly end: number } | { readonly kind: 'number'; readonly end: number; readonly start: number };

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const NUMBER_HINT = '(JSON numbers look like 2, -0.5 or 1e3)';

function read(text: string): { value: unknown; positions: Map<string, number> } {
  /** Offset where each value starts, by formatted path ("" is the document). */
  const positions = new Map<string, number>();
  const stack: Frame[] = [];
  let root: { value: unknown } | undefined;
  let last: Last = { kind: 'other', end: 0 };

  const top = (): Frame | undefined => stack[stack.length - 1];
  const childPath = (): (string | number)[] => {
    const frame = top();
    if (!frame) return [];
    return [...frame.path, frame.kind === 'array' ? (frame.value as unknown[]).length : (frame.key ?? '')];
  };
  /** A complete value: into its parent (or as the document). */
  const place = (value: unknown): void => {
    const frame = top();
    if (!frame) {
      root = { value };
      return;
    }
    if (frame.kind === 'array') (frame.value as unknown[]).push(value);
    else Object.defineProperty(frame.value, frame.key ?? '', { value, enumerable: true, writable: true, configurable: true });
    frame.expecting = 'comma-or-close';
  };
  const begin = (kind: Frame['kind'], offset: number): void => {
    if (stack.length >= MAX_DEPTH) throw new SyntaxFault(offset, `nesting deeper than ${MAX_DEPTH} levels`);
    const path = childPath();
    positions.set(formatPath(path), offset);
    stack.push({ kind, value: kind === 'object' ? {} : [], path, seen: new Map(), key: undefined, expecting: kind === 'object' ? 'key' : 'value' });
    last = { kind: 'other', end: offset + 1 };
  };
  const end = (offset: number): void => {
    // jsonc-parser reports the end of an object or array even when its closing bracket is missing
    // (and then the error): the reader stays inside it, so the error says what was expected there.
    const frame = top();
    if (!frame || text[offset] !== (frame.kind === 'object' ? '}' : ']')) return;
    stack.pop();
    place(frame.value);
    last = { kind: 'other', end: offset + 1 };
  };

  const visitor: JSONVisitor = {
    onObjectBegin: (offset) => begin('object', offset),
    onArrayBegin: (offset) => begin('array', offset),
    onObjectEnd: end,
    onArrayEnd: end,
    onObjectProperty: (key, offset, length) => {
      const frame = top();
      if (!frame) return;
      const earlier = frame.seen.get(key);
      if (earlier !== undefined) {
        const at = lineColumn(text, earlier);
        throw new SyntaxFault(offset, `duplicate key "${key}" (first at line ${at.line}, column ${at.column}); each key may appear once`);
      }
      frame.seen.set(key, offset);
      frame.key = key;
      frame.expecting = 'colon';
      last = { kind: 'other', end: offset + length };
    },
    onSeparator: (character, offset) => {
      const frame = top();
      if (frame) frame.expecting = character === ':' ? 'value' : frame.kind === 'object' ? 'key' : 'value';
      last = { kind: character === ',' ? 'comma' : 'other', end: offset + 1 };
    },
    onLiteralValue: (value: unknown, offset, length) => {
      if (typeof value === 'number' && !Number.isFinite(value)) throw new SyntaxFault(offset, `number ${text.slice(offset, offset + length)} is out of range`);
      positions.set(formatPath(childPath()), offset);
      place(value);
      last = typeof value === 'number' ? { kind: 'number', start: offset, end: offset + length } : { kind: 'other', end: offset + length };
    },
    onError: (code, offset, length) => {
      throw new SyntaxFault(...describe(text, printParseErrorCode(code), offset, length, top(), root !== undefined, last));
    },
  };
  visit(text, visitor, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (!root) throw new SyntaxFault(text.length, 'the file is empty (expected a JSON object)');
  return { value: root.value, positions };
}

// ---- the project's error messages -------------------------------------------------------------------

/**
 * Where the first error is and what it says, from jsonc-parser's code and the reader's state.
 * jsonc-parser finds a malformed string or number while scanning, even where no value may stand
 * (`"a" "b`, `1 2e`); the project's reader names the first thing out of place instead, so a lexical
 * fault is reported as such only where a key or a value may start.
 */
function describe(text: string, code: string, offset: number, length: number, frame: Frame | undefined, rootDone: boolean, last: Last): [number, string] {
  if (code === 'InvalidCommentToken' || code === 'UnexpectedEndOfComment') return [offset, 'comments are not allowed in JSON (use a "description" field)'];
  if (!rootDone && !frame && /^[ \t\r\n]*$/.test(text)) return [text.length, 'the file is empty (expected a JSON object)'];
  const c = text[offset];
  const expected = expectation(frame, rootDone, frame?.expecting);
  // Straight after a number: "01", "1.5.3", "2mA" are malformed numbers; "1-2" or '1"' are out of place.
  if (last.kind === 'number' && last.end === offset) {
    if (/[0-9A-Za-z.+]/.test(c ?? '')) return [offset, `invalid number '${text.slice(last.start, offset)}${c ?? ''}...' ${NUMBER_HINT}`];
    return [offset, unexpected(c, expected)];
  }
  const valueMayStart = frame ? frame.expecting === 'value' : !rootDone;
  switch (code) {
    case 'UnexpectedEndOfString':
    case 'InvalidUnicode':
    case 'InvalidEscapeCharacter':
    case 'InvalidCharacter':
      return valueMayStart || frame?.expecting === 'key' ? stringFault(text, offset, length) : [offset, unexpected(c, expected)];
    case 'UnexpectedEndOfNumber':
    case 'InvalidNumberFormat':
      return valueMayStart ? numberFault(text, offset) : [offset, unexpected(c, expected)];
  }
  // jsonc-parser scans `truex` or `null'` as one unknown word; the reader reads the literal and
  // stops at what follows it.
  const literal = valueMayStart ? /^(?:true|false|null)/.exec(text.slice(offset, offset + length)) : null;
  if (literal && length > literal[0].length) {
    const at = offset + literal[0].length;
    return [at, unexpected(text[at], expectation(frame, true, 'comma-or-close'))];
  }
  if (last.kind === 'comma' && frame && frame.expecting !== 'comma-or-close' && c === (frame.kind === 'object' ? '}' : ']')) {
    return [offset, `trailing comma before '${c}' (JSON allows none)`];
  }
  if (c === '-' && valueMayStart) return [offset, `invalid number ${NUMBER_HINT}`];
  return [offset, unexpected(c, expected)];
}

/** What was expected when the reader is `expecting` inside `frame` (or at the top level). */
function expectation(frame: Frame | undefined, rootDone: boolean, expecting: Expecting | undefined): string {
  if (!frame) return rootDone ? 'end of file' : 'a value';
  switch (expecting ?? frame.expecting) {
    case 'key':
      return 'a key in double quotes';
    case 'colon':
      return `':' after the key "${frame.key ?? ''}"`;
    case 'value':
      return 'a value';
    case 'comma-or-close':
      return frame.kind === 'object' ? `',' or '}' after the value of "${frame.key ?? ''}"` : "',' or ']' after an array item";
  }
}

function unexpected(c: string | undefined, expected: string): string {
  if (c === undefined) return `unexpected end of file (expected ${expected})`;
  if (c === "'") return `single quotes are not JSON: use double quotes (expected ${expected})`;
  const shown = /[\x20-\x7e]/.test(c) ? `'${c}'` : `character U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  return `unexpected ${shown} (expected ${expected})`;
}

/**
 * jsonc-parser reports a bad string at the string's start; the message points at the character
 * at fault. The string token starts at `offset` with its opening quote.
 */
function stringFault(text: string, offset: number, length: number): [number, string] {
  const stop = Math.max(offset + length, offset + 1);
  for (let i = offset + 1; i < text.length && i <= stop; i++) {
    const c = text[i]!;
    if (c === '"') break;
    if (c === '\n' || c === '\r') break;
    if (c < ' ') return [i, 'control character in a string (write it as an escape such as \\t)'];
    if (c !== '\\') continue;
    const e = text[i + 1];
    if (e === 'u') {
      if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return [i, 'invalid \\u escape (expected 4 hex digits)'];
      i += 5;
    } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 1;
    else return [i, `invalid escape '\\${e ?? ''}' in a string`];
  }
  return [offset, 'unterminated string (a closing " is missing on this line)'];
}

/** A number token that is not a JSON number ("1.", "1e"): the error is where the number goes wrong. */
function numberFault(text: string, offset: number): [number, string] {
  NUMBER.lastIndex = offset;
  const match = NUMBER.exec(text);
  if (match === null) return [offset, `invalid number ${NUMBER_HINT}`];
  const at = offset + match[0].length;
  return [at, `invalid number '${match[0]}${text[at] ?? ''}...' ${NUMBER_HINT}`];
}
