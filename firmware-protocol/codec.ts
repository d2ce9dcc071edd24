/**
 * Encode and decode lines of the wire protocol (PROTOCOL.md). Decoding never throws: any input,
 * however malformed, becomes either a typed message or a typed error with a code and a message
 * that says what was wrong and where.
 */
import type * as z from 'zod';
import { MAX_KEY_CHARS, MAX_LINE_BYTES, MAX_SEQ, MAX_VALUE_CHARS } from './constants.js';
import { crcHex } from './crc.js';
import {
  ERR_ARGS,
  EVENTS,
  KEY_ORDER,
  REPLIES,
  REQUESTS,
  type DeviceToHost,
  type ErrorCode,
  type HostToDevice,
  type Message,
  type RequestVerb,
  type SetArgs,
} from './messages.js';

/** The codes a decoder can return. */
export type DecodeErrorCode = Extract<ErrorCode, 'BAD_CRC' | 'BAD_FRAME' | 'TOO_LONG' | 'UNKNOWN_VERB' | 'BAD_ARG'>;

export interface DecodeError {
  readonly code: DecodeErrorCode;
  /** What was wrong and where, e.g. `SET: amp: 120000 uA is above the maximum 100000 uA`. */
  readonly message: string;
  /**
   * The frame's sequence number, present only for UNKNOWN_VERB and BAD_ARG (a good CRC, a numeric
   * seq and a well-formed frame), so that a device answers `<seq> ERR code=...`; undefined for
   * BAD_CRC, BAD_FRAME and TOO_LONG, whose seq is not trusted (the device answers `! ERR ...`).
   */
  readonly seq?: number;
}

export type Decoded<M> = { readonly ok: true; readonly message: M } | { readonly ok: false; readonly error: DecodeError };

const CRC_MARK = ' *';
const SEQ_TEXT = /^(0|[1-9][0-9]{0,4})$/;
const KEY_TEXT = new RegExp(`^[a-z][a-z0-9]{0,${MAX_KEY_CHARS - 1}}$`);
/** Printable ASCII except space, `=` and `*`. */
const VALUE_TEXT = new RegExp(`^[\\x21-\\x29\\x2B-\\x3C\\x3E-\\x7E]{1,${MAX_VALUE_CHARS}}$`);

function fail(code: DecodeErrorCode, message: string, seq?: number): { ok: false; error: DecodeError } {
  return { ok: false, error: seq === undefined ? { code, message } : { code, message, seq } };
}

function has<K extends string>(table: Record<K, unknown>, key: string): key is K {
  return Object.prototype.hasOwnProperty.call(table, key);
}

/**
 * Decode one line (without its `\n`; a trailing `\r` is tolerated). Accepts any message: requests,
 * replies and events. Use {@link decodeRequest} on a device and {@link decodeDeviceLine} on a host.
 */
