/**
 * A whole host on virtual time: the in-process simulator, its transport, a device client, a
 * session runner and an in-memory recorder. `run(ms)` advances time in small steps and lets
 * promise chains settle between them, as a real event loop would.
 */
import { Subject } from 'rxjs';
import type { Protocol } from '../../src/domain/protocols/derive.js';
import { builtInProtocol } from '../../src/domain/protocols/library/index.js';
import { type ScreenedProtocol, type ScreeningCleared, evaluateScreening, screeningTemplate } from '../../src/domain/screening.js';
import { DeviceClient } from '../../src/device/client.js';
import { SimulatorTransport } from '../../src/device/sim-transport.js';
import { DATA_SCHEMAS, isRecordType } from '../../src/session/journal-records.js';
import type { RecorderFactory, SessionRecorder } from '../../src/session/recorder.js';
import { SessionRunner } from '../../src/session/runner.js';
import type { SessionState } from '../../src/session/states.js';
import { SimulatedStimulator, type SimEvent, type SimulatorOptions } from '../../src/simulator/index.js';
import { TapTransport } from './tap-transport.js';
import { ManualScheduler, settle } from './virtual-time.js';

/**
 * An in-memory recorder that checks every record against the journal's schemas, so every runner
 * test also shows the runner writes records the journal accepts (`invalid` must stay empty).
 */
export class MemoryRecorder implements SessionRecorder {
  readonly records: { type: string; data: unknown; t: number }[] = [];
  readonly invalid: string[] = [];
  readonly failures$ = new Subject<unknown>();
  failed = false;
  closed = false;
  readonly location = 'memory';
  constructor(private readonly now: () => number) {}
  append(type: string, data: unknown): void {
    if (this.closed) throw new Error(`append(${type}) after close`);
    if (!isRecordType(type)) this.invalid.push(`unknown record type ${type}`);
    else {
      const parsed = DATA_SCHEMAS[type].safeParse(data);
      if (!parsed.success) this.invalid.push(`${type}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    this.records.push({ type, data: structuredClone(data), t: this.now() });
  }
  close(): void {
    this.closed = true;
  }
  ofType(type: string): unknown[] {
    return this.records.filter((r) => r.type === type).map((r) => r.data);
  }
}

export function kneeProtocol(): Protocol {
  const b = builtInProtocol('knee-oa-periosteal');
  if (!b) throw new Error('knee protocol missing from the library');
  return b.protocol;
}

/** A screening with every answer "no", evaluated for `protocol`: the only way to a ScreeningCleared. */
export function clearedFor(protocol: Protocol & ScreenedProtocol, patientRef = 'PT-0001'): ScreeningCleared {
  const template = screeningTemplate(protocol);
  const no = <T extends Record<string, unknown>>(o: T) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? false : v])) as T;
  const answers = { ...template, patientRef, answers: no(template.answers), sites: template.sites.map(no) };
  const outcome = evaluateScreening(answers, { protocol, acknowledgements: [] });
  if (!outcome.ok) throw new Error(`screening did not clear: ${JSON.stringify(outcome.blocking)}`);
  return outcome.cleared;
}

export interface HarnessOptions {
  readonly sim?: Partial<SimulatorOptions>;
  readonly stepMs?: number;
  /**
   * Opens each session's recorder instead of a MemoryRecorder (the fault matrix writes real
   * journals and reads them back); given the scheduler's clock. `recorders` then stays empty.
   */
  readonly recorder?: (now: () => number) => RecorderFactory;
}

export function harness(options: HarnessOptions = {}) {
  const scheduler = new ManualScheduler();
  const sim = new SimulatedStimulator({ scheduler, seed: 7, ...options.sim });
  const simEvents: (SimEvent & { at: number })[] = [];
  sim.onEvent((e) => simEvents.push({ ...e, at: scheduler.now() }));
  sim.start();
  const transport = new SimulatorTransport(sim);
  // Every line the host writes is recorded as it reaches the device (tap.written), and a test can
  // make the device lie by rewriting what it says (tap.rewrite).
  const tap = new TapTransport(transport, () => scheduler.now());
  const client = new DeviceClient({ transport: tap, scheduler });
  const recorders: MemoryRecorder[] = [];
  let sessions = 0;
  const memory: RecorderFactory = () => {
    const r = new MemoryRecorder(() => scheduler.now());
    recorders.push(r);
    return r;
  };
  const open = options.recorder?.(() => scheduler.now()) ?? memory;
  const runner = new SessionRunner({
    client,
    scheduler,
    recorder: (id) => {
      sessions += 1;
      return open(id);
    },
    newSessionId: () => `S${sessions + 1}`,
  });
  const states: SessionState[] = [];
  runner.snapshot$.subscribe((s) => {
    if (states.at(-1) !== s.state) states.push(s.state);
  });
  const stepMs = options.stepMs ?? 10;

  /** Advance virtual time by `ms` in steps, settling promises between steps. */
  async function run(ms: number): Promise<void> {
    const end = scheduler.now() + ms;
    while (scheduler.now() < end) {
      scheduler.advanceTo(Math.min(end, scheduler.now() + stepMs));
      await settle(20);
    }
  }

  /** Advance until `predicate` holds (checked every step), failing after `limitMs`. */
  async function until(predicate: () => boolean, limitMs: number, what: string): Promise<void> {
    const end = scheduler.now() + limitMs;
    while (!predicate()) {
      if (scheduler.now() >= end) throw new Error(`timed out (virtual ${limitMs} ms) waiting for ${what}; state ${runner.state}`);
      scheduler.advanceTo(Math.min(end, scheduler.now() + stepMs));
      await settle(20);
    }
  }

  /** Let a call that awaits device replies finish while time runs. */
  async function call<T>(p: Promise<T>): Promise<T> {
    let done = false;
    let value: T | undefined;
    void p.then((v) => {
      done = true;
      value = v;
    });
    await until(() => done, 5000, 'a call to finish');
    return value as T;
  }

  /** connect, prepare the knee protocol, clear screening, check electrodes. */
  async function ready(protocol: Protocol = kneeProtocol()): Promise<void> {
    const c = await call(runner.connect());
    if (!c.ok) throw new Error(c.error.message);
    const p = runner.prepare({ protocol });
    if (!p.ok) throw new Error(p.error.message);
    const s = await call(runner.submitScreening(clearedFor(protocol)));
    if (!s.ok) throw new Error(s.error.message);
  }

  function dispose(): void {
    const invalid = recorders.flatMap((r) => r.invalid);
    if (invalid.length > 0) throw new Error(`the runner wrote records the journal refuses:\n${invalid.join('\n')}`);
    runner.dispose();
    client.dispose();
    sim.dispose();
  }

  const recorder = () => recorders.at(-1)!;
  const output = () => sim.snapshot().channels.filter((c) => c.state === 'ON' && c.setpointUa > 0);
  return { scheduler, sim, simEvents, transport, tap, client, runner, states, recorders, recorder, output, run, until, call, ready, dispose };
}
