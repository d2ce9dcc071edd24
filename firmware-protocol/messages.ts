/**
 * Every message of the wire protocol, defined once as a zod schema over its arguments. Types are
 * inferred from the schemas; the codec (codec.ts) uses the same schemas to decode and to encode.
 * Units on the wire are integers: mHz, µs (per phase), µA, s, ms, nC, ohm, V (PROTOCOL.md §5).
 */
import * as z from 'zod';
import { MAX_CHANNELS } from './constants.js';
import { flag, hex, impedance, text, token, uint, word } from './fields.js';

// ---- shared argument fields ----------------------------------------------------------------------

const ch = uint(1, MAX_CHANNELS, '');
/** Frequency in millihertz: 1 mHz .. 1 kHz on the wire; the device's own range is tighter. */
const mHz = uint(1, 1_000_000, 'mHz');
const pw = uint(1, 10_000, 'us');
const uA = uint(0, 100_000, 'uA');
const durS = uint(1, 86_400, 's');
const rampUaPerS = uint(1, 100_000, 'uA/s');
const dwellMs = uint(100, 60_000, 'ms');
const burstPulses = uint(1, 100, 'pulses');
const version = uint(1, 255, '');
const bootId = hex(8);
const u32 = uint(0, 4_294_967_295, '');

export const WAVEFORMS = ['SYM', 'ASYM'] as const;
export const MODES = ['CONT', 'DD', 'BURST'] as const;
export const CHANNEL_STATES = ['OFF', 'STAGED', 'ON', 'DONE'] as const;
export const FAULT_CODES = ['OPEN', 'COMPLIANCE', 'OVERCURRENT', 'INTERNAL'] as const;

/**
 * Error codes carried by `ERR` replies (PROTOCOL.md §8). The first five are also what a decoder
 * returns for a line it cannot accept.
 */
