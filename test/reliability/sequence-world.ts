/**
 * The world a model-based sequence test drives: a whole host on virtual time (the session harness:
 * in-process simulator, device client, session runner), a driver that advances time in 10 ms
 * steps draining every promise chain between steps as an event loop would, and a MONITOR that
 * judges everything from the simulator's side, independently of the runner's own bookkeeping:
 *
 * - every line the simulator receives (hooked at its receive()), checked against the protocol's
 *   phases: frequency, pulse width and waveform exactly the protocol's, amplitude never above the
 *   phase's maxMa, a SET ramp never above min(1 mA/s, the protocol's ramp), AMP targets never
 *   rising faster than that ramp since the last START/AMP, no START/AMP before a screening cleared;
 * - every event the simulator reports (output on/off, estop, clear, faults, boot): no output on
 *   while latched or unscreened, none above maxMa;
 * - a snapshot every 10 ms of virtual time: set point never above maxMa, never rising faster than
 *   the ramp between samples, no output while the device is latched, and (once promise chains have
 *   settled) no output unless the runner says a session is delivering it.
 *
 * Violations are collected as text, with the virtual time and the last commands, and thrown by
 * `assertNoViolations()` so fast-check can shrink the sequence that caused them.
 */
import { decodeRequest, type HostToDevice, type SetArgs } from '../../firmware-protocol/index.js';
import type { Protocol } from '../../src/domain/protocols/derive.js';
import { BUILT_IN_FILES } from '../../src/domain/protocols/library/index.js';
import { formatProtocolError, validateProtocol } from '../../src/domain/protocols/validate.js';
import type { ScreeningCleared } from '../../src/domain/screening.js';
import { OUTPUT_STATES } from '../../src/session/states.js';
import type { SimEvent } from '../../src/simulator/index.js';
import { clearedFor, harness, kneeProtocol } from '../support/session-harness.js';

// ---- protocols ------------------------------------------------------------------------------------

interface ProtocolFileLike {
  id: string;
  name: string;
  sources: { unverified?: string[] }[];
  phases: Record<string, unknown>[];
}

function variant(fileName: string, edit: (file: ProtocolFileLike) => void): Protocol {
  const file = structuredClone(BUILT_IN_FILES[fileName]) as ProtocolFileLike;
  edit(file);
  // The edited figures are no longer the source's: take them out of its `unverified` list.
  for (const s of file.sources) if (s.unverified) s.unverified = s.unverified.filter((p) => !p.startsWith('phases'));
  const v = validateProtocol(file);
  if (!v.ok) throw new Error(`test protocol ${file.id} does not validate:\n${v.errors.map(formatProtocolError).join('\n')}`);
  return v.protocol;
}

/** 15 s at 2 Hz SYM 250 us (max 4 mA, 1 mA/s), then 15 s at 4 Hz ASYM 200 us (max 2 mA, 0.5 mA/s). */
export const TWO_PHASE = variant('knee-oa-periosteal.json', (f) => {
  f.id = 'seq-two-phase';
  f.name = 'Two short phases for sequence tests';
  f.phases = [
    { name: 'main', durationMin: 0.25, waveform: 'biphasic-symmetric', frequencyHz: 2, pulseWidthUs: 250, amplitude: { maxMa: 4, rampMaPerS: 1 } },
    { name: 'wind-down', durationMin: 0.25, waveform: 'biphasic-asymmetric', frequencyHz: 4, pulseWidthUs: 200, amplitude: { maxMa: 2, rampMaPerS: 0.5 } },
  ];
});

/** 15 s of dense-disperse 2/100 Hz, 300 us, max 3 mA, 0.5 mA/s. */
export const DENSE_DISPERSE = variant('dense-disperse-2-100.json', (f) => {
  f.id = 'seq-dense-disperse';
  f.name = 'Short dense-disperse for sequence tests';
  const phase = f.phases[0]! as { durationMin: number; amplitude: { maxMa: number } };
  phase.durationMin = 0.25;
  phase.amplitude.maxMa = 3;
});

export const KNEE = kneeProtocol();

export const PROTOCOLS: readonly Protocol[] = [TWO_PHASE, DENSE_DISPERSE, KNEE];

/** What the device may be sent in one phase, in wire units, computed from the protocol alone. */
export interface PhaseRule {
  readonly index: number;
  readonly mode: 'CONT' | 'DD' | 'BURST';
  readonly f: number;
  readonly f2?: number;
  readonly dwell?: number;
  readonly n?: number;
  readonly pw: number;
  readonly wf: 'SYM' | 'ASYM';
  readonly maxUa: number;
  /** min(1 mA/s, the protocol's ramp), µA/s. */
  readonly rampUaPerS: number;
  readonly durS: number;
}

