// Properties of the wire codec (PROTOCOL.md): round trips over every message, robustness against any
// input, CRC error detection, the SET read-back CRC, sequence numbers, and encoder refusals.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  CHANNEL_STATES,
  ERROR_CODES,
  ERR_ARGS,
  EVENTS,
  EncodeError,
  FAULT_CODES,
  KEY_ORDER,
  MAX_LINE_BYTES,
  REPLIES,
  REQUESTS,
  crcHex,
  decode,
  decodeDeviceLine,
  decodeRequest,
  encode,
  frame,
  nextSeq,
  setReadbackCrc,
  type Message,
  type SetArgs,
} from '../../../firmware-protocol/index.js';

const RUNS = { numRuns: 2000 };
const DECODE_CODES = ['BAD_CRC', 'BAD_FRAME', 'TOO_LONG', 'UNKNOWN_VERB', 'BAD_ARG'];

// ---- arbitraries over every message ----------------------------------------------------------------

const seq = fc.integer({ min: 0, max: 65535 });
const ch = fc.integer({ min: 1, max: 8 });
const mHz = fc.integer({ min: 1, max: 1_000_000 });
const pw = fc.integer({ min: 1, max: 10_000 });
const uA = fc.integer({ min: 0, max: 100_000 });
const u32 = fc.integer({ min: 0, max: 4_294_967_295 });
const version = fc.integer({ min: 1, max: 255 });
const bootId = fc.stringMatching(/^[0-9A-F]{8}$/);
const ohms = fc.oneof(fc.constant('OPEN' as const), fc.integer({ min: 0, max: 9_999_999 }));
/** Identity tokens of at most 24 characters: with every other HELLO field at its widest the reply still fits. */
const idToken = fc.stringMatching(/^[A-Za-z0-9._-]{1,24}$/);
const printable = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
const percentEncode = (s: string) => s.replace(/[^A-Za-z0-9._~-]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
/** An ERR msg: 1-48 printable characters whose percent-encoding fits in one 64-character value. */
const errMsg = fc.string({ unit: printable, minLength: 1, maxLength: 48 }).filter((s) => percentEncode(s).length <= 64);

const setCommon = { pw, wf: fc.constantFrom('SYM' as const, 'ASYM' as const), amp: uA, dur: fc.integer({ min: 1, max: 86_400 }), ramp: fc.integer({ min: 1, max: 100_000 }) };
const setArgs: fc.Arbitrary<SetArgs> = fc.oneof(
  fc.record({ ch, mode: fc.constant('CONT' as const), f: mHz, ...setCommon }),
  fc.record({ ch, mode: fc.constant('DD' as const), f: mHz, f2: mHz, dwell: fc.integer({ min: 100, max: 60_000 }), ...setCommon }),
  fc.record({ ch, mode: fc.constant('BURST' as const), f: mHz, f2: mHz, n: fc.integer({ min: 1, max: 100 }), ...setCommon }),
);
const optionalCh = fc.option(ch, { nil: undefined }).map((c) => (c === undefined ? {} : { ch: c }));
const none = fc.constant({});

const request = (verb: string, args: fc.Arbitrary<object>) => fc.record({ type: fc.constant('request'), seq, verb: fc.constant(verb), args });
const reply = (verb: string, args: fc.Arbitrary<object>) => fc.record({ type: fc.constant('ok'), seq, verb: fc.constant(verb), args });
const event = (name: string, args: fc.Arbitrary<object>) => fc.record({ type: fc.constant('event'), event: fc.constant(name), args });

const requests = fc.oneof(
  request('HELLO', fc.tuple(version, version).map(([a, b]) => ({ vmin: Math.min(a, b), vmax: Math.max(a, b) }))),
  request('SET', setArgs),
  request('START', fc.record({ ch })),
  request('AMP', fc.record({ ch, amp: uA })),
  request('STOP', optionalCh),
  request('ESTOP', none),
  request('CLEAR', none),
  request('HB', none),
  request('STATUS', none),
  request('IMP', fc.record({ ch })),
);
const helloReply = fc.record({
  proto: version,
  model: idToken,
  fw: idToken,
  sn: idToken,
  boot: bootId,
  ch,
  fmin: mHz,
  fmax: mHz,
  pwmin: pw,
  pwmax: pw,
  amin: uA,
  amax: uA,
  qmax: fc.integer({ min: 1, max: 10_000_000 }),
  tmax: fc.integer({ min: 1, max: 86_400 }),
  vc: fc.integer({ min: 1, max: 1000 }),
  wdog: fc.integer({ min: 1, max: 10_000 }),
});
const statusReply = fc
  .record({ latched: fc.boolean(), boot: bootId, up: u32, states: fc.array(fc.constantFrom(...CHANNEL_STATES), { maxLength: 8 }) })
  .map(({ states, ...rest }) => ({ ...rest, ...Object.fromEntries(states.map((s, i) => [`s${i + 1}`, s])) }));
const replies = fc.oneof(
  reply('HELLO', helloReply),
  reply('SET', fc.record({ ch, crc: fc.stringMatching(/^[0-9A-F]{4}$/) })),
  reply('START', fc.record({ ch })),
  reply('AMP', fc.record({ ch, amp: uA })),
  reply('STOP', optionalCh),
  reply('ESTOP', fc.record({ latched: fc.boolean() })),
  reply('CLEAR', fc.record({ latched: fc.boolean() })),
  reply('HB', none),
  reply('STATUS', statusReply),
  reply('IMP', fc.record({ ch, z: ohms })),
);
const errs = fc.record({
  type: fc.constant('err'),
  seq: fc.option(seq, { nil: null }),
  args: fc.record({ code: fc.constantFrom(...ERROR_CODES), msg: errMsg }, { requiredKeys: ['code'] }),
});
const events = fc.oneof(
  event('TEL', fc.record({ ch, amp: uA, i: uA, z: ohms, q: u32 })),
  event('DONE', fc.record({ ch })),
  event('FAULT', fc.record({ ch: fc.integer({ min: 0, max: 8 }), code: fc.constantFrom(...FAULT_CODES) })),
  event('WDOG', none),
  event('BOOT', fc.record({ boot: bootId, proto: version })),
);
/** fast-check builds records without a prototype; the decoder returns plain objects. */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const anyMessage = (fc.oneof(requests, replies, errs, events) as fc.Arbitrary<Message>).map(plain);
const anyLine = anyMessage.map((m) => encode(m));

/** What a decoder may return for anything at all. */
function expectWellTyped(result: ReturnType<typeof decode>): void {
  if (result.ok) {
    // Whatever decodes can be written back, and reads back the same.
    expect(decode(encode(result.message))).toStrictEqual(result);
  } else {
    expect(DECODE_CODES).toContain(result.error.code);
    expect(typeof result.error.message).toBe('string');
    // Only UNKNOWN_VERB and BAD_ARG carry a seq a device may echo.
    if (['BAD_CRC', 'BAD_FRAME', 'TOO_LONG'].includes(result.error.code)) expect(result.error.seq).toBeUndefined();
  }
}

function flipBit(line: string, index: number, bit: number): string {
  return line.slice(0, index) + String.fromCharCode(line.charCodeAt(index) ^ (1 << bit)) + line.slice(index + 1);
}

// ---- round trip ----------------------------------------------------------------------------------------

describe('encode/decode round trip', () => {
  it('decode(encode(m)) is m for every message of every verb and event', () => {
    fc.assert(
      fc.property(anyMessage, (m) => {
        const line = encode(m);
        expect(line.length).toBeLessThanOrEqual(MAX_LINE_BYTES);
        expect(line).toMatch(/^[\x20-\x7E]+ \*[0-9A-F]{4}$/);
        expect(decode(line)).toStrictEqual({ ok: true, message: m });
        expect(decode(`${line}\r`)).toStrictEqual({ ok: true, message: m });
        const directional = m.type === 'request' ? decodeRequest(line) : decodeDeviceLine(line);
        expect(directional).toStrictEqual({ ok: true, message: m });
      }),
      RUNS,
    );
  });

  it('a receiver of the wrong direction refuses the line as BAD_FRAME without a seq', () => {
    fc.assert(
      fc.property(anyMessage, (m) => {
        const line = encode(m);
        const wrong = m.type === 'request' ? decodeDeviceLine(line) : decodeRequest(line);
        expect(wrong.ok).toBe(false);
        if (!wrong.ok) expect(wrong.error).toStrictEqual({ code: 'BAD_FRAME', message: expect.any(String) as string });
      }),
      RUNS,
    );
  });

  it('the argument order on the wire does not matter to the decoder', () => {
    fc.assert(
      fc.property(anyLine, fc.array(fc.nat()), (line, order) => {
        const body = line.slice(0, line.lastIndexOf(' *'));
        const tokens = body.split(' ');
        const head = tokens[1] === 'OK' ? 3 : 2;
        const args = tokens.slice(head);
        const shuffled = args.map((a, i) => ({ a, k: order[i] ?? i })).sort((x, y) => x.k - y.k).map((x) => x.a);
        const reordered = frame([...tokens.slice(0, head), ...shuffled].join(' '));
        expect(decode(reordered)).toStrictEqual(decode(line));
      }),
      RUNS,
    );
  });
});

// ---- robustness --------------------------------------------------------------------------------------------

describe('decode never throws', () => {
  it('on arbitrary strings: ASCII, full Unicode, binary', () => {
    const inputs = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary', maxLength: 400 }),
      fc.string({ unit: 'binary-ascii', maxLength: 400 }),
      fc.uint8Array({ maxLength: 400 }).map((a) => String.fromCharCode(...a)),
      fc.string({ unit: fc.constantFrom(' ', '*', '=', '!', '\r', '0', '1', 'A', 'a', 'OK', 'ERR', 'HB', 'SET', 'ch', 'mode') }),
    );
    fc.assert(
      fc.property(inputs, (s) => {
        expectWellTyped(decode(s));
        expectWellTyped(decodeRequest(s));
        expectWellTyped(decodeDeviceLine(s));
      }),
      RUNS,
    );
  });

  it('on huge inputs, answering TOO_LONG', () => {
    for (const huge of ['A'.repeat(10_000_000), '\u00ff'.repeat(100_000), `${'1 HB '.repeat(100_000)}*0000`, '\n'.repeat(1000)]) {
      const r = decode(huge);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('TOO_LONG');
    }
  });

  it('on mutated valid lines: bit flips, truncations, insertions, deletions, splices', () => {
    const mutation = fc.oneof(
      fc.tuple(anyLine, fc.nat(), fc.integer({ min: 0, max: 15 })).map(([l, i, b]) => flipBit(l, i % l.length, b)),
      fc.tuple(anyLine, fc.nat()).map(([l, i]) => l.slice(0, i % l.length)),
      fc.tuple(anyLine, fc.nat()).map(([l, i]) => l.slice(i % l.length)),
      fc.tuple(anyLine, fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 4 })).map(([l, i, s]) => l.slice(0, i % l.length) + s + l.slice(i % l.length)),
      fc.tuple(anyLine, fc.nat(), fc.integer({ min: 1, max: 8 })).map(([l, i, n]) => l.slice(0, i % l.length) + l.slice((i % l.length) + n)),
      fc.tuple(anyLine, anyLine, fc.nat(), fc.nat()).map(([a, b, i, j]) => a.slice(0, i % a.length) + b.slice(j % b.length)),
      fc.tuple(anyLine, anyLine).map(([a, b]) => a + b),
      fc.tuple(anyLine, fc.nat()).map(([l, n]) => l + ' '.repeat(n % 300)),
    );
    fc.assert(
      fc.property(mutation, (s) => {
        expectWellTyped(decode(s));
        expectWellTyped(decodeRequest(s));
        expectWellTyped(decodeDeviceLine(s));
      }),
      RUNS,
    );
  });
});

