/**
 * Test rig for the simulated stimulator: virtual time, every transmitted line and event recorded with
 * its time, and requests built with the real codec (encode) so every byte on the wire is genuine.
 */
import {
  decodeDeviceLine,
  encode,
  type DeviceToHost,
  type ErrReply,
  type OkReply,
  type Request,
  type RequestArgs,
  type RequestVerb,
  type SetArgs,
} from '../../../firmware-protocol/index.js';
import { SimulatedStimulator, type SimEvent, type SimulatorOptions } from '../../../src/simulator/index.js';
import { ManualScheduler } from '../../support/virtual-time.js';

export interface Sent {
  readonly at: number;
  readonly chunk: string;
}

export interface Rig {
  readonly scheduler: ManualScheduler;
  readonly sim: SimulatedStimulator;
  /** Every chunk written by the device, with the virtual time it was written at. */
  readonly tx: Sent[];
  /** Every SimEvent, with its time. */
  readonly events: { readonly at: number; readonly e: SimEvent }[];
  /** The next seq `line()` will use. */
  seq: number;
  /** One encoded request line (no newline), using and advancing `seq`. */
  line<V extends RequestVerb>(verb: V, args: RequestArgs<V>): string;
  /** Send a request; return the decoded device lines written while it was processed. */
  send<V extends RequestVerb>(verb: V, args: RequestArgs<V>): DeviceToHost[];
  /** Send a request and return its single reply (fails the test otherwise). */
  request<V extends RequestVerb>(verb: V, args: RequestArgs<V>): OkReply | ErrReply;
  /** Send raw bytes; return the decoded device lines written meanwhile. */
  raw(bytes: string | Uint8Array): DeviceToHost[];
  /** Decoded device lines written since index `from` of tx. */
  decoded(from?: number): DeviceToHost[];
  /** HELLO with vmin=vmax=1; returns the reply. */
  hello(): OkReply;
  /** SET then START channel `ch` with the given program (defaults: CONT 10 Hz 200 µs SYM 2 mA 60 s 1000 µA/s). */
  run(ch: number, program?: Partial<SetArgs>): void;
}

export const PROGRAM: SetArgs = { ch: 1, mode: 'CONT', f: 10_000, pw: 200, wf: 'SYM', amp: 2_000, dur: 60, ramp: 1_000 };

export function program(overrides: Partial<SetArgs> = {}): SetArgs {
  return { ...PROGRAM, ...overrides } as SetArgs;
}

export function makeRig(options: Partial<SimulatorOptions> = {}, start = true): Rig {
  const scheduler = new ManualScheduler();
  const sim = new SimulatedStimulator({ ...options, scheduler });
  const tx: Sent[] = [];
  const events: { at: number; e: SimEvent }[] = [];
  sim.onTransmit((chunk) => tx.push({ at: scheduler.now(), chunk }));
  sim.onEvent((e) => events.push({ at: scheduler.now(), e }));
  const decoded = (from = 0): DeviceToHost[] =>
    tx.slice(from).map(({ chunk }) => {
      const d = decodeDeviceLine(chunk.replace(/\n$/, ''));
      if (!d.ok) throw new Error(`device wrote an undecodable line ${JSON.stringify(chunk)}: ${d.error.code} ${d.error.message}`);
      return d.message;
    });
  const rig: Rig = {
    scheduler,
    sim,
    tx,
    events,
    seq: 0,
    line(verb, args) {
      const line = encode({ type: 'request', seq: rig.seq, verb, args } as Request);
      rig.seq = rig.seq >= 65535 ? 0 : rig.seq + 1;
      return line;
    },
    raw(bytes) {
      const from = tx.length;
      sim.receive(bytes);
      return decoded(from);
    },
    send(verb, args) {
      return rig.raw(`${rig.line(verb, args)}\n`);
    },
    request(verb, args) {
      const seq = rig.seq;
      const lines = rig.send(verb, args).filter((m) => m.type !== 'event');
      if (lines.length !== 1) throw new Error(`expected one reply to ${verb}, got ${JSON.stringify(lines)}`);
      const reply = lines[0] as OkReply | ErrReply;
      if (reply.seq !== seq) throw new Error(`reply seq ${reply.seq} is not ${seq}`);
      return reply;
    },
    decoded,
    hello() {
      const r = rig.request('HELLO', { vmin: 1, vmax: 1 });
      if (r.type !== 'ok') throw new Error(`HELLO refused: ${JSON.stringify(r)}`);
      return r;
    },
    run(ch, overrides = {}) {
      const set = rig.request('SET', program({ ...overrides, ch }));
      if (set.type !== 'ok') throw new Error(`SET refused: ${JSON.stringify(set)}`);
      const start = rig.request('START', { ch });
      if (start.type !== 'ok') throw new Error(`START refused: ${JSON.stringify(start)}`);
    },
  };
  if (start) sim.start();
  return rig;
}

/** The error code of a reply, or 'OK'. */
export function codeOf(reply: OkReply | ErrReply): string {
  return reply.type === 'ok' ? 'OK' : reply.args.code;
}

/** Events of one kind. */
export function eventsOf<K extends SimEvent['event']>(rig: Rig, kind: K): { at: number; e: Extract<SimEvent, { event: K }> }[] {
  return rig.events.filter((x) => x.e.event === kind) as { at: number; e: Extract<SimEvent, { event: K }> }[];
}

/** Device lines (decoded) of one event name, with their time. */
export function deviceEvents(rig: Rig, name: string): { at: number; m: DeviceToHost }[] {
  const out: { at: number; m: DeviceToHost }[] = [];
  for (const { at, chunk } of rig.tx) {
    const d = decodeDeviceLine(chunk.replace(/\n$/, ''));
    if (d.ok && d.message.type === 'event' && d.message.event === name) out.push({ at, m: d.message });
  }
  return out;
}
