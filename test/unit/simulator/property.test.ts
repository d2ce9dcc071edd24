// Property: no sequence of host commands (valid or not, in range or not), time steps and electrode
// faults makes the simulator output beyond its own limits, rise faster than its ramp, have output
// while latched, or keep output on past its watchdog window.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeDeviceLine, encode, frame, type Request, type SetArgs } from '../../../firmware-protocol/index.js';
import { SimulatedStimulator, type DeviceLimits, type SimulatorSnapshot } from '../../../src/simulator/index.js';
import { ManualScheduler } from '../../support/virtual-time.js';

type Action =
  | { readonly kind: 'request'; readonly request: Omit<Request, 'seq'> }
  /** SET then START on the same channel: most random SETs must be followed by a START to matter. */
  | { readonly kind: 'go'; readonly args: SetArgs }
  | { readonly kind: 'raw'; readonly text: string }
  | { readonly kind: 'retry' }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'load'; readonly ch: number; readonly ohms: number | 'OPEN' }
  | { readonly kind: 'fault'; readonly which: 'reboot' | 'overcurrent' | 'cable' | 'drop' | 'delay' };

/** A value inside [lo, hi] most of the time; otherwise anything the codec can carry, or just outside. */
const around = (lo: number, hi: number, codecMin: number, codecMax: number) =>
  fc.oneof(
    { weight: 16, arbitrary: fc.integer({ min: lo, max: hi }) },
    { weight: 1, arbitrary: fc.integer({ min: codecMin, max: codecMax }) },
    { weight: 1, arbitrary: fc.constantFrom(lo - 1 >= codecMin ? lo - 1 : lo, hi + 1 <= codecMax ? hi + 1 : hi) },
  );

const ch = fc.integer({ min: 1, max: 5 });
/** Small amplitudes often (so slews finish), the whole range sometimes. */
const amplitude = fc.oneof(fc.integer({ min: 0, max: 1500 }), around(0, 20_000, 0, 100_000));
const f = around(1000, 150_000, 1, 1_000_000);
const common = {
  ch,
  pw: around(50, 600, 1, 10_000),
  wf: fc.constantFrom('SYM' as const, 'ASYM' as const),
  amp: amplitude,
  dur: fc.oneof(fc.integer({ min: 1, max: 3 }), around(1, 3600, 1, 86_400)),
  ramp: around(1, 1000, 1, 100_000),
};
const setArgs: fc.Arbitrary<SetArgs> = fc.oneof(
  fc.record({ ...common, mode: fc.constant('CONT' as const), f }),
  fc.record({ ...common, mode: fc.constant('DD' as const), f, f2: f, dwell: fc.integer({ min: 100, max: 60_000 }) }),
  fc.record({ ...common, mode: fc.constant('BURST' as const), f, f2: f, n: fc.integer({ min: 1, max: 100 }) }),
);

/** A program inside the default limits (a custom qmax, amax or slew may still refuse it). */
const inRange = {
  ch: fc.integer({ min: 1, max: 4 }),
  pw: fc.integer({ min: 50, max: 600 }),
  wf: fc.constantFrom('SYM' as const, 'ASYM' as const),
  amp: fc.integer({ min: 0, max: 3000 }),
  dur: fc.integer({ min: 1, max: 30 }),
  ramp: fc.integer({ min: 1, max: 1000 }),
};
const validSet: fc.Arbitrary<SetArgs> = fc.oneof(
  fc.record({ ...inRange, mode: fc.constant('CONT' as const), f: fc.integer({ min: 1000, max: 150_000 }) }),
  fc.record({ ...inRange, mode: fc.constant('DD' as const), f: fc.integer({ min: 1000, max: 10_000 }), f2: fc.integer({ min: 10_000, max: 150_000 }), dwell: fc.integer({ min: 100, max: 3000 }) }),
  fc.record({ ...inRange, mode: fc.constant('BURST' as const), f: fc.integer({ min: 1000, max: 5000 }), f2: fc.integer({ min: 100_000, max: 150_000 }), n: fc.integer({ min: 1, max: 19 }) }),
);

