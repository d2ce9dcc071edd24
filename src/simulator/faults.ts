/**
 * Fault injection, scriptable from tests (call the simulator's methods) and from the command line
 * (`edn simulate --fault <spec>`): a spec names a fault and when it happens, relative to start().
 *
 *   reboot@5s            the device resets (new boot id, outputs off, no session, `! BOOT`)
 *   drop:3@2s            the next 3 replies are lost
 *   delay:300@1s         every reply is 300 ms late (delay:0 ends it)
 *   open:2@10s           channel 2's load opens
 *   load:1:20000@3s      channel 1's load becomes 20 kOhm (load:1:OPEN opens it)
 *   cable-pull@30s       the cable is pulled (bytes both ways lost); cable-pull:5s@30s reconnects after 5 s
 *   reconnect@35s        the cable is plugged back in
 *   corrupt:5@2s         the next 5 outgoing lines each get one character flipped (CRC fails)
 *   garbage:4096@1s      the device writes 4096 random bytes (binary, some newlines)
 *   overcurrent@4s       FAULT ch=0 OVERCURRENT: every output off, latched
 *   internal@4s          FAULT ch=0 INTERNAL: every output off, latched
 *   stage-fail:2@4s      the output stage fails the next 2 START or IMP requests that pass every
 *                        check: each is answered ERR code=INTERNAL and changes nothing
 *
 * Times and durations take `ms` or `s` (decimals allowed, e.g. 1.5s) and must come to whole ms;
 * a duration argument without a unit is ms.
 */
import { MAX_CHANNELS } from '../../firmware-protocol/index.js';
import { MODEL } from './limits.js';

/** What faults act on: the simulator implements it. */
export interface FaultTarget {
  readonly channelCount: number;
  cablePull(): void;
  reconnectCable(): void;
  reboot(): void;
  dropReplies(n: number): void;
  delayReplies(ms: number): void;
  corruptNextLines(n: number): void;
  garbageFlood(bytes: number): void;
  setLoad(channel: number, load: number | 'OPEN'): void;
  overcurrent(): void;
  internalFault(): void;
  /** The next `n` START or IMP requests that pass every check fail inside the device (ERR code=INTERNAL). */
  stageFail(n: number): void;
  /** Run `work` at `atMs` after start on the target's own scheduler. */
  runAt(atMs: number, work: () => void): void;
  /** Run `work` `delayMs` from now on the target's own scheduler. */
  runAfter(delayMs: number, work: () => void): void;
}

export type Fault =
  | { readonly kind: 'reboot' }
  | { readonly kind: 'drop'; readonly count: number }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'open'; readonly channel: number }
  | { readonly kind: 'load'; readonly channel: number; readonly ohms: number | 'OPEN' }
  | { readonly kind: 'cable-pull'; readonly forMs?: number }
  | { readonly kind: 'reconnect' }
  | { readonly kind: 'corrupt'; readonly count: number }
  | { readonly kind: 'garbage'; readonly bytes: number }
  | { readonly kind: 'overcurrent' }
  | { readonly kind: 'internal' }
  | { readonly kind: 'stage-fail'; readonly count: number };

export type FaultKind = Fault['kind'];

export interface FaultSpec {
  /** When, ms after the simulator's start(). */
  readonly atMs: number;
  readonly fault: Fault;
  /** The spec as written. */
  readonly text: string;
}

export type FaultSpecResult = { readonly ok: true; readonly spec: FaultSpec } | { readonly ok: false; readonly error: string };

/** One line per fault, for `--help`. */
export const FAULT_SPEC_SYNTAX = [
  'reboot@T  drop:N@T  delay:MS@T  open:CH@T  load:CH:OHMS|OPEN@T  cable-pull[:MS]@T  reconnect@T',
  'corrupt:N@T  garbage:BYTES@T  overcurrent@T  internal@T  stage-fail:N@T     (T and MS like 500ms or 2.5s)',
].join('\n');

