// Tests written against the simulator group's surviving mutants (MUTATION.md, "simulator"): the
// bounds of every compiled limit and the refusals between them, the output-event rate limit, the
// set point after an AMP, frame handling (a tolerated `\r`, `!`-framed garbage, power-off in the
// middle of a chunk), and the SET / START / AMP checks with their whole `msg` text.
import { describe, expect, it } from 'vitest';
import { frame, type ErrReply, type OkReply } from '../../../firmware-protocol/index.js';
import { DEFAULT_LIMITS, resolveLimits, type DeviceLimits } from '../../../src/simulator/index.js';
import { codeOf, eventsOf, makeRig, program, type Rig } from './rig.js';

/** The error `fn` throws (fails the test when it does not throw). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    if (e instanceof Error) return e;
    throw new Error(`threw a non-Error: ${String(e)}`);
  }
  throw new Error('did not throw');
}

/** Advance to `until` in 10 ms steps with an HB every 250 ms, so the watchdog never trips. */
function keepAlive(r: Rig, until: number): void {
  let nextHb = r.scheduler.now() + 250;
  while (r.scheduler.now() < until) {
    r.scheduler.advanceTo(Math.min(until, r.scheduler.now() + 10));
    if (r.scheduler.now() >= nextHb) {
      r.send('HB', {});
      nextHb += 250;
    }
  }
}

/** Output SimEvents of channel 1 as [time, on, mA]. */
function outputs(r: Rig, ch = 1): [number, boolean, number][] {
  return eventsOf(r, 'output')
    .filter((x) => x.e.channel === ch)
    .map((x) => [x.at, x.e.on, x.e.amplitudeMa]);
}

function errOf(reply: OkReply | ErrReply): ErrReply['args'] {
  if (reply.type !== 'err') throw new Error(`expected ERR, got ${JSON.stringify(reply)}`);
  return reply.args;
}

describe('resolveLimits: every compiled limit has a range, edges included', () => {
  // [key, lo, hi, overrides that let both edges stand on their own (the ordered pairs)].
  const table: [keyof DeviceLimits, number, number, Partial<DeviceLimits>][] = [
    ['fmin', 1, 1_000_000, { fmax: 1_000_000 }],
    ['fmax', 1, 1_000_000, { fmin: 1 }],
    ['pwmin', 1, 10_000, { pwmax: 10_000 }],
    ['pwmax', 1, 10_000, { pwmin: 1 }],
    ['amin', 0, 100_000, { amax: 100_000 }],
    ['amax', 0, 100_000, { amin: 0 }],
    ['qmax', 1, 10_000_000, {}],
    ['tmax', 1, 86_400, {}],
    ['vc', 1, 1_000, {}],
    ['wdog', 1, 1_000, {}],
    ['slew', 1, 100_000, {}],
  ];

  for (const [key, lo, hi, partner] of table) {
    it(`${key}: ${lo} and ${hi} are accepted; ${lo - 1}, ${hi + 1} and ${lo + 0.5} are refused naming the key and its range`, () => {
      for (const v of [lo, hi]) {
        const limits = resolveLimits({ ...partner, [key]: v });
        expect(limits[key]).toBe(v);
        expect(Object.isFrozen(limits)).toBe(true);
        if (key !== 'slew') {
          // HELLO reports it verbatim: the upper bounds are what the reply can carry.
          const r = makeRig({ limits: { ...partner, [key]: v } });
          expect(r.hello().args).toMatchObject({ [key]: v });
        }
      }
      for (const v of [lo - 1, hi + 1, lo + 0.5]) {
        const e = thrown(() => resolveLimits({ ...partner, [key]: v }));
        expect(e).toBeInstanceOf(RangeError);
        expect(e.message).toBe(`device limit ${key}=${v} must be an integer in ${lo}..${hi}`);
        expect(() => makeRig({ limits: { ...partner, [key]: v } })).toThrow(e.message);
      }
    });
  }

  it('the defaults need no override and are returned frozen', () => {
    expect(resolveLimits()).toEqual(DEFAULT_LIMITS);
    expect(resolveLimits({})).toEqual(DEFAULT_LIMITS);
    expect(Object.isFrozen(resolveLimits())).toBe(true);
  });

  for (const [lo, hi, value] of [
    ['fmin', 'fmax', 5_000],
    ['pwmin', 'pwmax', 300],
    ['amin', 'amax', 5_000],
  ] as const) {
    it(`${lo} = ${hi} is a device that can exist; ${lo} > ${hi} is refused with both values`, () => {
      expect(resolveLimits({ [lo]: value, [hi]: value })).toMatchObject({ [lo]: value, [hi]: value });
      const e = thrown(() => resolveLimits({ [lo]: value + 1, [hi]: value }));
      expect(e).toBeInstanceOf(RangeError);
      expect(e.message).toBe(`device limit ${lo}=${value + 1} exceeds ${hi}=${value}`);
    });
  }
});