// ---- error detection -------------------------------------------------------------------------------------------

describe('corruption is detected', () => {
  it('every single-bit flip of every character of a valid line is rejected', () => {
    fc.assert(
      fc.property(anyLine, (line) => {
        const accepted: string[] = [];
        for (let i = 0; i < line.length; i++) {
          for (let bit = 0; bit < 8; bit++) {
            const r = decode(flipBit(line, i, bit));
            if (r.ok || (r.error.code !== 'BAD_CRC' && r.error.code !== 'BAD_FRAME')) accepted.push(`bit ${bit} of column ${i + 1}`);
          }
        }
        expect(accepted, line).toEqual([]);
      }),
      RUNS,
    );
  });

  it('any single-character substitution (any byte) of a valid line is rejected', () => {
    fc.assert(
      fc.property(anyLine, fc.nat(), fc.integer({ min: 0, max: 0xff }), (line, at, code) => {
        const i = at % line.length;
        fc.pre(line.charCodeAt(i) !== code);
        const r = decode(line.slice(0, i) + String.fromCharCode(code) + line.slice(i + 1));
        expect(r.ok).toBe(false);
      }),
      RUNS,
    );
  });
});

// ---- read-back CRC, seq ---------------------------------------------------------------------------------------------

describe('setReadbackCrc', () => {
  it('is the CRC of the canonical SET argument text (worked example: 30DC)', () => {
    const args: SetArgs = { ch: 1, mode: 'CONT', f: 2000, pw: 250, wf: 'SYM', amp: 4000, dur: 1200, ramp: 1000 };
    expect(setReadbackCrc(args)).toBe('30DC');
    expect(setReadbackCrc(args)).toBe(crcHex('ch=1 mode=CONT f=2000 pw=250 wf=SYM amp=4000 dur=1200 ramp=1000'));
  });

  it('does not depend on the key order of the input object, and equals the CRC of the encoded SET arguments', () => {
    fc.assert(
      fc.property(setArgs, fc.array(fc.nat(), { minLength: 11, maxLength: 11 }), (args, order) => {
        const entries = Object.entries(args);
        const shuffled = Object.fromEntries(entries.map((e, i) => ({ e, k: order[i]! })).sort((x, y) => x.k - y.k).map((x) => x.e)) as SetArgs;
        const line = encode({ type: 'request', seq: 1, verb: 'SET', args });
        const text = line.slice('1 SET '.length, line.lastIndexOf(' *'));
        expect(setReadbackCrc(shuffled)).toBe(setReadbackCrc(args));
        expect(setReadbackCrc(args)).toBe(crcHex(text));
      }),
      RUNS,
    );
  });

  it('changes when any stored value changes', () => {
    const base: SetArgs = { ch: 2, mode: 'DD', f: 2000, f2: 100000, dwell: 3000, pw: 200, wf: 'ASYM', amp: 6000, dur: 1800, ramp: 500 };
    const crc = setReadbackCrc(base);
    for (const [k, v] of Object.entries(base)) {
      if (typeof v !== 'number') continue;
      expect(setReadbackCrc({ ...base, [k]: v + 1 }), k).not.toBe(crc);
    }
    expect(setReadbackCrc({ ...base, wf: 'SYM' })).not.toBe(crc);
  });
});

