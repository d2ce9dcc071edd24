/**
 * The fuzz corpus: valid frames of every verb, reply and event, and mutants of them (bit flips,
 * truncations, splices, re-framed argument edits, huge lines up to 10 MB, binary bytes, CRLF,
 * empty lines), generated deterministically from a seed so that a failing input can be
 * regenerated exactly. Inputs are latin1 strings: one character per byte.
 *
 * Also a reference line splitter written from PROTOCOL.md §2.2 alone (not from either receiver),
 * so the campaign can say, per input stream, exactly which lines a receiver must see, which are
 * over-long, and which are empty.
 */
import {
  CHANNEL_STATES,
  ERROR_CODES,
  EVENT_NAMES,
  FAULT_CODES,
  MAX_LINE_BYTES,
  REQUEST_VERBS,
  encode,
  frame,
  type Message,
} from '../../firmware-protocol/index.js';

// ---- a small seeded PRNG (mulberry32) ------------------------------------------------------------

export class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  u32(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  float(): number {
    return this.u32() / 4294967296;
  }
  /** 0..n-1 */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  /** lo..hi inclusive */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** An integer in lo..hi: the bounds often, otherwise spread over the orders of magnitude. */
  uint(lo: number, hi: number): number {
    const r = this.float();
    if (r < 0.15) return lo;
    if (r < 0.3) return hi;
    if (hi - lo < 1000 || r < 0.5) return this.range(lo, hi);
    const span = Math.log(hi - lo + 1);
    return Math.min(hi, lo + Math.floor(Math.exp(this.float() * span)) - 1);
  }
}

// ---- valid messages ------------------------------------------------------------------------------

const TOKEN_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-';
const HEX = '0123456789ABCDEF';

function str(rng: Rng, alphabet: string, min: number, max: number): string {
  const n = rng.range(min, max);
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
}

function printable(rng: Rng, min: number, max: number): string {
  const n = rng.range(min, max);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(rng.range(0x20, 0x7e));
  return s;
}

const hex = (rng: Rng, n: number) => str(rng, HEX, n, n);
const seq = (rng: Rng) => rng.uint(0, 65535);
const ch = (rng: Rng) => rng.uint(1, 8);
const wf = (rng: Rng) => rng.pick(['SYM', 'ASYM'] as const);

function setArgs(rng: Rng): Record<string, unknown> {
  const common = { ch: ch(rng), pw: rng.uint(1, 10_000), wf: wf(rng), amp: rng.uint(0, 100_000), dur: rng.uint(1, 86_400), ramp: rng.uint(1, 100_000) };
  switch (rng.int(3)) {
    case 0:
      return { ...common, mode: 'CONT', f: rng.uint(1, 1_000_000) };
    case 1:
      return { ...common, mode: 'DD', f: rng.uint(1, 1_000_000), f2: rng.uint(1, 1_000_000), dwell: rng.uint(100, 60_000) };
    default:
      return { ...common, mode: 'BURST', f: rng.uint(1, 1_000_000), f2: rng.uint(1, 1_000_000), n: rng.uint(1, 100) };
  }
}

/** A valid request (host to device), every verb. */
export function requestMessage(rng: Rng): Message {
  const verb = rng.pick(REQUEST_VERBS);
  let args: Record<string, unknown>;
  switch (verb) {
    case 'HELLO': {
      const a = rng.uint(1, 255);
      const b = rng.uint(1, 255);
      args = { vmin: Math.min(a, b), vmax: Math.max(a, b) };
      break;
    }
    case 'SET':
      args = setArgs(rng);
      break;
    case 'START':
    case 'IMP':
      args = { ch: ch(rng) };
      break;
    case 'AMP':
      args = { ch: ch(rng), amp: rng.uint(0, 100_000) };
      break;
    case 'STOP':
      args = rng.chance(0.5) ? {} : { ch: ch(rng) };
      break;
    case 'ESTOP':
    case 'CLEAR':
    case 'HB':
    case 'STATUS':
      args = {};
      break;
  }
  return { type: 'request', seq: seq(rng), verb, args } as Message;
}