/** The hard amplitude slew ceiling, µA/s (1 mA/s). */
export const SLEW_CEILING_UA_PER_S = 1000;

export function phaseRules(protocol: Protocol): PhaseRule[] {
  return protocol.phases.map((p, index) => {
    const base = {
      index,
      pw: p.pulseWidthUs,
      wf: p.waveform === 'biphasic-symmetric' ? ('SYM' as const) : ('ASYM' as const),
      maxUa: Math.round(p.amplitude.maxMa * 1000),
      rampUaPerS: Math.min(SLEW_CEILING_UA_PER_S, Math.round(p.amplitude.rampMaPerS * 1000)),
      durS: Math.ceil(p.durationMin * 60 - 1e-9),
    };
    const pat = p.pattern;
    switch (pat.kind) {
      case 'continuous':
        return { ...base, mode: 'CONT' as const, f: Math.round(pat.frequencyHz * 1000) };
      case 'dense-disperse':
        return { ...base, mode: 'DD' as const, f: Math.round(pat.lowHz * 1000), f2: Math.round(pat.highHz * 1000), dwell: Math.round(pat.dwellS * 1000) };
      case 'burst':
        return { ...base, mode: 'BURST' as const, f: Math.round(pat.burstRateHz * 1000), f2: Math.round(pat.intraBurstHz * 1000), n: pat.pulsesPerBurst };
    }
  });
}

function matches(rule: PhaseRule, a: SetArgs): boolean {
  if (a.mode !== rule.mode || a.f !== rule.f || a.pw !== rule.pw || a.wf !== rule.wf) return false;
  if (a.mode === 'DD') return a.f2 === rule.f2 && a.dwell === rule.dwell;
  if (a.mode === 'BURST') return a.f2 === rule.f2 && a.n === rule.n;
  return true;
}

// ---- the monitor ------------------------------------------------------------------------------------

interface ChannelWatch {
  /** The phase the channel's last SET matched (its limits apply to what follows). */
  rule: PhaseRule | undefined;
  /** The last commanded amplitude (START: 0) and when the device received it. */
  cmdUa: number;
  cmdAt: number;
  /** The last sample. */
  sampledUa: number;
  sampledAt: number;
}

/** Facts about what the runs reached, to show the campaign is not vacuous. */
export interface Coverage {
  runs: number;
  runsWithOutput: number;
  runsWithPhaseChange: number;
  runsCompleted: number;
  estopsDuringOutput: number;
  pausesDuringOutput: number;
  titrationsAccepted: number;
  titrationsRefused: number;
  startsRefusedAboveMax: number;
  screeningsRefused: number;
  setsSeen: number;
  ampsSeen: number;
  samples: number;
  statesVisited: Set<string>;
  startWhileDeviceLatched: number;
}

export function newCoverage(): Coverage {
  return {
    runs: 0,
    runsWithOutput: 0,
    runsWithPhaseChange: 0,
    runsCompleted: 0,
    estopsDuringOutput: 0,
    pausesDuringOutput: 0,
    titrationsAccepted: 0,
    titrationsRefused: 0,
    startsRefusedAboveMax: 0,
    screeningsRefused: 0,
    setsSeen: 0,
    ampsSeen: 0,
    samples: 0,
    statesVisited: new Set(),
    startWhileDeviceLatched: 0,
  };
}

const TOLERANCE_UA = 1;

export class World {
  readonly h: ReturnType<typeof harness>;
  readonly rules: readonly PhaseRule[];
  readonly violations: string[] = [];
  readonly log: string[] = [];
  /** A screening for this protocol was accepted for the session being prepared (reset by a new session). */
  screened = false;
  /** The device's latch as its own events tell it (estop / global fault set it; clear / boot reset it). */
  deviceLatched = false;
  #phaseFloor = 0;
  #channels = new Map<number, ChannelWatch>();
  readonly #pending = new Set<Promise<unknown>>();
  #sawOutput = false;
  #sawPhase2 = false;
  #disposed = false;

  constructor(
    readonly protocol: Protocol,
    readonly coverage: Coverage,
  ) {
    this.h = harness();
    this.rules = phaseRules(protocol);
    const sim = this.h.sim;
    const receive = sim.receive.bind(sim);
    sim.receive = (chunk: string | Uint8Array) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1');
      for (const line of text.split('\n')) if (line.length > 0) this.#onHostLine(line);
      receive(chunk);
    };
    sim.onEvent((e) => this.#onSimEvent(e));
    this.h.runner.snapshot$.subscribe((s) => this.coverage.statesVisited.add(s.state));
  }

  get now(): number {
    return this.h.scheduler.now();
  }

