import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JcsError, contentHash, findUnpairedSurrogate, jcs } from '../../../src/domain/hash/jcs.js';
import { sha256, sha256Hex, toHex } from '../../../src/domain/hash/sha256.js';
import { parseProtocolText } from '../../../src/domain/protocols/validate.js';
import { GENESIS_PREV, readJournal } from '../../../src/session/journal.js';

const FIXTURES = path.join(import.meta.dirname, '../../fixtures');

const nodeSha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

describe('sha256 (@noble/hashes)', () => {
  it('matches the FIPS 180-4 test vectors', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    // 448 bits: the padding spills into a second block
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    // 896 bits
    expect(
      sha256Hex('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu'),
    ).toBe('cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1');
  });

  it('hashes one million "a" (many blocks)', () => {
    expect(sha256Hex('a'.repeat(1_000_000))).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('agrees with node:crypto at every padding boundary', () => {
    for (let n = 0; n <= 130; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
      expect(toHex(sha256(bytes)), `length ${n}`).toBe(nodeSha256(bytes));
    }
  });

  it('hashes the UTF-8 encoding of text', () => {
    expect(sha256Hex('µs 2 Hz é ✓ 😀')).toBe(nodeSha256(Buffer.from('µs 2 Hz é ✓ 😀', 'utf8')));
  });

  it('hashes bytes and text alike (the journal hashes raw line bytes, protocols hash text)', () => {
    const text = '{"n":0,"type":"session-start","µs":250}';
    expect(sha256Hex(Buffer.from(text, 'utf8'))).toBe(sha256Hex(text));
    expect(sha256Hex(new Uint8Array(Buffer.from(text, 'utf8')).subarray(1))).toBe(nodeSha256(Buffer.from(text, 'utf8').subarray(1)));
  });

  it('encodes a lone surrogate as U+FFFD, as node:crypto did for the journal', () => {
    const lone = 'a\uD800b';
    expect(sha256Hex(lone)).toBe(nodeSha256(lone));
    expect(sha256Hex(lone)).toBe(sha256Hex('a\uFFFDb'));
  });

  it('agrees with node:crypto on random byte strings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(toHex(sha256(bytes))).toBe(nodeSha256(bytes));
      }),
      { numRuns: 300 },
    );
  });
});

// Hashes already stored in journals must never change: these were computed before the switch to
// @noble/hashes (by the hand-written SHA-256 and node:crypto) and must still come out the same.
describe('stored hashes (a format commitment)', () => {
  it.each([
    ['valid/base.json', 'efc4bc6fbb852306f5daf040e508c1b95581a66913096947d12075d0404988db'],
    ['valid/two-phases.json', '7327fc20bc480d5114e191257d4d0aed02b68ab653737b578d03a7059582f880'],
    ['valid/with-schema.json', '455dd2e8a18cf5865bcfa9a79f67aa4885dee346fc45aa3adb3ba758d29d63c2'],
  ])('the content hash of %s is unchanged', (file, hash) => {
    const result = parseProtocolText(readFileSync(path.join(FIXTURES, 'protocols', file), 'utf8'), file);
    expect(result.ok && result.hash).toBe(hash);
  });

  it('the journal fixture written by the old hashing still verifies, line by line', () => {
    const text = readFileSync(path.join(FIXTURES, 'journals/small-session.jsonl'), 'utf8');
    const read = readJournal({ text });
    expect(read.problems).toEqual([]);
    const lines = text.split('\n').filter((l) => l !== '');
    expect(read.records).toHaveLength(lines.length);
    expect(read.records.map((r) => r.prev)).toEqual([GENESIS_PREV, ...lines.slice(0, -1).map((l) => nodeSha256(l))]);
  });

  it('a protocol whose text holds an unpaired surrogate is refused with the field and its position, not hashed', () => {
    const text = readFileSync(path.join(FIXTURES, 'protocols/valid/base.json'), 'utf8');
    const broken = text.replace(/"name": "([^"]*)"/, '"name": "$1 \\ud83d"');
    expect(broken).not.toBe(text);
    const result = parseProtocolText(broken, 'base.json');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      expect.objectContaining({ path: 'name', message: expect.stringContaining('unpaired UTF-16 surrogate') as unknown, line: expect.any(Number) as unknown }),
    ]);
  });
});