/** A valid OK or ERR reply, or an unsolicited `! ERR`. */
export function replyMessage(rng: Rng): Message {
  if (rng.chance(0.2)) {
    const msg = rng.chance(0.5) ? {} : { msg: rng.chance(0.5) ? str(rng, TOKEN_CHARS, 1, 40) : printable(rng, 1, 20) };
    return { type: 'err', seq: rng.chance(0.4) ? null : seq(rng), args: { code: rng.pick(ERROR_CODES), ...msg } };
  }
  const verb = rng.pick(REQUEST_VERBS);
  let args: Record<string, unknown>;
  switch (verb) {
    case 'HELLO':
      args = {
        proto: rng.uint(1, 255),
        model: str(rng, TOKEN_CHARS, 1, 24),
        fw: str(rng, TOKEN_CHARS, 1, 24),
        sn: str(rng, TOKEN_CHARS, 1, 24),
        boot: hex(rng, 8),
        ch: ch(rng),
        fmin: rng.uint(1, 1_000_000),
        fmax: rng.uint(1, 1_000_000),
        pwmin: rng.uint(1, 10_000),
        pwmax: rng.uint(1, 10_000),
        amin: rng.uint(0, 100_000),
        amax: rng.uint(0, 100_000),
        qmax: rng.uint(1, 10_000_000),
        tmax: rng.uint(1, 86_400),
        vc: rng.uint(1, 1000),
        wdog: rng.uint(1, 10_000),
      };
      break;
    case 'SET':
      args = { ch: ch(rng), crc: hex(rng, 4) };
      break;
    case 'START':
      args = { ch: ch(rng) };
      break;
    case 'AMP':
      args = { ch: ch(rng), amp: rng.uint(0, 100_000) };
      break;
    case 'STOP':
      args = rng.chance(0.5) ? {} : { ch: ch(rng) };
      break;
    case 'ESTOP':
    case 'CLEAR':
      args = { latched: rng.chance(0.5) };
      break;
    case 'HB':
      args = {};
      break;
    case 'STATUS': {
      args = { latched: rng.chance(0.5), boot: hex(rng, 8), up: rng.uint(0, 4_294_967_295) };
      const n = rng.int(9);
      for (let i = 1; i <= n; i++) args[`s${i}`] = rng.pick(CHANNEL_STATES);
      break;
    }
    case 'IMP':
      args = { ch: ch(rng), z: rng.chance(0.2) ? 'OPEN' : rng.uint(0, 9_999_999) };
      break;
  }
  return { type: 'ok', seq: seq(rng), verb, args } as Message;
}

/** A valid unsolicited event, every name. */
export function eventMessage(rng: Rng): Message {
  const event = rng.pick(EVENT_NAMES);
  let args: Record<string, unknown>;
  switch (event) {
    case 'TEL':
      args = { ch: ch(rng), amp: rng.uint(0, 100_000), i: rng.uint(0, 100_000), z: rng.chance(0.1) ? 'OPEN' : rng.uint(0, 9_999_999), q: rng.uint(0, 4_294_967_295) };
      break;
    case 'DONE':
      args = { ch: ch(rng) };
      break;
    case 'FAULT':
      args = { ch: rng.uint(0, 8), code: rng.pick(FAULT_CODES) };
      break;
    case 'WDOG':
      args = {};
      break;
    case 'BOOT':
      args = { boot: hex(rng, 8), proto: rng.uint(1, 255) };
      break;
  }
  return { type: 'event', event, args } as Message;
}

/** Which receiver the corpus is aimed at: mostly its own direction's frames, some of the other. */
export type Flavour = 'host' | 'device';