/** Why an argument or a time was refused (a class, so that it cannot be mistaken for a parsed string). */
class Problem {
  constructor(readonly why: string) {}
}

type ArgParser<T> = (text?: string) => T | Problem;

interface Grammar {
  readonly args: string;
  readonly min: number;
  readonly max: number;
  readonly build: (args: readonly string[], channels: number) => Fault | Problem;
}

const GRAMMAR: Record<FaultKind, Grammar> = {
  reboot: { args: '', min: 0, max: 0, build: () => ({ kind: 'reboot' }) },
  drop: { args: ':N', min: 1, max: 1, build: ([n]) => map(count(n), (c) => ({ kind: 'drop', count: c })) },
  delay: { args: ':MS', min: 1, max: 1, build: ([t]) => map(duration(t, true), (ms) => ({ kind: 'delay', ms })) },
  open: { args: ':CH', min: 1, max: 1, build: ([ch], n) => map(channel(n)(ch), (c) => ({ kind: 'open', channel: c })) },
  load: {
    args: ':CH:OHMS|OPEN',
    min: 2,
    max: 2,
    build: ([ch, z], n) => map(channel(n)(ch), (c) => map(ohms(z), (o) => ({ kind: 'load', channel: c, ohms: o }))),
  },
  'cable-pull': {
    args: '[:MS]',
    min: 0,
    max: 1,
    build: ([t]) => (t === undefined ? { kind: 'cable-pull' } : map(duration(t, true), (ms) => ({ kind: 'cable-pull', forMs: ms }))),
  },
  reconnect: { args: '', min: 0, max: 0, build: () => ({ kind: 'reconnect' }) },
  corrupt: { args: ':N', min: 1, max: 1, build: ([n]) => map(count(n), (c) => ({ kind: 'corrupt', count: c })) },
  garbage: { args: ':BYTES', min: 1, max: 1, build: ([n]) => map(bytes(n), (b) => ({ kind: 'garbage', bytes: b })) },
  overcurrent: { args: '', min: 0, max: 0, build: () => ({ kind: 'overcurrent' }) },
  internal: { args: '', min: 0, max: 0, build: () => ({ kind: 'internal' }) },
  'stage-fail': { args: ':N', min: 1, max: 1, build: ([n]) => map(count(n), (c) => ({ kind: 'stage-fail', count: c })) },
};

/**
 * Parse one `--fault` spec such as `drop:3@2s`. Never throws: a bad spec gives an error that says
 * what is wrong and how it should look. `channels` bounds channel numbers (default: the wire maximum).
 */
export function parseFaultSpec(text: string, channels: number = MAX_CHANNELS): FaultSpecResult {
  const fail = (why: string): FaultSpecResult => ({ ok: false, error: `fault '${text}': ${why}` });
  const at = text.lastIndexOf('@');
  if (at < 0) return fail("missing '@<time>' (e.g. reboot@5s)");
  const atMs = duration(text.slice(at + 1), false);
  if (atMs instanceof Problem) return fail(`time ${atMs.why}`);
  const [name = '', ...args] = text.slice(0, at).split(':');
  if (!isKind(name)) return fail(`unknown fault '${name}'; known: ${Object.keys(GRAMMAR).join(', ')}`);
  const grammar = GRAMMAR[name];
  if (args.length < grammar.min || args.length > grammar.max) {
    return fail(`${name} takes ${grammar.args ? `arguments ${grammar.args}` : 'no arguments'}, e.g. ${example(name)}`);
  }
  const fault = grammar.build(args, channels);
  if (fault instanceof Problem) return fail(fault.why);
  return { ok: true, spec: { atMs, fault, text } };
}

