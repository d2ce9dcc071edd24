/**
 * Model-based sequence tests (issue 6, §2 "Sequences"): fast-check generates random sequences of
 * the calls a clinician's UI makes on the SessionRunner (connect, prepare + screening, start,
 * titrate ±0.1/±0.5, pause, resume, stop, e-stop, clear, new session, disconnect, re-check of the
 * electrodes), interleaved with time passing and a few device faults, against the in-process
 * simulator on virtual time. Calls are awaited, or left in flight (the next call overtakes them),
 * so e-stops and pauses land in the middle of staging and ramping.
 *
 * Every property is judged from the SIMULATOR's side (see sequence-world.ts): it never receives a
 * frequency, pulse width or waveform other than the protocol's, never an amplitude above the
 * phase's maxMa, never a commanded rise faster than min(1 mA/s, the protocol's ramp); its output
 * never rises faster than that, is never on while latched or before a screening cleared, and is
 * never on while the runner says no session is delivering it; an e-stop ends output before the
 * call returns.
 *
 * 200+ runs in CI, 4000+ in long mode (EDN_LONG=1). Seed: EDN_SEQ_SEED (printed in the failure
 * message by fast-check, together with the shrunk sequence).
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { Protocol } from '../../src/domain/protocols/derive.js';
import type { SessionState } from '../../src/session/states.js';
import { DENSE_DISPERSE, KNEE, TWO_PHASE, type Coverage, World, newCoverage } from './sequence-world.js';
import { LONG, envInt, sized, timeoutMs } from './mode.js';

const SEED = envInt('EDN_SEQ_SEED', 0x5e9);
const RUNS = envInt('EDN_SEQ_RUNS', sized(210, 4200));

/** How a call is made: awaited while time runs, settled (microtasks only), or fired and overtaken. */
type Mode = 'await' | 'settle' | 'fire';

type Action =
  | { kind: 'connect' }
  | { kind: 'prepare'; screen: 'this' | 'another' | 'none' }
  | { kind: 'screening'; right: boolean }
  | { kind: 'checkElectrodes' }
  | { kind: 'start'; percentOfMax: number }
  | { kind: 'titrate'; deltaMa: number; channel: number | undefined }
  | { kind: 'pause' }
  | { kind: 'resume' }
  | { kind: 'stop' }
  | { kind: 'estop' }
  | { kind: 'clear' }
  | { kind: 'newSession' }
  | { kind: 'disconnect' }
  | { kind: 'advance'; ms: number }
  | { kind: 'newPatient'; percentOfMax: number }
  | { kind: 'fault'; fault: 'open' | 'overcurrent' | 'reboot'; channel: number };

interface Model {
  steps: number;
  /** The runner's state after the last step: used only to steer generation toward deep states. */
  state: SessionState;
}

/**
 * Where each call is legal (the runner's own rules, SessionRunner#require). Steps are mostly drawn
 * legal so that runs get deep (output, phase changes, completion); one in eight is made regardless,
 * to check that illegal calls change nothing.
 */
const LEGAL: Partial<Record<Action['kind'], readonly SessionState[]>> = {
  connect: ['idle', 'aborted'],
  prepare: ['ready'],
  screening: ['screening'],
  checkElectrodes: ['checking-electrodes'],
  start: ['checking-electrodes'],
  titrate: ['ramping', 'running'],
  pause: ['ramping', 'running'],
  resume: ['paused'],
  stop: ['ramping', 'running', 'paused'],
  clear: ['stopped', 'aborted', 'ready', 'completed'],
  newSession: ['completed', 'stopped', 'aborted'],
  disconnect: ['ready', 'screening', 'checking-electrodes', 'completed', 'stopped', 'aborted'],
};

function describeAction(a: Action): string {
  switch (a.kind) {
    case 'prepare':
      return `prepare(${a.screen === 'none' ? '' : `+screening for ${a.screen === 'this' ? 'this' : 'ANOTHER'} protocol`})`;
    case 'screening':
      return `submitScreening(${a.right ? 'this protocol' : 'ANOTHER protocol'})`;
    case 'start':
      return `start(${a.percentOfMax}% of maxMa)`;
    case 'titrate':
      return `titrate(${a.deltaMa > 0 ? '+' : ''}${a.deltaMa}${a.channel === undefined ? '' : `, ch${a.channel}`})`;
    case 'advance':
      return `+${a.ms} ms`;
    case 'newPatient':
      return `newPatient(start at ${a.percentOfMax}% of maxMa)`;
    case 'fault':
      return `fault(${a.fault}${a.fault === 'open' ? ` ch${a.channel}` : ''})`;
    case 'connect':
    case 'checkElectrodes':
    case 'pause':
    case 'resume':
    case 'stop':
    case 'estop':
    case 'clear':
    case 'newSession':
    case 'disconnect':
      return `${a.kind}()`;
  }
}