/** One valid frame (without terminator). Encoding failures (a HELLO reply too long) are retried. */
export function validFrame(rng: Rng, flavour: Flavour): string {
  for (;;) {
    const own = rng.chance(0.8);
    const wantRequest = flavour === 'device' ? own : !own;
    const m = wantRequest ? requestMessage(rng) : rng.chance(0.5) ? replyMessage(rng) : eventMessage(rng);
    try {
      return encode(m);
    } catch {
      // a too-long HELLO reply or a msg that percent-encodes past 64 characters: draw again
    }
  }
}

// ---- mutants ---------------------------------------------------------------------------------------

export type InputKind =
  | 'valid'
  | 'bitflip1'
  | 'bitflipBody'
  | 'bitflip'
  | 'truncate'
  | 'splice'
  | 'reframe'
  | 'bytes'
  | 'binary'
  | 'length'
  | 'empty'
  | 'concat'
  | 'huge';

export interface FuzzInput {
  readonly kind: InputKind;
  /** latin1 bytes, as a string; usually ends with `\n` (not always: it then runs into the next). */
  readonly bytes: string;
  /** For truncations and bit flips: the frame the mutant came from (to say it must not decode). */
  readonly from?: string;
}

function flipBit(s: string, at: number, bit: number): string {
  return s.slice(0, at) + String.fromCharCode(s.charCodeAt(at) ^ (1 << bit)) + s.slice(at + 1);
}

const NEARLY_VALID_WORDS = ['OK', 'ERR', '!', 'TEL', 'BOOT', 'HELLO', 'SET', 'AMP', 'ok', 'Set', 'XYZ', 'START', 'ESTOP', 'WDOG', 'FAULT'];
const NEARLY_VALID_VALUES = ['0', '00', '01', '-1', '1e3', '65535', '65536', '4294967295', '4294967296', '99999999999', 'OPEN', 'open', 'SYM', 'CONT', 'DD', 'BURST', '%20', '%zz', 'a%2', '1.5', ''];

/** Edit the token list of a frame body, then put a CORRECT CRC on it: reaches the later decode steps. */
function reframe(rng: Rng, line: string): string {
  const body = line.slice(0, line.lastIndexOf(' *'));
  const tokens = body.split(' ');
  const edits = rng.range(1, 2);
  for (let e = 0; e < edits; e++) {
    const i = rng.int(tokens.length);
    switch (rng.int(9)) {
      case 0: // drop a token
        if (tokens.length > 1) tokens.splice(i, 1);
        break;
      case 1: // duplicate one
        tokens.splice(i, 0, tokens[i]!);
        break;
      case 2: {
        // swap two
        const j = rng.int(tokens.length);
        [tokens[i], tokens[j]] = [tokens[j]!, tokens[i]!];
        break;
      }
      case 3: // the seq
        tokens[0] = rng.pick(['!', '0', '00', '007', '65535', '65536', '-1', String(rng.uint(0, 99999)), 'x']);
        break;
      case 4: // the verb / event word
        if (tokens.length > 1) tokens[1] = rng.pick([...NEARLY_VALID_WORDS, ...REQUEST_VERBS, ...EVENT_NAMES]);
        break;
      case 5: {
        // a value
        const t = tokens[i]!;
        const eq = t.indexOf('=');
        if (eq > 0) tokens[i] = `${t.slice(0, eq + 1)}${rng.chance(0.6) ? rng.pick(NEARLY_VALID_VALUES) : str(rng, '0123456789', 1, 12)}`;
        break;
      }
      case 6: {
        // a key
        const t = tokens[i]!;
        const eq = t.indexOf('=');
        const key = rng.pick(['ch', 'amp', 'f', 'f2', 'pw', 'zz', 'A', '1a', 'abcdefghijklm', 'latched', 's9', 'msg', 'code']);
        tokens[i] = eq > 0 ? `${key}${t.slice(eq)}` : `${key}=${t}`;
        break;
      }
      case 7: // an extra argument
        tokens.push(`${rng.pick(['ch', 'x', 'amp', 'msg', 'q'])}=${rng.pick(NEARLY_VALID_VALUES.filter((v) => v !== ''))}`);
        break;
      default: // an empty token (double space) or a stray character
        tokens.splice(i, 0, rng.pick(['', '=', '==', '*', 'k=v=w']));
        break;
    }
  }
  return frame(tokens.join(' '));
}