describe('output events: coalesced to one per 100 ms during a slew, and the final value at once', () => {
  it('reports the set point at START, at exactly 100 ms, and when the target is reached 50 ms later', () => {
    const r = makeRig();
    r.hello();
    r.run(1, { amp: 150, ramp: 1_000 }); // 150 µA reached at 150 ms
    keepAlive(r, 400);
    expect(outputs(r)).toEqual([
      [0, true, 0],
      [100, true, 0.1],
      [150, true, 0.15],
    ]);
  });
});

describe('AMP and the set point', () => {
  it('a rising AMP after the ramp ended slews on from the amplitude reached, without a drop', () => {
    const r = makeRig();
    r.hello();
    r.run(1, { amp: 2_000, ramp: 1_000 });
    keepAlive(r, 3_000);
    expect(r.sim.snapshot().channels[0]?.setpointUa).toBe(2_000);
    expect(r.request('AMP', { ch: 1, amp: 3_000 })).toMatchObject({ type: 'ok', args: { ch: 1, amp: 3_000 } });
    expect(r.sim.snapshot().channels[0]).toMatchObject({ setpointUa: 2_000, targetUa: 3_000 });
    keepAlive(r, 3_500);
    expect(r.sim.snapshot().channels[0]?.setpointUa).toBe(2_500);
    const tel = r.decoded().filter((m) => m.type === 'event' && m.event === 'TEL');
    const amps = tel.map((m) => (m as { args: { amp: number } }).args.amp);
    // From 2000 µA at 3000 ms it rises 100 µA per 100 ms telemetry period: never below 2000.
    expect(amps.slice(-6)).toEqual([2_000, 2_100, 2_200, 2_300, 2_400, 2_500]);
  });

  it('an AMP equal to the present set point mid-slew holds it and is reported at once', () => {
    const r = makeRig();
    r.hello();
    r.run(1, { amp: 3_000, ramp: 1_000 });
    keepAlive(r, 1_505); // set point 1505 µA; last reported 1500 at 1500 ms
    expect(r.sim.snapshot().channels[0]?.setpointUa).toBe(1_505);
    expect(codeOf(r.request('AMP', { ch: 1, amp: 1_505 }))).toBe('OK');
    expect(outputs(r).at(-1)).toEqual([1_505, true, 1.505]);
    keepAlive(r, 2_000);
    expect(r.sim.snapshot().channels[0]).toMatchObject({ setpointUa: 1_505, targetUa: 1_505 });
    expect(outputs(r).at(-1)).toEqual([1_505, true, 1.505]);
  });

  it('an AMP to the amplitude already reached reports no new output event', () => {
    const r = makeRig();
    r.hello();
    r.run(1, { amp: 2_000, ramp: 1_000 });
    keepAlive(r, 2_500);
    const before = outputs(r);
    expect(before.at(-1)).toEqual([2_000, true, 2]);
    expect(codeOf(r.request('AMP', { ch: 1, amp: 2_000 }))).toBe('OK');
    keepAlive(r, 2_700);
    expect(outputs(r)).toEqual(before);
  });

  it('AMP above amax or below amin is RANGE with the device range, checked before the state', () => {
    const r = makeRig({ limits: { amin: 1_000 } });
    r.hello();
    // Refused on an OFF channel too: the range comes first (PROTOCOL.md §10 order).
    expect(errOf(r.request('AMP', { ch: 1, amp: 20_001 }))).toEqual({ code: 'RANGE', msg: 'amp 20001 not in 1000..20000 uA' });
    r.run(1, { amp: 2_000, pw: 200 });
    expect(errOf(r.request('AMP', { ch: 1, amp: 20_001 }))).toEqual({ code: 'RANGE', msg: 'amp 20001 not in 1000..20000 uA' });
    expect(errOf(r.request('AMP', { ch: 1, amp: 999 }))).toEqual({ code: 'RANGE', msg: 'amp 999 not in 1000..20000 uA' });
    expect(r.sim.snapshot().channels[0]?.targetUa).toBe(2_000);
    // The edges themselves are accepted (20 mA x 200 µs = 4000 nC, inside qmax).
    expect(r.request('AMP', { ch: 1, amp: 20_000 })).toMatchObject({ type: 'ok', args: { amp: 20_000 } });
    expect(r.request('AMP', { ch: 1, amp: 1_000 })).toMatchObject({ type: 'ok', args: { amp: 1_000 } });
    expect(r.sim.snapshot().channels[0]?.targetUa).toBe(1_000);
  });

  it('AMP at amin = 0 is accepted (a channel may sit at zero)', () => {
    const r = makeRig();
    r.hello();
    r.run(1);
    expect(r.request('AMP', { ch: 1, amp: 0 })).toMatchObject({ type: 'ok', args: { amp: 0 } });
    expect(r.sim.snapshot().channels[0]).toMatchObject({ state: 'ON', setpointUa: 0, targetUa: 0 });
  });

  it('AMP on a channel that is not ON is STATE naming its state, and changes nothing', () => {
    const r = makeRig();
    r.hello();
    expect(errOf(r.request('AMP', { ch: 1, amp: 1_000 }))).toEqual({ code: 'STATE', msg: 'channel 1 is OFF, not ON' });
    expect(codeOf(r.request('SET', program()))).toBe('OK');
    expect(errOf(r.request('AMP', { ch: 1, amp: 1_000 }))).toEqual({ code: 'STATE', msg: 'channel 1 is STAGED, not ON' });
    expect(r.sim.snapshot().channels[0]).toMatchObject({ state: 'STAGED', setpointUa: 0, targetUa: 0, measuredUa: 0 });
    expect(codeOf(r.request('START', { ch: 1 }))).toBe('OK');
    // The program's own amplitude, not the refused AMP's.
    expect(r.sim.snapshot().channels[0]?.targetUa).toBe(program().amp);
    expect(outputs(r)).toEqual([[0, true, 0]]);
  });
});