  violation(what: string): void {
    if (this.violations.length < 20) this.violations.push(`t=${this.now} ms: ${what}`);
  }

  note(step: string): void {
    const snap = this.h.runner.snapshot;
    this.log.push(`t=${this.now} ${step} -> ${snap.state}${snap.reason ? ` (${snap.reason})` : ''}`);
  }

  /** Throw the collected violations (with the tail of the command log) so the run fails and shrinks. */
  assertNoViolations(): void {
    if (this.violations.length === 0) return;
    throw new Error(`${this.violations.join('\n')}\nprotocol ${this.protocol.id}; last steps:\n  ${this.log.slice(-12).join('\n  ')}`);
  }

  /** The screening that clears this patient for this protocol. */
  clearance(): ScreeningCleared {
    return clearedFor(this.protocol);
  }

  /** A valid clearance for ANOTHER protocol: the runner must refuse it. */
  otherClearance(): ScreeningCleared {
    const other = PROTOCOLS.find((p) => p.id !== this.protocol.id)!;
    return clearedFor(other);
  }

  /** A new prepared session: phases start again at the first. */
  preparedSession(): void {
    this.#phaseFloor = 0;
    this.screened = false;
  }

  // ---- time --------------------------------------------------------------------------------------

  /** Drain every promise chain that can run now (the microtask queue empties before a macrotask). */
  async drain(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** One step of virtual time (at most 10 ms), then drain, then sample. */
  async step(ms: number): Promise<void> {
    this.h.scheduler.advanceTo(this.now + ms);
    await this.drain();
    this.sample(true);
  }

  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    while (this.now < end) await this.step(Math.min(10, end - this.now));
  }