function randomBytes(rng: Rng, n: number, allowNewline: boolean): string {
  const codes = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let b = rng.int(256);
    if (!allowNewline && b === 0x0a) b = 0x0b;
    codes[i] = b;
  }
  return Buffer.from(codes).toString('latin1');
}

/** A huge line (no `\n` inside) of exactly `size` bytes. */
export function hugeLine(rng: Rng, size: number, flavour: Flavour): string {
  switch (rng.int(3)) {
    case 0: {
      // valid frames back to back, without newlines: each would be fine alone
      const unit = `${validFrame(rng, flavour)} `;
      return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
    }
    case 1:
      return 'A'.repeat(size);
    default:
      return randomBytes(rng, size, false);
  }
}

const HUGE_MAX = 10 * 1024 * 1024;

/**
 * The corpus: `n` inputs from `seed`. Every `hugeEvery`-th input (and the first of them at exactly
 * 10 MB) is a huge line. Deterministic: the same arguments give the same inputs.
 */
export function* corpus(seed: number, n: number, flavour: Flavour, hugeEvery = 5000): Generator<FuzzInput> {
  const rng = new Rng(seed);
  let hugeDone = 0;
  for (let k = 0; k < n; k++) {
    if (k % hugeEvery === hugeEvery - 1) {
      const size = hugeDone === 0 ? HUGE_MAX : Math.min(HUGE_MAX, Math.floor(Math.exp(Math.log(MAX_LINE_BYTES + 1) + rng.float() * (Math.log(HUGE_MAX) - Math.log(MAX_LINE_BYTES + 1)))));
      hugeDone++;
      yield { kind: 'huge', bytes: `${hugeLine(rng, size, flavour)}${rng.chance(0.3) ? '\r' : ''}\n` };
      continue;
    }
    const eol = rng.chance(0.15) ? '\r\n' : '\n';
    const r = rng.int(100);
    const line = validFrame(rng, flavour);
    if (r < 14) {
      yield { kind: 'valid', bytes: line + eol };
    } else if (r < 24) {
      const at = rng.int(line.length);
      yield { kind: 'bitflip1', bytes: flipBit(line, at, rng.int(8)) + eol, from: line };
    } else if (r < 32) {
      // 2 or 3 flips inside the CRC-covered body: CRC-16/CCITT detects them all in a short frame
      const body = line.lastIndexOf(' *');
      let m = line;
      const flips = rng.range(2, 3);
      for (let f = 0; f < flips; f++) m = flipBit(m, rng.int(body), rng.int(8));
      yield { kind: m === line ? 'valid' : 'bitflipBody', bytes: m + eol, from: line };
    } else if (r < 37) {
      let m = line;
      const flips = rng.range(1, 8);
      for (let f = 0; f < flips; f++) m = flipBit(m, rng.int(m.length), rng.int(8));
      yield { kind: 'bitflip', bytes: m + eol };
    } else if (r < 46) {
      const cut = rng.range(1, line.length - 1);
      // Mostly terminated; sometimes not, so the rest runs into the next input's line.
      yield { kind: 'truncate', bytes: line.slice(0, cut) + (rng.chance(0.85) ? eol : ''), from: line };
    } else if (r < 55) {
      const other = validFrame(rng, flavour);
      yield { kind: 'splice', bytes: line.slice(0, rng.int(line.length + 1)) + other.slice(rng.int(other.length + 1)) + eol };
    } else if (r < 75) {
      yield { kind: 'reframe', bytes: reframe(rng, line) + eol };
    } else if (r < 83) {
      let m = line;
      const edits = rng.range(1, 4);
      for (let e = 0; e < edits; e++) {
        const at = rng.int(m.length + 1);
        const b = String.fromCharCode(rng.chance(0.5) ? rng.int(256) : rng.pick([0x00, 0x0d, 0x0a, 0x20, 0x2a, 0x3d, 0x7f, 0x80, 0xff]));
        const op = rng.int(3);
        m = op === 0 ? m.slice(0, at) + b + m.slice(at) : op === 1 ? m.slice(0, at) + m.slice(at + 1) : m.slice(0, at) + b + m.slice(at + 1);
      }
      yield { kind: 'bytes', bytes: m + eol };
    } else if (r < 88) {
      yield { kind: 'binary', bytes: randomBytes(rng, rng.range(0, 300), true) + eol };
    } else if (r < 92) {
      // lengths around the cap, with and without a tolerated CR
      const len = rng.range(MAX_LINE_BYTES - 2, MAX_LINE_BYTES + 2);
      const body = rng.chance(0.5) ? printable(rng, len, len) : (line + ' ').repeat(Math.ceil(len / (line.length + 1))).slice(0, len);
      yield { kind: 'length', bytes: body + (rng.chance(0.5) ? '\r\n' : '\n') };
    } else if (r < 95) {
      yield { kind: 'empty', bytes: rng.pick(['\n', '\r\n', '\r\r\n', ' \n', '\n\n']) };
    } else {
      const k = rng.range(2, 6);
      const parts = [line];
      for (let i = 1; i < k; i++) parts.push(validFrame(rng, flavour));
      yield { kind: 'concat', bytes: parts.join(rng.pick([' ', '', '\r', '\r\r'])) + eol };
    }
  }
}

