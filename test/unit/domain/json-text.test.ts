import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lineColumn, parseJsonText } from '../../../src/domain/protocols/json-text.js';

function error(text: string) {
  const r = parseJsonText(text);
  if (r.ok) throw new Error('expected a syntax error');
  return r.error;
}

describe('parseJsonText', () => {
  it('reads what JSON.parse reads, identically', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.constantFrom(0, 2, '\t'), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        const r = parseJsonText(text);
        expect(r.ok).toBe(true);
        if (r.ok) expect(r.value).toStrictEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it('accepts a byte order mark, escapes and every number form of JSON', () => {
    const r = parseJsonText('\uFEFF{"s": "a\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9", "n": [0, -0, 1.5, -2e3, 1E-2, 10]}');
    expect(r.ok && r.value).toStrictEqual({ s: 'a"\\/\b\f\n\r\té', n: [0, -0, 1.5, -2000, 0.01, 10] });
  });

  it('keeps "__proto__" as an ordinary key', () => {
    const r = parseJsonText('{"__proto__": {"polluted": true}, "a": 1}');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const value = r.value as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['{\n  "a": 1,\n}', 3, 1, /trailing comma before '}'/],
    ['[1, 2,]', 1, 7, /trailing comma before '\]'/],
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3, /expected ',' or '}' after the value of "a"/],
    ['{"a": 1, "a": 2}', 1, 10, /duplicate key "a" \(first at line 1, column 2\)/],
    ['{\n  // note\n  "a": 1}', 2, 3, /comments are not allowed/],
    ["{'a': 1}", 1, 2, /single quotes are not JSON/],
    ['{a: 1}', 1, 2, /expected a key in double quotes/],
    ['{"a": "line\nbreak"}', 1, 7, /unterminated string/],
    ['{"a": "\\x"}', 1, 8, /invalid escape '\\x'/],
    ['{"a": "\\u12G4"}', 1, 8, /invalid \\u escape/],
    ['{"a": 01}', 1, 8, /invalid number/],
    ['{"a": 1.}', 1, 8, /invalid number/],
    ['{"a": 1e999}', 1, 7, /out of range/],
    ['{"a": tru}', 1, 7, /expected a value/],
    ['{"a": 1} x', 1, 10, /expected end of file/],
    ['', 1, 1, /the file is empty/],
    ['{"a": [1, 2', 1, 12, /unexpected end of file/],
    ['{"a": "tab\there"}', 1, 11, /control character/],
    // Where jsonc-parser's own report would differ: the first thing out of place is named.
    ['{"a": truex}', 1, 11, /unexpected 'x' \(expected ',' or '}' after the value of "a"\)/],
    ["null'", 1, 5, /single quotes are not JSON: use double quotes \(expected end of file\)/],
    ['[', 1, 2, /unexpected end of file \(expected a value\)/],
    ['{ "a": [1', 1, 10, /unexpected end of file \(expected ',' or '\]' after an array item\)/],
    ['[true,\n}', 2, 1, /unexpected '}' \(expected a value\)/],
    ['"a" "b', 1, 5, /unexpected '"' \(expected end of file\)/],
    ['{"a": 1 2e}', 1, 9, /unexpected '2' \(expected ',' or '}' after the value of "a"\)/],
    ['[1-2]', 1, 3, /unexpected '-' \(expected ',' or '\]' after an array item\)/],
    ['{"a": -x}', 1, 7, /invalid number \(JSON numbers/],
    ['{"a":\u00a01}', 1, 6, /unexpected character U\+00A0 \(expected a value\)/],
    ['{"a": 1} /* c */', 1, 10, /comments are not allowed/],
    ['  ', 1, 3, /the file is empty/],
  ])('reports %j at line %i, column %i', (text, line, column, message) => {
    const e = error(text);
    expect([e.line, e.column]).toEqual([line, column]);
    expect(e.message).toMatch(message);
  });

  it('refuses nesting deeper than 64 levels instead of overflowing the stack', () => {
    expect(error('['.repeat(100_000)).message).toMatch(/nesting deeper than 64/);
    expect(parseJsonText(`${'['.repeat(64)}${']'.repeat(64)}`).ok).toBe(true);
  });

  it('locates values by path, falling back to the nearest ancestor', () => {
    const text = '{\n  "phases": [\n    {\n      "amplitude": { "maxMa": 25 }\n    }\n  ]\n}';
    const r = parseJsonText(text);
    if (!r.ok) throw new Error('parse failed');
    expect(r.locate(['phases', 0, 'amplitude', 'maxMa'])).toEqual({ line: 4, column: 31 });
    expect(r.locate(['phases', 0])).toEqual({ line: 3, column: 5 });
    expect(r.locate(['phases', 0, 'amplitude', 'rampMaPerS'])).toEqual({ line: 4, column: 20 });
    expect(r.locate([])).toEqual({ line: 1, column: 1 });
  });

  it('lineColumn counts from 1', () => {
    expect(lineColumn('ab\ncd', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});