/** Apply one fault now. */
export function applyFault(target: FaultTarget, fault: Fault): void {
  switch (fault.kind) {
    case 'reboot':
      return target.reboot();
    case 'drop':
      return target.dropReplies(fault.count);
    case 'delay':
      return target.delayReplies(fault.ms);
    case 'open':
      return target.setLoad(fault.channel, 'OPEN');
    case 'load':
      return target.setLoad(fault.channel, fault.ohms);
    case 'cable-pull':
      target.cablePull();
      if (fault.forMs !== undefined) target.runAfter(fault.forMs, () => target.reconnectCable());
      return;
    case 'reconnect':
      return target.reconnectCable();
    case 'corrupt':
      return target.corruptNextLines(fault.count);
    case 'garbage':
      return target.garbageFlood(fault.bytes);
    case 'overcurrent':
      return target.overcurrent();
    case 'internal':
      return target.internalFault();
    case 'stage-fail':
      return target.stageFail(fault.count);
  }
}

/**
 * Apply each spec at its time (ms after the target's start) on the target's scheduler. A timed
 * cable pull reconnects `forMs` later. Everything scheduled is cancelled by the target's dispose().
 * Throws RangeError for a channel the target does not have (before scheduling anything).
 */
export function scheduleFaults(target: FaultTarget, specs: readonly FaultSpec[]): void {
  for (const { fault, text } of specs) {
    if ((fault.kind === 'open' || fault.kind === 'load') && fault.channel > target.channelCount) {
      throw new RangeError(`fault '${text}': channel ${fault.channel} is not in 1..${target.channelCount}`);
    }
  }
  for (const { atMs, fault } of specs) target.runAt(atMs, () => applyFault(target, fault));
}

// ---- argument parsers ------------------------------------------------------------------------------------

function isKind(name: string): name is FaultKind {
  return Object.prototype.hasOwnProperty.call(GRAMMAR, name);
}

function example(kind: FaultKind): string {
  return `${kind}${GRAMMAR[kind].args.replace('[:MS]', '').replace(':CH', ':1').replace(':OHMS|OPEN', ':20000').replace(':N', ':3').replace(':MS', ':300').replace(':BYTES', ':4096')}@2s`;
}

function map<T, U>(value: T | Problem, f: (v: T) => U | Problem): U | Problem {
  return value instanceof Problem ? value : f(value);
}

const INTEGER = /^(0|[1-9][0-9]*)$/;

/** A count of 1 or more. */
const count: ArgParser<number> = (text = '') =>
  INTEGER.test(text) && Number(text) >= 1 && Number.isSafeInteger(Number(text)) ? Number(text) : new Problem(`'${text}' is not a count (1 or more)`);

function channel(channels: number): ArgParser<number> {
  return (text = '') =>
    INTEGER.test(text) && Number(text) >= 1 && Number(text) <= channels ? Number(text) : new Problem(`'${text}' is not a channel (1..${channels})`);
}

const ohms: ArgParser<number | 'OPEN'> = (text = '') =>
  text === 'OPEN' || text === 'open'
    ? 'OPEN'
    : INTEGER.test(text) && Number(text) <= MODEL.maxLoadOhms
      ? Number(text)
      : new Problem(`'${text}' is not a load (0..${MODEL.maxLoadOhms} ohm or OPEN)`);

const bytes: ArgParser<number> = (text = '') =>
  INTEGER.test(text) && Number(text) >= 1 && Number(text) <= MODEL.maxGarbageBytes
    ? Number(text)
    : new Problem(`'${text}' is not a byte count (1..${MODEL.maxGarbageBytes})`);

/** `500ms`, `2s`, `1.5s` (and, when `bareIsMs`, `300` = 300 ms) as whole ms. */
function duration(text = '', bareIsMs: boolean): number | Problem {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s)?$/.exec(text);
  if (!m || (m[2] === undefined && !bareIsMs)) return new Problem(`'${text}' is not a time like 500ms or 2.5s`);
  const ms = Number(m[1]) * (m[2] === 's' ? 1000 : 1);
  const whole = Math.round(ms);
  if (Math.abs(ms - whole) > 1e-6 || !Number.isSafeInteger(whole)) return new Problem(`'${text}' is not a whole number of ms`);
  return whole;
}