// ---- the reference line splitter (PROTOCOL.md §2.2) -------------------------------------------------

export type RefLine = { readonly kind: 'line'; readonly text: string } | { readonly kind: 'empty' } | { readonly kind: 'too-long'; readonly length: number };

/**
 * Splits a byte stream (latin1 strings, any chunking) into what a conforming receiver sees:
 * a line of at most 256 bytes (not counting `\n` and one tolerated `\r`, which is kept in `text`),
 * an empty line, or a too-long line (reported once). Holds at most 258 bytes of any line.
 */
export class ReferenceSplitter {
  #len = 0;
  #head = '';
  constructor(private readonly sink: (line: RefLine) => void) {}

  push(chunk: string): void {
    let i = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', i);
      const end = nl < 0 ? chunk.length : nl;
      if (this.#len < MAX_LINE_BYTES + 2) this.#head += chunk.slice(i, Math.min(end, i + (MAX_LINE_BYTES + 2 - this.#len)));
      this.#len += end - i;
      if (nl < 0) return;
      this.#finish();
      i = nl + 1;
    }
  }

  #finish(): void {
    const cr = this.#len <= MAX_LINE_BYTES + 2 && this.#head.endsWith('\r') ? 1 : 0;
    const effective = this.#len - cr;
    if (effective > MAX_LINE_BYTES) this.sink({ kind: 'too-long', length: this.#len });
    else if (effective === 0) this.sink({ kind: 'empty' });
    else this.sink({ kind: 'line', text: this.#head });
    this.#len = 0;
    this.#head = '';
  }
}

/** Split `bytes` into 1-3 chunks at random points (chunk boundaries must not matter). */
export function chunks(rng: Rng, bytes: string): string[] {
  if (bytes.length < 2 || rng.chance(0.5)) return [bytes];
  const cuts = [rng.range(1, bytes.length - 1)];
  if (rng.chance(0.3)) cuts.push(rng.range(1, bytes.length - 1));
  cuts.sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const c of cuts) {
    if (c > from) out.push(bytes.slice(from, c));
    from = c;
  }
  out.push(bytes.slice(from));
  return out;
}