class Step implements fc.AsyncCommand<Model, World> {
  constructor(
    readonly action: Action,
    readonly mode: Mode,
    /** Made even where the runner should refuse it. */
    readonly regardless: boolean,
  ) {}

  check(m: Readonly<Model>): boolean {
    const legal = LEGAL[this.action.kind];
    return this.regardless || legal === undefined || legal.includes(m.state);
  }

  toString(): string {
    return this.action.kind === 'advance' ? describeAction(this.action) : `${describeAction(this.action)}[${this.mode}${this.regardless ? ', regardless' : ''}]`;
  }

  async run(m: Model, w: World): Promise<void> {
    m.steps++;
    await this.#act(w);
    m.state = w.h.runner.state;
    w.note(this.toString());
    if (this.mode !== 'fire') w.sample(true);
    w.assertNoViolations();
  }

  /** Run the call in this step's mode. */
  async #call<T>(w: World, p: Promise<T>, then?: (value: T) => void): Promise<void> {
    if (this.mode === 'await') {
      const r = await w.drive(p);
      if (r.done) then?.(r.value);
      return;
    }
    w.fire(then ? p.then(then) : p);
    if (this.mode === 'settle') await w.drain();
  }

  async #act(w: World): Promise<void> {
    const a = this.action;
    const runner = w.h.runner;
    switch (a.kind) {
      case 'connect':
        return this.#call(w, runner.connect(), (r) => {
          if (r.ok) w.screened = false;
        });
      case 'prepare': {
        const r = runner.prepare({ protocol: w.protocol });
        if (r.ok) w.preparedSession();
        if (r.ok && a.screen !== 'none') return this.#screen(w, a.screen === 'this');
        return;
      }
      case 'screening':
        return this.#screen(w, a.right);
      case 'checkElectrodes':
        return this.#call(w, runner.checkElectrodes());
      case 'start': {
        const maxMa = w.protocol.phases[0]!.amplitude.maxMa;
        const targetMa = Math.round((maxMa * a.percentOfMax) / 10) / 10;
        return this.#call(w, runner.start({ targetMa }), (r) => {
          if (!r.ok && r.error.code === 'LimitExceeded' && targetMa > maxMa) w.coverage.startsRefusedAboveMax++;
          if (r.ok && targetMa > maxMa + 1e-9) w.violation(`start(${targetMa} mA) accepted above the first phase's maxMa ${maxMa} mA`);
        });
      }
      case 'titrate': {
        const r = runner.titrate(a.deltaMa, a.channel);
        if (r.ok) w.coverage.titrationsAccepted++;
        else w.coverage.titrationsRefused++;
        if (this.mode !== 'fire') await w.drain();
        return;
      }
      case 'pause': {
        const on = w.h.output().length > 0;
        await this.#call(w, runner.pause(), (r) => {
          if (r.ok && on) w.coverage.pausesDuringOutput++;
        });
        return;
      }
      case 'resume':
        return this.#call(w, runner.resume());
      case 'stop':
        return this.#call(w, runner.stop());
      case 'estop': {
        const on = w.h.output().length > 0;
        const p = runner.estop('sequence test');
        // The e-stop path never waits: by the time the call returns, output is off and latched.
        const snap = w.h.sim.snapshot();
        if (!snap.latched) w.violation('the device is not latched when estop() returns');
        for (const c of snap.channels) if (c.state === 'ON') w.violation(`ch${c.channel} still ON when estop() returns`);
        if (on) w.coverage.estopsDuringOutput++;
        return this.#call(w, p);
      }
      case 'clear':
        return this.#call(w, runner.clear());
      case 'newSession': {
        const r = runner.newSession();
        if (r.ok) w.preparedSession();
        if (this.mode !== 'fire') await w.drain();
        return;
      }
      case 'disconnect': {
        const r = runner.disconnect();
        if (r.ok) w.screened = false;
        if (this.mode !== 'fire') await w.drain();
        return;
      }
      case 'advance':
        return w.advance(a.ms);
      case 'newPatient':
        return this.#newPatient(w, a.percentOfMax);
      case 'fault': {
        const sim = w.h.sim;
        if (a.fault === 'open') {
          // A clip falls off for a moment: the device faults the channel; the load comes back.
          const nominal = sim.snapshot().channels[a.channel - 1]!.loadOhms;
          sim.setLoad(a.channel, 'OPEN');
          sim.runAfter(200, () => sim.setLoad(a.channel, nominal === 'OPEN' ? 1500 : nominal));
        } else if (a.fault === 'overcurrent') sim.overcurrent();
        else sim.reboot();
        if (this.mode !== 'fire') await w.drain();
        return;
      }
    }
  }

  /**
   * What a clinician does to get from wherever the runner is to output on: connect, clear a latched
   * stop, close the old session, prepare, screen, start. Each call awaited; stops at a refusal.
   */
  async #newPatient(w: World, percentOfMax: number): Promise<void> {
    const runner = w.h.runner;
    for (let i = 0; i < 8; i++) {
      const state = runner.state;
      if (state === 'idle' || (state === 'aborted' && (w.h.client.failure !== undefined || !w.h.client.info))) {
        const r = await w.drive(runner.connect());
        if (!r.done || !r.value.ok) return;
        w.screened = false;
      } else if ((state === 'stopped' || state === 'aborted' || state === 'completed' || state === 'ready') && w.h.client.latched) {
        const r = await w.drive(runner.clear());
        if (!r.done || !r.value.ok) return;
      } else if (state === 'stopped' || state === 'aborted' || state === 'completed') {
        const r = runner.newSession();
        if (!r.ok) return;
        w.preparedSession();
      } else if (state === 'ready') {
        if (!runner.prepare({ protocol: w.protocol }).ok) return;
        w.preparedSession();
      } else if (state === 'screening') {
        await this.#screen(w, true, 'await');
      } else if (state === 'checking-electrodes') {
        const maxMa = w.protocol.phases[0]!.amplitude.maxMa;
        await w.drive(runner.start({ targetMa: Math.round((maxMa * percentOfMax) / 10) / 10 }));
        return;
      } else return; // output already on, or paused: nothing to do
    }
  }

  /** Submit a screening; only a clearance for THIS protocol may take the runner past 'screening'. */
  async #screen(w: World, right: boolean, mode: Mode = this.mode): Promise<void> {
    const runner = w.h.runner;
    const before = runner.state;
    const p = runner.submitScreening(right ? w.clearance() : w.otherClearance());
    // The screening is accepted or refused synchronously; the electrode check follows.
    const accepted = before === 'screening' && runner.state !== 'screening';
    if (accepted && !right) w.violation('a screening for another protocol was accepted');
    if (right && accepted) w.screened = true;
    if (!accepted && !right && before === 'screening') w.coverage.screeningsRefused++;
    if (mode === 'await') {
      await w.drive(p);
      return;
    }
    return this.#call(w, p);
  }
}