describe('JCS (RFC 8785) canonical JSON', () => {
  it('sorts keys at every level and has no whitespace', () => {
    expect(jcs({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('writes numbers in their shortest form, so 2.0 and 2 are the same', () => {
    expect(jcs(JSON.parse('{"f": 2.0, "g": 1e2, "h": 0.30}'))).toBe('{"f":2,"g":100,"h":0.3}');
  });

  it('escapes strings as JSON does and leaves out undefined properties', () => {
    expect(jcs({ s: 'a"b\n', u: undefined })).toBe('{"s":"a\\"b\\n"}');
  });

  it('refuses values JSON cannot carry', () => {
    expect(() => jcs({ x: NaN })).toThrow(TypeError);
    expect(() => jcs({ x: Infinity })).toThrow(TypeError);
    expect(() => jcs([undefined])).toThrow(TypeError);
    expect(() => jcs({ f: () => 1 })).toThrow(TypeError);
  });

  it('is the same for any key order, and round-trips through JSON.parse', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = jcs(value);
        expect(jcs(JSON.parse(text))).toBe(text);
        expect(jcs(reverseKeys(value))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('gives a content hash that ignores formatting and follows every value', () => {
    const a = { id: 'x', amplitude: { maxMa: 10, rampMaPerS: 0.5 } };
    const b = JSON.parse('{ "amplitude": { "rampMaPerS": 0.5, "maxMa": 10.0 },\n "id": "x" }') as unknown;
    expect(contentHash(a)).toBe(contentHash(b));
    expect(contentHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(contentHash({ ...a, amplitude: { maxMa: 10.001, rampMaPerS: 0.5 } })).not.toBe(contentHash(a));
  });
});

// The RFC's own examples, verbatim (section numbers of RFC 8785).
describe('RFC 8785 test vectors', () => {
  it('3.2.2: the sample input canonicalizes to the sample output', () => {
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`;
    expect(jcs(JSON.parse(input))).toBe(String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`);
  });

  it('3.2.3: members are sorted by UTF-16 code units', () => {
    const input = String.raw`{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }`;
    const text = jcs(JSON.parse(input));
    // JSON.parse would put "1" first again (integer-like keys), so the order is read off the text.
    expect([...text.matchAll(/"([^"]*)":"/g)].map((m) => m[1])).toEqual(['\\r', '1', '\u0080', 'ö', '€', '😀', '\ufb33']);
    expect(text).toBe('{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}');
  });

  it('3.2.4: the UTF-8 bytes of the 3.2.2 output', () => {
    const output = jcs(JSON.parse(String.raw`{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}`));
    const hex = [
      '7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72',
      '75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a',
      '5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31',
      '65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37',
      '5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30',
      '30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d',
    ].join(' ');
    expect(Buffer.from(output, 'utf8').toString('hex').replace(/(..)(?!$)/g, '$1 ')).toBe(hex);
  });

  // Appendix B: IEEE-754 bit patterns and their JCS text.
  const APPENDIX_B: readonly (readonly [string, string])[] = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ];
  const double = (bits: string) => Buffer.from(bits, 'hex').readDoubleBE(0);

  it.each(APPENDIX_B)('Appendix B: %s is written %s', (bits, text) => {
    expect(jcs(double(bits))).toBe(text);
    expect(jcs([double(bits)])).toBe(`[${text}]`);
  });

  it('Appendix B: NaN and Infinity are errors', () => {
    expect(() => jcs(double('7fffffffffffffff'))).toThrow(JcsError);
    expect(() => jcs({ x: double('7ff0000000000000') })).toThrow(/Infinity is not a JSON number \(at x\)/);
  });

  it('3.2.2.2: a string or member name with an unpaired surrogate is an error naming where it is', () => {
    expect(() => jcs({ phases: [{ name: 'a\uD800' }] })).toThrow(/unpaired UTF-16 surrogate is not I-JSON \(at phases\[0\]\.name\)/);
    expect(() => jcs({ ['\uDC00x']: 1 })).toThrow(JcsError);
    expect(() => jcs('\uDE00\uD83D')).toThrow(JcsError); // low then high: two unpaired halves
    expect(jcs('\uD83D\uDE00')).toBe('"😀"'); // a pair is one character
    expect(findUnpairedSurrogate({ a: ['ok', { b: 'x\uD800' }] })).toEqual(['a', 1, 'b']);
    expect(findUnpairedSurrogate({ a: ['ok', '😀'] })).toBeUndefined();
  });
});

function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseKeys(v)]));
  }
  return value;
}