export function decode(input: string): Decoded<Message> {
  const line = input.endsWith('\r') ? input.slice(0, -1) : input;
  if (line.length > MAX_LINE_BYTES) {
    return fail('TOO_LONG', `line is ${line.length} bytes; the maximum is ${MAX_LINE_BYTES}`);
  }
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      const what = c > 0x7e ? 'non-ASCII' : 'control';
      return fail('BAD_FRAME', `${what} byte 0x${c.toString(16).toUpperCase().padStart(2, '0')} at column ${i + 1}`);
    }
  }
  const mark = line.lastIndexOf(CRC_MARK);
  if (mark < 0) return fail('BAD_FRAME', "no CRC: a frame ends with ' *' and four hex digits");
  const body = line.slice(0, mark);
  const crc = line.slice(mark + CRC_MARK.length);
  if (!/^[0-9A-F]{4}$/.test(crc)) return fail('BAD_FRAME', `CRC '${crc}' is not four upper-case hex digits`);
  const expected = crcHex(body);
  if (crc !== expected) return fail('BAD_CRC', `CRC ${crc} does not match the frame (computed ${expected})`);

  const tokens = body.split(' ');
  if (tokens.some((t) => t.length === 0)) return fail('BAD_FRAME', 'empty token: fields are separated by exactly one space');
  const [seqText, word, ...rest] = tokens;
  if (seqText === undefined || word === undefined) return fail('BAD_FRAME', 'a frame needs a seq and a verb');

  let seq: number | null;
  if (seqText === '!') seq = null;
  else if (SEQ_TEXT.test(seqText) && Number(seqText) <= MAX_SEQ) seq = Number(seqText);
  else return fail('BAD_FRAME', `seq '${seqText}' is not '!' or a decimal 0..${MAX_SEQ}`);
  const at = seq ?? undefined;

  if (word === 'OK') {
    if (seq === null) return fail('BAD_FRAME', "an OK reply needs the request's seq, not '!'");
    const [verb, ...args] = rest;
    if (verb === undefined) return fail('BAD_FRAME', 'OK must be followed by the verb it answers');
    if (!has(REPLIES, verb)) return fail('UNKNOWN_VERB', `OK answers unknown verb '${verb}'`, at);
    return withArgs(args, REPLIES[verb], `OK ${verb}`, at, (a) => ({ type: 'ok', seq, verb, args: a }));
  }
  if (word === 'ERR') {
    return withArgs(rest, ERR_ARGS, 'ERR', at, (a) => ({ type: 'err', seq, args: a }));
  }
  if (seq === null) {
    if (!has(EVENTS, word)) {
      return has(REQUESTS, word)
        ? fail('BAD_FRAME', `'${word}' is a request and needs a numeric seq, not '!'`)
        : fail('UNKNOWN_VERB', `unknown event '${word}'`);
    }
    return withArgs(rest, EVENTS[word], word, undefined, (a) => ({ type: 'event', event: word, args: a }));
  }
  if (!has(REQUESTS, word)) {
    return has(EVENTS, word)
      ? fail('BAD_FRAME', `'${word}' is an event and takes the seq '!'`)
      : fail('UNKNOWN_VERB', `unknown verb '${word}'`, seq);
  }
  return withArgs(rest, REQUESTS[word], word, seq, (a) => ({ type: 'request', seq, verb: word, args: a }));
}

/** Decode a line arriving at a device: only requests are valid. */
export function decodeRequest(line: string): Decoded<HostToDevice> {
  const result = decode(line);
  if (!result.ok || result.message.type === 'request') return result as Decoded<HostToDevice>;
  const m = result.message;
  return fail('BAD_FRAME', `a device accepts requests only, not ${describe(m)}`);
}

/** Decode a line arriving at a host: only replies and events are valid. */
export function decodeDeviceLine(line: string): Decoded<DeviceToHost> {
  const result = decode(line);
  if (!result.ok || result.message.type !== 'request') return result as Decoded<DeviceToHost>;
  return fail('BAD_FRAME', `a host accepts replies and events only, not the request ${result.message.verb}`);
}

function describe(m: Message): string {
  switch (m.type) {
    case 'request':
      return `request ${m.verb}`;
    case 'ok':
      return `reply OK ${m.verb}`;
    case 'err':
      return 'reply ERR';
    case 'event':
      return `event ${m.event}`;
  }
}

function withArgs(
  tokens: readonly string[],
  schema: z.ZodType,
  what: string,
  seq: number | undefined,
  build: (args: never) => Message,
): Decoded<Message> {
  const raw: Record<string, string> = {};
  for (const t of tokens) {
    const eq = t.indexOf('=');
    if (eq <= 0) return fail('BAD_FRAME', `${what}: '${t}' is not key=value`);
    const key = t.slice(0, eq);
    const value = t.slice(eq + 1);
    if (!KEY_TEXT.test(key)) return fail('BAD_FRAME', `${what}: '${key}' is not a key (a-z then a-z0-9, at most ${MAX_KEY_CHARS})`);
    if (!VALUE_TEXT.test(value)) return fail('BAD_FRAME', `${what}: ${key}: value must be 1-${MAX_VALUE_CHARS} printable characters without '=' or '*'`);
    if (has(raw, key)) return fail('BAD_ARG', `${what}: duplicate argument '${key}'`, seq);
    raw[key] = value;
  }
  const parsed = schema.safeDecode(raw);
  if (!parsed.success) return fail('BAD_ARG', `${what}: ${explain(parsed.error)}`, seq);
  return { ok: true, message: build(parsed.data as never) };
}