describe('START', () => {
  it('on a channel that is not STAGED is STATE naming its state', () => {
    const r = makeRig();
    r.hello();
    expect(errOf(r.request('START', { ch: 1 }))).toEqual({ code: 'STATE', msg: 'channel 1 is OFF, not STAGED' });
    r.run(1);
    expect(errOf(r.request('START', { ch: 1 }))).toEqual({ code: 'STATE', msg: 'channel 1 is ON, not STAGED' });
  });

  it('a failing output stage answers INTERNAL once per injected failure: no output, the program stays staged', () => {
    const r = makeRig();
    r.hello();
    r.sim.stageFail(1);
    expect(codeOf(r.request('SET', program()))).toBe('OK');
    expect(errOf(r.request('START', { ch: 1 }))).toEqual({ code: 'INTERNAL', msg: 'output stage did not respond' });
    expect(r.sim.snapshot().channels[0]).toMatchObject({ state: 'STAGED', measuredUa: 0, program: program() });
    expect(outputs(r)).toEqual([]);
    keepAlive(r, 200);
    expect(r.decoded().filter((m) => m.type === 'event' && m.event === 'TEL')).toEqual([]);
    // The next START (a new seq, not a retry) is the stage's second chance and succeeds.
    expect(r.request('START', { ch: 1 })).toMatchObject({ type: 'ok', verb: 'START', args: { ch: 1 } });
    expect(r.sim.snapshot().channels[0]?.state).toBe('ON');
    expect(outputs(r)).toEqual([[200, true, 0]]);
  });
});