describe('nextSeq', () => {
  it('counts up and wraps 65535 -> 0', () => {
    expect(nextSeq(0)).toBe(1);
    expect(nextSeq(65534)).toBe(65535);
    expect(nextSeq(65535)).toBe(0);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65534 }), (s) => {
        expect(nextSeq(s)).toBe(s + 1);
      }),
      RUNS,
    );
  });

  it('returns to the start after 65536 steps, visiting every seq once', () => {
    const seen = new Set<number>();
    let s = 40000;
    for (let i = 0; i < 65536; i++) {
      seen.add(s);
      s = nextSeq(s);
    }
    expect(s).toBe(40000);
    expect(seen.size).toBe(65536);
  });
});

// ---- encoder refusals -------------------------------------------------------------------------------------------------

const widestHello = (model: string, fw: string, sn: string): Message => ({
  type: 'ok',
  seq: 65535,
  verb: 'HELLO',
  args: { proto: 255, model, fw, sn, boot: 'FFFFFFFF', ch: 8, fmin: 1_000_000, fmax: 1_000_000, pwmin: 10_000, pwmax: 10_000, amin: 100_000, amax: 100_000, qmax: 10_000_000, tmax: 86_400, vc: 1000, wdog: 10_000 },
});

describe('encode refuses what it must not put on the wire', () => {
  const bad: [string, unknown][] = [
    ['seq -1', { type: 'request', seq: -1, verb: 'HB', args: {} }],
    ['seq 65536', { type: 'request', seq: 65536, verb: 'HB', args: {} }],
    ['seq 1.5', { type: 'request', seq: 1.5, verb: 'HB', args: {} }],
    ['seq NaN', { type: 'ok', seq: Number.NaN, verb: 'HB', args: {} }],
    ['ERR seq 65536', { type: 'err', seq: 65536, args: { code: 'RANGE' } }],
    ['amp above the format maximum', { type: 'request', seq: 1, verb: 'AMP', args: { ch: 1, amp: 100_001 } }],
    ['negative amp', { type: 'request', seq: 1, verb: 'AMP', args: { ch: 1, amp: -1 } }],
    ['fractional amp', { type: 'request', seq: 1, verb: 'AMP', args: { ch: 1, amp: 4.5 } }],
    ['ch 0', { type: 'request', seq: 1, verb: 'START', args: { ch: 0 } }],
    ['ch 9', { type: 'request', seq: 1, verb: 'START', args: { ch: 9 } }],
    ['f 0', { type: 'request', seq: 1, verb: 'SET', args: { ch: 1, mode: 'CONT', f: 0, pw: 250, wf: 'SYM', amp: 0, dur: 1, ramp: 1 } }],
    ['CONT with f2', { type: 'request', seq: 1, verb: 'SET', args: { ch: 1, mode: 'CONT', f: 1, f2: 2, pw: 250, wf: 'SYM', amp: 0, dur: 1, ramp: 1 } }],
    ['DD without dwell', { type: 'request', seq: 1, verb: 'SET', args: { ch: 1, mode: 'DD', f: 1, f2: 2, pw: 250, wf: 'SYM', amp: 0, dur: 1, ramp: 1 } }],
    ['HELLO vmin > vmax', { type: 'request', seq: 1, verb: 'HELLO', args: { vmin: 2, vmax: 1 } }],
    ['unknown verb', { type: 'request', seq: 1, verb: 'PING', args: {} }],
    ['OK for an unknown verb', { type: 'ok', seq: 1, verb: 'PING', args: {} }],
    ['unknown event', { type: 'event', event: 'PING', args: {} }],
    ['TEL z=open', { type: 'event', event: 'TEL', args: { ch: 1, amp: 0, i: 0, z: 'open', q: 0 } }],
    ['ERR msg of 49 characters', { type: 'err', seq: 1, args: { code: 'RANGE', msg: 'a'.repeat(49) } }],
    ['ERR msg whose percent-encoding exceeds 64 characters', { type: 'err', seq: 1, args: { code: 'RANGE', msg: 'a b c d e f g h i j k l m n o p q r s t u v w' } }],
    ['ERR msg with a newline', { type: 'err', seq: 1, args: { code: 'RANGE', msg: 'a\nb' } }],
    ['ERR unknown code', { type: 'err', seq: 1, args: { code: 'OOPS' } }],
    ['HELLO reply of 278 bytes (32-character identity tokens)', widestHello('M'.repeat(32), 'F'.repeat(32), 'S'.repeat(32))],
    ['HELLO reply of 257 bytes', widestHello('M'.repeat(25), 'F'.repeat(25), 'S'.repeat(25))],
  ];

  it.each(bad)('%s', (_what, message) => {
    expect(() => encode(message as Message)).toThrow(EncodeError);
  });

  it('names the limit for an over-long line', () => {
    expect(() => encode(widestHello('M'.repeat(25), 'F'.repeat(25), 'S'.repeat(25)))).toThrow(/257 bytes; the maximum is 256/);
  });

  it('fits a HELLO reply with every numeric field at its widest when model+fw+sn total 74 characters', () => {
    const line = encode(widestHello('M'.repeat(24), 'F'.repeat(25), 'S'.repeat(25)));
    expect(line.length).toBe(MAX_LINE_BYTES);
    expect(decode(line).ok).toBe(true);
  });
});