export const ERROR_CODES = [
  'BAD_CRC',
  'BAD_FRAME',
  'TOO_LONG',
  'UNKNOWN_VERB',
  'BAD_ARG',
  'RANGE',
  'CHARGE',
  'VERSION',
  'NO_HELLO',
  'LATCHED',
  'STATE',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

// ---- requests (host -> device) -------------------------------------------------------------------

const setCommon = { pw, wf: word(WAVEFORMS), amp: uA, dur: durS, ramp: rampUaPerS };

/** SET stages one channel. The pattern decides which frequency fields exist. */
const setArgs = z.discriminatedUnion('mode', [
  z.strictObject({ ch, mode: z.literal('CONT'), f: mHz, ...setCommon }),
  z.strictObject({ ch, mode: z.literal('DD'), f: mHz, f2: mHz, dwell: dwellMs, ...setCommon }),
  z.strictObject({ ch, mode: z.literal('BURST'), f: mHz, f2: mHz, n: burstPulses, ...setCommon }),
]);

const none = z.strictObject({});

export const REQUESTS = {
  HELLO: z
    .strictObject({ vmin: version, vmax: version })
    .refine((a) => a.vmin <= a.vmax, { error: 'vmin must not exceed vmax', path: ['vmin'] }),
  SET: setArgs,
  START: z.strictObject({ ch }),
  AMP: z.strictObject({ ch, amp: uA }),
  STOP: z.strictObject({ ch: ch.optional() }),
  ESTOP: none,
  CLEAR: none,
  HB: none,
  STATUS: none,
  IMP: z.strictObject({ ch }),
} as const;

// ---- OK replies (device -> host), one per request verb --------------------------------------------

const channelStates = Object.fromEntries(
  Array.from({ length: MAX_CHANNELS }, (_, i) => [`s${i + 1}`, word(CHANNEL_STATES).optional()]),
) as Record<`s${1 | 2 | 3 | 4 | 5 | 6 | 7 | 8}`, z.ZodOptional<ReturnType<typeof word<typeof CHANNEL_STATES>>>>;

export const REPLIES = {
  HELLO: z.strictObject({
    proto: version,
    model: token,
    fw: token,
    sn: token,
    boot: bootId,
    ch,
    fmin: mHz,
    fmax: mHz,
    pwmin: pw,
    pwmax: pw,
    amin: uA,
    amax: uA,
    qmax: uint(1, 10_000_000, 'nC'),
    tmax: durS,
    vc: uint(1, 1000, 'V'),
    wdog: uint(1, 10_000, 'ms'),
  }),
  SET: z.strictObject({ ch, crc: hex(4) }),
  START: z.strictObject({ ch }),
  AMP: z.strictObject({ ch, amp: uA }),
  STOP: z.strictObject({ ch: ch.optional() }),
  ESTOP: z.strictObject({ latched: flag }),
  CLEAR: z.strictObject({ latched: flag }),
  HB: none,
  STATUS: z.strictObject({ latched: flag, boot: bootId, up: u32, ...channelStates }),
  IMP: z.strictObject({ ch, z: impedance }),
} as const;

export const ERR_ARGS = z.strictObject({ code: word(ERROR_CODES), msg: text.optional() });

// ---- unsolicited events (device -> host, seq `!`) ----------------------------------------------------

export const EVENTS = {
  /** Telemetry, 10 Hz per channel while its output is on. */
  TEL: z.strictObject({ ch, amp: uA, i: uA, z: impedance, q: u32 }),
  /** The staged duration elapsed; the channel's output is off. */
  DONE: z.strictObject({ ch }),
  /** A fault switched output off: on `ch`, or on every channel when ch=0. */
  FAULT: z.strictObject({ ch: uint(0, MAX_CHANNELS, ''), code: word(FAULT_CODES) }),
  /** The watchdog expired: every output is off and every staged program discarded. */
  WDOG: none,
  /** The device (re)started: every output is off; `boot` is the new boot id. */
  BOOT: z.strictObject({ boot: bootId, proto: version }),
} as const;

/**
 * Canonical argument order for encoding: every key of every message, in one list. Decoders accept
 * any order; encoders (and the SET read-back CRC) always use this one.
 */
export const KEY_ORDER: readonly string[] = [
  'vmin', 'vmax', 'proto', 'model', 'fw', 'sn', 'boot', 'ch',
  'fmin', 'fmax', 'pwmin', 'pwmax', 'amin', 'amax', 'qmax', 'tmax', 'vc', 'wdog',
  'mode', 'f', 'f2', 'dwell', 'n', 'pw', 'wf', 'amp', 'dur', 'ramp', 'crc',
  'i', 'z', 'q', 'latched', 'up', 's1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 'code', 'msg',
];

// ---- inferred types ---------------------------------------------------------------------------------

export type RequestVerb = keyof typeof REQUESTS;
export type EventName = keyof typeof EVENTS;
export type RequestArgs<V extends RequestVerb> = z.output<(typeof REQUESTS)[V]>;
export type ReplyArgs<V extends RequestVerb> = z.output<(typeof REPLIES)[V]>;
export type EventArgs<E extends EventName> = z.output<(typeof EVENTS)[E]>;
export type SetArgs = RequestArgs<'SET'>;
export type HelloReply = ReplyArgs<'HELLO'>;
export type Waveform = (typeof WAVEFORMS)[number];
export type Mode = (typeof MODES)[number];
export type FaultCode = (typeof FAULT_CODES)[number];
export type ChannelState = (typeof CHANNEL_STATES)[number];
export type Impedance = z.output<typeof impedance>;

export type Request = { [V in RequestVerb]: { type: 'request'; seq: number; verb: V; args: RequestArgs<V> } }[RequestVerb];
export type OkReply = { [V in RequestVerb]: { type: 'ok'; seq: number; verb: V; args: ReplyArgs<V> } }[RequestVerb];
/** An error reply. `seq` is null when the device could not trust the frame's seq (`! ERR ...`). */
export interface ErrReply {
  type: 'err';
  seq: number | null;
  args: z.output<typeof ERR_ARGS>;
}
export type DeviceEvent = { [E in EventName]: { type: 'event'; event: E; args: EventArgs<E> } }[EventName];

/** Every message the protocol has. */
export type Message = Request | OkReply | ErrReply | DeviceEvent;
/** What a device receives. */
export type HostToDevice = Request;
/** What a host receives. */
export type DeviceToHost = OkReply | ErrReply | DeviceEvent;

export const REQUEST_VERBS = Object.keys(REQUESTS) as RequestVerb[];
export const EVENT_NAMES = Object.keys(EVENTS) as EventName[];