// ---- arbitraries ------------------------------------------------------------------------------------

const mode = fc.constantFrom<Mode>('await', 'await', 'await', 'settle', 'fire');

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: 'connect' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('prepare' as const), screen: fc.constantFrom<'this' | 'another' | 'none'>('this', 'this', 'this', 'another', 'none') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('screening' as const), right: fc.constantFrom(true, true, true, false) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'checkElectrodes' as const }) },
  // A target of 0..120% of the first phase's maxMa (rounded to 0.1 mA): about 1 in 6 is above it.
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('start' as const), percentOfMax: fc.integer({ min: 0, max: 120 }) }) },
  {
    weight: 7,
    arbitrary: fc.record({
      kind: fc.constant('titrate' as const),
      deltaMa: fc.constantFrom(0.1, 0.5, -0.1, -0.5, 0.1, 0.5, 0.3),
      channel: fc.constantFrom(undefined, undefined, 1, 2, 3),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'pause' as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'resume' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'stop' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'estop' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'clear' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'newSession' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'disconnect' as const }) },
  {
    weight: 8,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(10, 40, 100, 250, 250, 600, 1200, 3000, 3000, 8000, 16000) }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('newPatient' as const), percentOfMax: fc.integer({ min: 5, max: 100 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('fault' as const), fault: fc.constantFrom<'open' | 'overcurrent' | 'reboot'>('open', 'open', 'overcurrent', 'reboot'), channel: fc.constantFrom(1, 2) }),
  },
);

const steps = fc.commands([fc.tuple(action, mode, fc.integer({ min: 0, max: 7 })).map(([a, m, r]) => new Step(a, m, r === 0))], { maxCommands: 80, size: 'large' });

/** Where a run begins: nothing done, connected, or screened and ready to start. */
type Prefix = 'none' | 'connected' | 'screened';