const request: fc.Arbitrary<Omit<Request, 'seq'>> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ vmin: fc.constantFrom(1, 2), span: fc.integer({ min: 0, max: 2 }) }).map(({ vmin, span }) => ({ type: 'request' as const, verb: 'HELLO' as const, args: { vmin, vmax: vmin + span } })) },
  { weight: 3, arbitrary: setArgs.map((args) => ({ type: 'request' as const, verb: 'SET' as const, args })) },
  { weight: 3, arbitrary: ch.map((c) => ({ type: 'request' as const, verb: 'START' as const, args: { ch: c } })) },
  { weight: 5, arbitrary: fc.record({ ch, amp: amplitude }).map((args) => ({ type: 'request' as const, verb: 'AMP' as const, args })) },
  { weight: 1, arbitrary: fc.option(ch, { nil: undefined }).map((c) => ({ type: 'request' as const, verb: 'STOP' as const, args: c === undefined ? {} : { ch: c } })) },
  { weight: 1, arbitrary: fc.constant({ type: 'request' as const, verb: 'ESTOP' as const, args: {} }) },
  { weight: 2, arbitrary: fc.constant({ type: 'request' as const, verb: 'CLEAR' as const, args: {} }) },
  { weight: 10, arbitrary: fc.constant({ type: 'request' as const, verb: 'HB' as const, args: {} }) },
  { weight: 1, arbitrary: fc.constant({ type: 'request' as const, verb: 'STATUS' as const, args: {} }) },
  { weight: 1, arbitrary: ch.map((c) => ({ type: 'request' as const, verb: 'IMP' as const, args: { ch: c } })) },
);

const raw = fc.oneof(
  fc.string({ maxLength: 60 }).map((s) => `${s}\n`),
  fc.constantFrom(`${frame('1 AMP ch=1 amp=999999')}\n`, `${frame('2 SET ch=1')}\n`, '3 START ch=1 *0000\n', `${frame('4 START ch=1')}X\n`, `${'A'.repeat(400)}\n`),
);

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 12, arbitrary: request.map((r) => ({ kind: 'request' as const, request: r })) },
  { weight: 2, arbitrary: setArgs.map((args) => ({ kind: 'go' as const, args })) },
  { weight: 4, arbitrary: validSet.map((args) => ({ kind: 'go' as const, args })) },
  { weight: 1, arbitrary: raw.map((text) => ({ kind: 'raw' as const, text })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'retry' as const }) },
  {
    weight: 8,
    arbitrary: fc
      .oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 300 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 1200 }) })
      .map((ms) => ({ kind: 'advance' as const, ms })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ ch: fc.integer({ min: 1, max: 4 }), ohms: fc.oneof(fc.constant('OPEN' as const), fc.integer({ min: 0, max: 100_000 }), fc.constant(1500)) })
      .map(({ ch: c, ohms }) => ({ kind: 'load' as const, ch: c, ohms })),
  },
  { weight: 1, arbitrary: fc.constantFrom('reboot', 'overcurrent', 'cable', 'drop', 'delay').map((which) => ({ kind: 'fault' as const, which })) },
);

/** true nine times in ten. */
const mostly = fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });

const deviceLimits: fc.Arbitrary<Partial<DeviceLimits>> = fc.record({
  qmax: fc.constantFrom(12_000, 3_000),
  amax: fc.constantFrom(20_000, 8_000),
  slew: fc.constantFrom(1000, 250),
});

/**
 * Every way snapshot `s` breaks the device's limits (empty when none). Plain checks rather than
 * `expect` calls: this runs on every tick of every run, and fast-check reports the thrown message.
 */
function violations(s: SimulatorSnapshot, L: DeviceLimits): string[] {
  const out: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) out.push(what);
  };
  for (const c of s.channels) {
    const at = `t=${s.nowMs} ch${c.channel}`;
    check(!(s.latched && c.state === 'ON'), `${at}: output while latched`);
    if (c.state !== 'ON') {
      check(c.setpointUa === 0 && c.measuredUa === 0, `${at}: current while ${c.state}`);
      continue;
    }
    check(s.hostSession, `${at}: output without a host session`);
    const p = c.program;
    if (!p) {
      out.push(`${at}: ON without a program`);
      continue;
    }
    check(p.f >= L.fmin && p.f <= L.fmax, `${at}: f ${p.f}`);
    if (p.mode !== 'CONT') check(p.f2 >= L.fmin && p.f2 <= L.fmax, `${at}: f2 ${p.f2}`);
    if (p.mode === 'BURST') check(p.n * p.f < p.f2, `${at}: burst ${p.n} x ${p.f} does not fit ${p.f2}`);
    check(p.pw >= L.pwmin && p.pw <= L.pwmax, `${at}: pw ${p.pw}`);
    check(p.amp >= L.amin && p.amp <= L.amax, `${at}: program amp ${p.amp}`);
    check(p.dur >= 1 && p.dur <= L.tmax, `${at}: dur ${p.dur}`);
    check(p.ramp >= 1 && p.ramp <= L.slew, `${at}: ramp ${p.ramp}`);
    check(p.amp * p.pw <= L.qmax * 1000, `${at}: program charge ${p.amp} x ${p.pw}`);
    check(c.targetUa <= L.amax, `${at}: target ${c.targetUa}`);
    check(c.targetUa * p.pw <= L.qmax * 1000, `${at}: target charge ${c.targetUa} x ${p.pw}`);
    check(c.setpointUa >= 0 && c.setpointUa <= c.targetUa, `${at}: set point ${c.setpointUa} beyond target ${c.targetUa}`);
    check(c.measuredUa >= 0 && c.measuredUa <= c.setpointUa, `${at}: measured ${c.measuredUa} above set point ${c.setpointUa}`);
  }
  check(s.rxBufferedBytes <= 256, `receive buffer ${s.rxBufferedBytes} bytes`);
  return out;
}