  /** Track a call that may still be running; advance time until it settles (at most `limitMs`). */
  async drive<T>(p: Promise<T>, limitMs = 5000): Promise<{ done: true; value: T } | { done: false }> {
    let result: { done: true; value: T } | { done: false } = { done: false };
    const tracked = p.then(
      (value) => {
        result = { done: true, value };
      },
      (e: unknown) => {
        this.violation(`a runner call rejected: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      },
    );
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
    await this.drain();
    const end = this.now + limitMs;
    while (!result.done && this.#pending.has(tracked) && this.now < end) await this.step(10);
    return result;
  }

  /** Track a call without waiting for it. */
  fire(p: Promise<unknown>): void {
    const tracked = p.then(
      () => undefined,
      (e: unknown) => this.violation(`a runner call rejected: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
    );
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }

  /** Let every call still in flight finish (time runs), then take a final sample. */
  async finish(): Promise<void> {
    const end = this.now + 10_000;
    await this.drain();
    while (this.#pending.size > 0 && this.now < end) await this.step(10);
    if (this.#pending.size > 0) this.violation(`${this.#pending.size} runner call(s) still unsettled 10 s after the last command`);
    await this.advance(50);
    const c = this.coverage;
    c.runs++;
    if (this.#sawOutput) c.runsWithOutput++;
    if (this.#sawPhase2) c.runsWithPhaseChange++;
    if (this.h.states.includes('completed')) c.runsCompleted++;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.h.dispose();
  }

  // ---- what the device sees -----------------------------------------------------------------------

  #channel(ch: number): ChannelWatch {
    let w = this.#channels.get(ch);
    if (!w) {
      w = { rule: undefined, cmdUa: 0, cmdAt: 0, sampledUa: 0, sampledAt: this.now };
      this.#channels.set(ch, w);
    }
    return w;
  }

  #onHostLine(raw: string): void {
    const d = decodeRequest(raw);
    if (!d.ok) {
      this.violation(`the host sent a line the device cannot decode: ${raw} (${d.error.code})`);
      return;
    }
    this.#onRequest(d.message);
  }

  #onRequest(r: HostToDevice): void {
    const now = this.now;
    if (r.verb === 'SET') {
      this.coverage.setsSeen++;
      const a = r.args;
      const rule = this.rules.find((x) => x.index >= this.#phaseFloor && matches(x, a));
      if (!rule) {
        this.violation(`SET with parameters of no remaining phase of ${this.protocol.id}: ${JSON.stringify(a)}`);
        return;
      }
      this.#phaseFloor = rule.index;
      if (rule.index > 0) this.#sawPhase2 = true;
      if (a.amp > rule.maxUa) this.violation(`SET ch${a.ch} amp ${a.amp} uA above maxMa ${rule.maxUa} uA of phase ${rule.index}`);
      if (a.ramp > rule.rampUaPerS) this.violation(`SET ch${a.ch} ramp ${a.ramp} uA/s above ${rule.rampUaPerS} uA/s`);
      if (a.dur > rule.durS) this.violation(`SET ch${a.ch} dur ${a.dur} s above the phase's ${rule.durS} s`);
      this.#channel(a.ch).rule = rule;
    } else if (r.verb === 'START') {
      const w = this.#channel(r.args.ch);
      if (!this.screened) this.violation(`START ch${r.args.ch} before a screening cleared this session`);
      if (this.deviceLatched) this.coverage.startWhileDeviceLatched++;
      w.cmdUa = 0;
      w.cmdAt = now;
    } else if (r.verb === 'AMP') {
      this.coverage.ampsSeen++;
      const { ch, amp } = r.args;
      const w = this.#channel(ch);
      if (!this.screened) this.violation(`AMP ch${ch} ${amp} uA before a screening cleared this session`);
      if (!w.rule) {
        this.violation(`AMP ch${ch} ${amp} uA on a channel with no program of this protocol`);
        return;
      }
      if (amp > w.rule.maxUa) this.violation(`AMP ch${ch} ${amp} uA above maxMa ${w.rule.maxUa} uA of phase ${w.rule.index}`);
      const allowed = w.cmdUa + (w.rule.rampUaPerS * (now - w.cmdAt)) / 1000 + TOLERANCE_UA;
      if (amp > allowed) {
        this.violation(`AMP ch${ch} rises ${w.cmdUa} -> ${amp} uA in ${now - w.cmdAt} ms: faster than ${w.rule.rampUaPerS} uA/s (at most ${Math.floor(allowed)} uA)`);
      }
      w.cmdUa = amp;
      w.cmdAt = now;
    }
    // Every other request (HELLO, STOP, ESTOP, CLEAR, HB, STATUS, IMP) causes no current.
  }

  #onSimEvent(e: SimEvent): void {
    switch (e.event) {
      case 'output': {
        if (!e.on) return;
        const w = this.#channel(e.channel);
        if (e.amplitudeMa > 0) this.#sawOutput = true;
        if (this.deviceLatched) this.violation(`output on ch${e.channel} (${e.amplitudeMa} mA) while the device is latched`);
        if (!this.screened) this.violation(`output on ch${e.channel} (${e.amplitudeMa} mA) before a screening cleared this session`);
        if (w.rule && Math.round(e.amplitudeMa * 1000) > w.rule.maxUa) this.violation(`output ch${e.channel} at ${e.amplitudeMa} mA above maxMa`);
        return;
      }
      case 'estop':
        this.deviceLatched = true;
        return;
      case 'clear':
        this.deviceLatched = false;
        return;
      case 'fault':
        if (e.channel === 0) this.deviceLatched = true;
        return;
      case 'boot':
        this.deviceLatched = false;
        return;
      case 'watchdog':
      case 'done':
      case 'rejected':
        return;
    }
  }

  /**
   * Look at the device's state now. `settled`: promise chains have drained, so the runner's state
   * must agree with the device's (no output unless the runner is delivering a session).
   */
  sample(settled: boolean): void {
    const snap = this.h.sim.snapshot();
    const now = this.now;
    this.coverage.samples++;
    for (const c of snap.channels) {
      const w = this.#channel(c.channel);
      const on = c.state === 'ON';
      if (on) {
        if (snap.latched) this.violation(`ch${c.channel} ON at ${c.setpointUa} uA while the device is latched`);
        if (!this.screened) this.violation(`ch${c.channel} ON before a screening cleared this session`);
        const rule = c.program ? this.rules.find((x) => matches(x, c.program!)) : undefined;
        if (!rule) this.violation(`ch${c.channel} ON with a program of no phase: ${JSON.stringify(c.program)}`);
        const limit = rule ?? w.rule;
        if (limit) {
          if (c.setpointUa > limit.maxUa) this.violation(`ch${c.channel} set point ${c.setpointUa} uA above maxMa ${limit.maxUa} uA`);
          const dt = now - w.sampledAt;
          if (c.setpointUa - w.sampledUa > (limit.rampUaPerS * dt) / 1000 + TOLERANCE_UA) {
            this.violation(`ch${c.channel} set point rose ${w.sampledUa} -> ${c.setpointUa} uA in ${dt} ms: faster than ${limit.rampUaPerS} uA/s`);
          }
        }
        if (c.measuredUa > c.setpointUa) this.violation(`ch${c.channel} delivers ${c.measuredUa} uA above its set point ${c.setpointUa} uA`);
        if (settled && !OUTPUT_STATES.has(this.h.runner.state)) {
          this.violation(`ch${c.channel} ON at ${c.setpointUa} uA while the runner is ${this.h.runner.state}`);
        }
      }
      w.sampledUa = on ? c.setpointUa : 0;
      w.sampledAt = now;
    }
  }
}