/** One sentence naming each problem's argument. */
function explain(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const key = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') return `unexpected argument${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
      if (issue.code === 'invalid_type' && issue.input === undefined) return `missing argument '${key}'`;
      if (issue.code === 'invalid_union' && key === 'mode') return `mode: ${issue.message}`;
      return key ? `${key}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

// ---- encoding -------------------------------------------------------------------------------------

/** Thrown by {@link encode} for a message our own code built wrongly (a programming error). */
export class EncodeError extends Error {
  override readonly name = 'EncodeError';
}

/** The canonical `k=v k=v` text of a message's arguments (KEY_ORDER, absent keys omitted). */
export function encodeArgs(schema: z.ZodType, args: unknown, what: string): string {
  const wire = schema.safeEncode(args);
  if (!wire.success) throw new EncodeError(`cannot encode ${what}: ${explain(wire.error)}`);
  const record = wire.data as Record<string, string | undefined>;
  const keys = Object.keys(record).filter((k) => record[k] !== undefined);
  const unknown = keys.filter((k) => !KEY_ORDER.includes(k));
  if (unknown.length > 0) throw new EncodeError(`cannot encode ${what}: keys ${unknown.join(', ')} have no canonical order`);
  // A value the decoder would refuse must never reach the wire (e.g. a msg whose percent-encoding
  // grows past MAX_VALUE_CHARS): encode and decode accept exactly the same frames.
  for (const k of keys) {
    const value = record[k] as string;
    if (!KEY_TEXT.test(k)) throw new EncodeError(`cannot encode ${what}: '${k}' is not a key`);
    if (!VALUE_TEXT.test(value)) {
      throw new EncodeError(`cannot encode ${what}: ${k}: wire value '${value}' is not 1-${MAX_VALUE_CHARS} printable characters without space, '=' or '*'`);
    }
  }
  keys.sort((a, b) => KEY_ORDER.indexOf(a) - KEY_ORDER.indexOf(b));
  return keys.map((k) => `${k}=${record[k]}`).join(' ');
}

/** Append ` *CRC` to a frame body. */
export function frame(body: string): string {
  return `${body}${CRC_MARK}${crcHex(body)}`;
}

/**
 * Encode a message as one line (without the `\n`). Throws {@link EncodeError} when the message
 * does not satisfy its schema: the host must never put a value on the wire it could not read back.
 */
export function encode(message: Message): string {
  let head: string;
  let args: string;
  switch (message.type) {
    case 'request':
      checkSeq(message.seq);
      if (!has(REQUESTS, message.verb)) throw new EncodeError(`cannot encode unknown verb '${String(message.verb)}'`);
      head = `${message.seq} ${message.verb}`;
      args = encodeArgs(REQUESTS[message.verb], message.args, message.verb);
      break;
    case 'ok':
      checkSeq(message.seq);
      if (!has(REPLIES, message.verb)) throw new EncodeError(`cannot encode OK for unknown verb '${String(message.verb)}'`);
      head = `${message.seq} OK ${message.verb}`;
      args = encodeArgs(REPLIES[message.verb], message.args, `OK ${message.verb}`);
      break;
    case 'err':
      if (message.seq !== null) checkSeq(message.seq);
      head = `${message.seq ?? '!'} ERR`;
      args = encodeArgs(ERR_ARGS, message.args, 'ERR');
      break;
    case 'event':
      if (!has(EVENTS, message.event)) throw new EncodeError(`cannot encode unknown event '${String(message.event)}'`);
      head = `! ${message.event}`;
      args = encodeArgs(EVENTS[message.event], message.args, message.event);
      break;
  }
  const line = frame(args ? `${head} ${args}` : head);
  if (line.length > MAX_LINE_BYTES) throw new EncodeError(`encoded line is ${line.length} bytes; the maximum is ${MAX_LINE_BYTES}`);
  return line;
}

function checkSeq(seq: number): void {
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ) throw new EncodeError(`seq ${seq} is not an integer 0..${MAX_SEQ}`);
}

/**
 * The read-back CRC of a SET: CRC-16/CCITT-FALSE of the canonical argument text of the stored
 * program, e.g. over `ch=1 mode=CONT f=2000 pw=250 wf=SYM amp=4000 dur=1200 ramp=1000`. The device
 * computes it from what it stored, the host from what it sent; they must agree (PROTOCOL.md §6.2).
 */
export function setReadbackCrc(args: SetArgs): string {
  return crcHex(encodeArgs(REQUESTS.SET, args, 'SET'));
}

/** The next sequence number after `seq` (wraps 65535 -> 0). */
export function nextSeq(seq: number): number {
  return seq >= MAX_SEQ ? 0 : seq + 1;
}

export type { RequestVerb };