describe('SET checks', () => {
  it('f2 outside the device range is RANGE with the unit', () => {
    const r = makeRig();
    r.hello();
    const dd = program({ mode: 'DD', f: 2_000, f2: 200_000, dwell: 1_000 });
    expect(errOf(r.request('SET', dd))).toEqual({ code: 'RANGE', msg: 'f2 200000 not in 1000..150000 mHz' });
    const burst = program({ mode: 'BURST', f: 2_000, f2: 500, n: 1 });
    expect(errOf(r.request('SET', burst))).toEqual({ code: 'RANGE', msg: 'f2 500 not in 1000..150000 mHz' });
  });

  it('DD with f equal to f2 is refused: dense-disperse needs a lower and a higher frequency', () => {
    const r = makeRig();
    r.hello();
    const same = program({ mode: 'DD', f: 10_000, f2: 10_000, dwell: 1_000 });
    const refused = errOf(r.request('SET', same));
    expect(refused.code).toBe('RANGE');
    // The text is cut to the 64 wire characters a msg may take (its spaces are %20): "... in mode D".
    expect(refused.msg).toMatch(/^f 10000 must be below f2 10000 mHz in mode D/);
    expect(r.sim.snapshot().channels[0]?.state).toBe('OFF');
    const ok = program({ mode: 'DD', f: 10_000, f2: 10_001, dwell: 1_000 });
    expect(codeOf(r.request('SET', ok))).toBe('OK');
  });

  it('a pulse as long as its period is refused (custom limits: 1 kHz and 500 µs per phase)', () => {
    const r = makeRig({ limits: { fmax: 1_000_000, pwmax: 10_000 } });
    r.hello();
    // SYM: two phases of 500 µs = 1000 µs = the 1 kHz period.
    const full = program({ f: 1_000_000, pw: 500, amp: 1_000 });
    expect(errOf(r.request('SET', full))).toEqual({ code: 'RANGE', msg: 'pw 500 us: pulse longer than its period' });
    // ASYM: 200 µs x (1 + 4) = 1000 µs.
    expect(errOf(r.request('SET', { ...full, wf: 'ASYM', pw: 200 }))).toEqual({ code: 'RANGE', msg: 'pw 200 us: pulse longer than its period' });
    expect(r.sim.snapshot().channels[0]?.state).toBe('OFF');
    expect(codeOf(r.request('SET', { ...full, pw: 499 }))).toBe('OK');
    expect(codeOf(r.request('SET', { ...full, wf: 'ASYM', pw: 199 }))).toBe('OK');
  });
});

describe('frames', () => {
  it('a retry that differs only by the tolerated \\r is the same request (PROTOCOL.md §12.3: stored without \\r)', () => {
    for (const [first, again] of [
      ['\r\n', '\n'],
      ['\n', '\r\n'],
    ] as const) {
      const r = makeRig();
      r.hello();
      expect(codeOf(r.request('SET', program()))).toBe('OK');
      const start = r.line('START', { ch: 1 });
      const reply = r.raw(`${start}${first}`);
      expect(reply).toMatchObject([{ type: 'ok', verb: 'START' }]);
      expect(r.raw(`${start}${again}`)).toEqual(reply);
      expect(r.sim.snapshot().counters.repeatsAnswered).toBe(1);
      expect(outputs(r)).toEqual([[0, true, 0]]);
    }
  });

  it("a well-formed '!' frame the device does not know is answered ! ERR (there is no seq to answer)", () => {
    const r = makeRig();
    r.hello();
    expect(r.raw(`${frame('! FROB')}\n`)).toEqual([{ type: 'err', seq: null, args: { code: 'UNKNOWN_VERB' } }]);
    expect(r.raw(`${frame('! TEL ch=1')}\n`)).toEqual([{ type: 'err', seq: null, args: { code: 'BAD_ARG' } }]);
    expect(r.raw(`${frame('! ERR code=NOPE')}\n`)).toEqual([{ type: 'err', seq: null, args: { code: 'BAD_ARG' } }]);
    expect(r.sim.snapshot().counters.rejectedByCode).toMatchObject({ UNKNOWN_VERB: 1, BAD_ARG: 2 });
  });

  it('a device powered off while answering one line of a chunk executes none of the lines after it', () => {
    const r = makeRig();
    r.sim.onTransmit(() => r.sim.dispose());
    r.raw(`${r.line('HELLO', { vmin: 1, vmax: 1 })}\n${r.line('SET', program())}\n${r.line('START', { ch: 1 })}\n`);
    const s = r.sim.snapshot();
    expect(s.disposed).toBe(true);
    expect(s.counters.framesOk).toBe(1);
    expect(s.channels[0]).toMatchObject({ state: 'OFF', program: null });
    expect(r.decoded().filter((m) => m.type !== 'event')).toMatchObject([{ type: 'ok', verb: 'HELLO' }]);
  });
});