async function begin(w: World, prefix: Prefix): Promise<void> {
  if (prefix === 'none') return;
  const c = await w.drive(w.h.runner.connect());
  if (!c.done || !c.value.ok) throw new Error('connect failed in the prefix');
  w.note('connect() [prefix]');
  if (prefix === 'connected') return;
  if (!w.h.runner.prepare({ protocol: w.protocol }).ok) throw new Error('prepare failed in the prefix');
  w.preparedSession();
  const p = w.h.runner.submitScreening(w.clearance());
  w.screened = true;
  const s = await w.drive(p);
  if (!s.done || !s.value.ok) throw new Error('screening failed in the prefix');
  w.note('prepare+screening [prefix]');
}

async function runOne(protocol: Protocol, prefix: Prefix, cmds: Iterable<fc.AsyncCommand<Model, World>>, coverage: Coverage): Promise<void> {
  const w = new World(protocol, coverage);
  try {
    await begin(w, prefix);
    await fc.asyncModelRun(() => ({ model: { steps: 0, state: w.h.runner.state }, real: w }), cmds);
    await w.finish();
    w.assertNoViolations();
    w.dispose(); // also fails if the runner wrote a record the journal would refuse
  } finally {
    // EDN_SEQ_LOG=path: append every run's steps (for studying what the campaign reaches).
    if (process.env.EDN_SEQ_LOG) appendFileSync(process.env.EDN_SEQ_LOG, `--- ${protocol.id}, prefix ${prefix}\n${w.log.join('\n')}\n`);
    w.dispose();
  }
}

// ---- the tests --------------------------------------------------------------------------------------

const SHORT_RUNS = Math.ceil((RUNS * 2) / 3);
const KNEE_RUNS = RUNS - SHORT_RUNS;
const report: Record<string, unknown> = { seed: SEED, runs: RUNS, long: LONG };

/** Run the campaign; afterwards check it reached what its properties are about (it is not vacuous). */
async function campaign(name: string, protocols: readonly Protocol[], runs: number, seed: number): Promise<Coverage> {
  const c = newCoverage();
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...protocols.map((p) => p.id)),
      fc.constantFrom<Prefix>('none', 'connected', 'screened', 'screened', 'screened'),
      steps,
      (id, prefix, cmds) => runOne(protocols.find((p) => p.id === id)!, prefix, cmds, c),
    ),
    { numRuns: runs, seed },
  );
  report[name] = { ...c, statesVisited: [...c.statesVisited].sort() };
  expect(c.runs).toBe(runs);
  for (const s of ['ready', 'screening', 'checking-electrodes', 'ramping', 'running', 'paused', 'stopped', 'aborted']) {
    expect(c.statesVisited.has(s), `state ${s} visited`).toBe(true);
  }
  expect(c.runsWithOutput, 'runs with output on').toBeGreaterThan(runs / 4);
  expect(c.estopsDuringOutput, 'e-stops during output').toBeGreaterThan(runs / 20);
  expect(c.pausesDuringOutput, 'pauses during output').toBeGreaterThan(0);
  expect(c.titrationsAccepted, 'titrations accepted').toBeGreaterThan(runs);
  expect(c.startsRefusedAboveMax, 'starts refused above maxMa').toBeGreaterThan(0);
  expect(c.screeningsRefused, 'screenings for another protocol refused').toBeGreaterThan(0);
  expect(c.ampsSeen, 'AMP commands seen by the device').toBeGreaterThan(runs);
  return c;
}

describe('model-based sequences against the simulator (virtual time)', () => {
  it(
    `${SHORT_RUNS} random sequences on short two-phase and dense-disperse protocols: nothing beyond a limit reaches the device`,
    async () => {
      const c = await campaign('short', [TWO_PHASE, DENSE_DISPERSE], SHORT_RUNS, SEED);
      expect(c.runsWithPhaseChange, 'runs that reached a second phase').toBeGreaterThan(0);
      expect(c.runsCompleted, 'runs that completed').toBeGreaterThan(0);
      expect(c.statesVisited.has('ramping-down') && c.statesVisited.has('completed')).toBe(true);
    },
    timeoutMs(120_000),
  );

  it(
    `${KNEE_RUNS} random sequences on the 20-minute knee protocol: nothing beyond a limit reaches the device`,
    async () => {
      await campaign('knee', [KNEE], KNEE_RUNS, SEED + 1);
    },
    timeoutMs(120_000),
  );
});

afterAll(() => {
  const dir = fileURLToPath(new URL('../../test-results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}sequence-coverage.json`, `${JSON.stringify(report, null, 2)}\n`);
});