// ---- canonical order --------------------------------------------------------------------------------------------------------

function keysOf(schema: z.ZodType): string[] {
  if (schema instanceof z.ZodObject) return Object.keys(schema.shape);
  if (schema instanceof z.ZodUnion) return (schema.options as z.ZodType[]).flatMap(keysOf);
  throw new Error(`no keys for schema ${schema.constructor.name}`);
}

describe('KEY_ORDER', () => {
  const schemas: [string, z.ZodType][] = [
    ...Object.entries(REQUESTS).map(([v, s]): [string, z.ZodType] => [`request ${v}`, s]),
    ...Object.entries(REPLIES).map(([v, s]): [string, z.ZodType] => [`OK ${v}`, s]),
    ...Object.entries(EVENTS).map(([e, s]): [string, z.ZodType] => [`event ${e}`, s]),
    ['ERR', ERR_ARGS],
  ];

  it('covers every key of every schema', () => {
    for (const [what, schema] of schemas) {
      for (const key of keysOf(schema)) expect(KEY_ORDER, `${what}: ${key}`).toContain(key);
    }
  });

  it('lists each key once and no key that no schema uses', () => {
    expect(new Set(KEY_ORDER).size).toBe(KEY_ORDER.length);
    const used = new Set(schemas.flatMap(([, s]) => keysOf(s)));
    expect(KEY_ORDER.filter((k) => !used.has(k))).toEqual([]);
  });

  it('is the order encode writes', () => {
    fc.assert(
      fc.property(anyLine, (line) => {
        const keys = line
          .slice(0, line.lastIndexOf(' *'))
          .split(' ')
          .filter((t) => t.includes('='))
          .map((t) => t.slice(0, t.indexOf('=')));
        const positions = keys.map((k) => KEY_ORDER.indexOf(k));
        expect(positions).toEqual([...positions].sort((a, b) => a - b));
      }),
      RUNS,
    );
  });
});

// ---- the specification's own examples --------------------------------------------------------------------------------------

describe('PROTOCOL.md', () => {
  const doc = readFileSync(new URL('../../../firmware-protocol/PROTOCOL.md', import.meta.url), 'utf8');
  const quoted = [...doc.matchAll(/`([^`\n]* \*[0-9A-F]{4})`/g)].map((m) => m[1]!);

  it('quotes frames that decode, except the one the worked example corrupts on purpose', () => {
    expect(quoted.length).toBeGreaterThan(50);
    const rejected = quoted.filter((line) => !decode(line).ok);
    expect([...new Set(rejected)]).toEqual(['156 HB *5C64']);
    expect(decode('156 HB *5C64')).toMatchObject({ ok: false, error: { code: 'BAD_CRC' } });
    expect(quoted).toContain(frame('157 HB'));
  });

  it('quotes every frame in canonical form', () => {
    for (const line of quoted) {
      const r = decode(line);
      if (r.ok) expect(encode(r.message)).toBe(line);
    }
  });
});