describe('safety properties of the simulated stimulator', () => {
  it('never outputs beyond its limits, never rises faster than the ramp, never has output while latched', () => {
    fc.assert(
      fc.property(deviceLimits, mostly, fc.array(action, { minLength: 1, maxLength: 30, size: 'max' }), fc.nat(), (overrides, hello, rest, seed) => {
        // Most runs open a session first, so that output actually happens.
        const actions: Action[] = hello ? [{ kind: 'request', request: { type: 'request', verb: 'HELLO', args: { vmin: 1, vmax: 1 } } }, ...rest] : rest;
        const scheduler = new ManualScheduler();
        const sim = new SimulatedStimulator({ scheduler, seed, limits: overrides });
        const L = sim.limits;
        let prev = sim.snapshot();
        let lastLine = '';
        /** When the device last received a valid frame (every encoded request is one, unless the cable is out). */
        let lastFeed = -Infinity;
        let pulled = false;
        const deliver = (line: string): void => {
          sim.receive(line);
          if (!pulled) lastFeed = scheduler.now();
        };
        let seq = 0;
        const tx: string[] = [];
        sim.onTransmit((chunk) => tx.push(chunk));
        sim.start();

        const sample = (): void => {
          const s = sim.snapshot();
          const problems = violations(s, L);
          const dt = s.nowMs - prev.nowMs;
          s.channels.forEach((c, i) => {
            const rise = c.setpointUa - (prev.channels[i]?.setpointUa ?? 0);
            // The set point is whole µA: over dt it may rise by ramp x dt rounded up, never more.
            const allowed = Math.ceil((Math.min(c.program?.ramp ?? 0, L.slew) * dt) / 1000 - 1e-9);
            if (rise > allowed) problems.push(`t=${s.nowMs} ch${c.channel}: rose ${rise} uA in ${dt} ms (allowed ${allowed})`);
            // The watchdog: no output once wdog + one tick have passed since the last valid frame.
            if (c.state === 'ON' && s.nowMs - lastFeed >= L.wdog + sim.tickMs) problems.push(`t=${s.nowMs} ch${c.channel}: ON ${s.nowMs - lastFeed} ms after the last frame`);
          });
          if (problems.length > 0) throw new Error(problems.join('; '));
          prev = s;
        };

        for (const a of actions) {
          switch (a.kind) {
            case 'request':
              lastLine = `${encode({ ...a.request, seq } as Request)}\n`;
              seq = (seq + 1) % 65536;
              deliver(lastLine);
              break;
            case 'go':
              deliver(`${encode({ type: 'request', seq, verb: 'SET', args: a.args })}\n`);
              seq = (seq + 1) % 65536;
              lastLine = `${encode({ type: 'request', seq, verb: 'START', args: { ch: a.args.ch } })}\n`;
              seq = (seq + 1) % 65536;
              deliver(lastLine);
              break;
            case 'raw':
              sim.receive(a.text);
              break;
            case 'retry':
              if (lastLine) deliver(lastLine);
              break;
            case 'advance': {
              const end = scheduler.now() + a.ms;
              while (scheduler.now() < end) {
                scheduler.advanceTo(Math.min(end, scheduler.now() + sim.tickMs));
                sample();
              }
              break;
            }
            case 'load':
              sim.setLoad(a.ch, a.ohms);
              break;
            case 'fault':
              if (a.which === 'reboot') sim.reboot();
              else if (a.which === 'overcurrent') sim.overcurrent();
              else if (a.which === 'cable') {
                if (pulled) sim.reconnectCable();
                else sim.cablePull();
                pulled = !pulled;
              } else if (a.which === 'drop') sim.dropReplies(1);
              else sim.delayReplies(sim.snapshot().link.replyDelayMs > 0 ? 0 : 150);
              break;
          }
          sample();
        }
        // Every line the device wrote is a well-formed frame, and no TEL reports beyond the limits.
        for (const chunk of tx) {
          const d = decodeDeviceLine(chunk.slice(0, -1));
          expect(d.ok, chunk).toBe(true);
          if (d.ok && d.message.type === 'event' && d.message.event === 'TEL') {
            const t = d.message.args;
            expect(t.amp).toBeLessThanOrEqual(L.amax);
            expect(t.i).toBeLessThanOrEqual(t.amp);
          }
        }
        sim.dispose();
        expect(scheduler.pending).toBe(0);
      }),
      { numRuns: 500 },
    );
  });
});
