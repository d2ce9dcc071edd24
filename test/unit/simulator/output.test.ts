// The output model: slewing, duration, telemetry and delivered charge, compliance and open circuit.
import { describe, expect, it } from 'vitest';
import type { EventArgs, SetArgs } from '../../../firmware-protocol/index.js';
import { deviceEvents, eventsOf, makeRig, type Rig } from './rig.js';

/** Advance to `until` in `step` ms steps, feeding the watchdog every 250 ms, calling `each` after every step. */
function keepAlive(r: Rig, until: number, step = 10, each?: () => void): void {
  let nextHb = r.scheduler.now() + 250;
  while (r.scheduler.now() < until) {
    r.scheduler.advanceTo(Math.min(until, r.scheduler.now() + step));
    if (r.scheduler.now() >= nextHb) {
      r.send('HB', {});
      nextHb += 250;
    }
    each?.();
  }
}

function tel(r: Rig, ch = 1): { at: number; args: EventArgs<'TEL'> }[] {
  return deviceEvents(r, 'TEL')
    .map(({ at, m }) => ({ at, args: (m as { args: EventArgs<'TEL'> }).args }))
    .filter((x) => x.args.ch === ch);
}

describe('slewing', () => {
  for (const [ramp, startAt] of [
    [1000, 0],
    [333, 3.7],
    [7, 5],
    [999, 123.456],
  ] as const) {
    it(`rises at no more than ${ramp} µA/s, sampled every tick (START at ${startAt} ms)`, () => {
      const r = makeRig();
      r.scheduler.advanceTo(startAt);
      r.hello();
      r.run(1, { amp: 3000, ramp });
      let prev = { t: r.scheduler.now(), sp: r.sim.snapshot().channels[0]?.setpointUa ?? -1 };
      expect(prev.sp).toBe(0);
      keepAlive(r, startAt + 4000, 10, () => {
        const now = r.scheduler.now();
        const sp = r.sim.snapshot().channels[0]?.setpointUa ?? -1;
        // The set point is an integer µA: over dt it may rise by ramp x dt, rounded up to whole µA.
        expect(sp - prev.sp).toBeLessThanOrEqual(Math.ceil((ramp * (now - prev.t)) / 1000 - 1e-9));
        // And over the whole ramp it never leads the ideal line.
        expect(sp).toBeLessThanOrEqual((ramp * (now - startAt)) / 1000);
        expect(sp).toBe(Math.min(3000, Math.floor((ramp * (now - startAt)) / 1000 + 1e-9)));
        prev = { t: now, sp };
      });
    });
  }

  it("a non-slewing device (amplitude: 'instant') applies START's amplitude and every AMP at once, up and down", () => {
    const r = makeRig({ amplitude: 'instant' });
    r.hello();
    r.run(1, { amp: 2000, ramp: 10 });
    expect(r.sim.snapshot().channels[0]).toMatchObject({ setpointUa: 2000, targetUa: 2000, measuredUa: 2000 });
    keepAlive(r, r.scheduler.now() + 500);
    r.request('AMP', { ch: 1, amp: 9000 });
    expect(r.sim.snapshot().channels[0]).toMatchObject({ setpointUa: 9000, targetUa: 9000 });
    r.request('AMP', { ch: 1, amp: 100 });
    expect(r.sim.snapshot().channels[0]).toMatchObject({ setpointUa: 100, targetUa: 100 });
    expect(eventsOf(r, 'output').map((x) => x.e)).toEqual([
      { event: 'output', channel: 1, on: true, amplitudeMa: 2 },
      { event: 'output', channel: 1, on: true, amplitudeMa: 9 },
      { event: 'output', channel: 1, on: true, amplitudeMa: 0.1 },
    ]);
    expect(() => makeRig({ amplitude: 'sometimes' as 'ramp' })).toThrow(/amplitude must be 'ramp' or 'instant'/);
  });

  it('falls at once on a lower AMP, and rises again from there at the ramp', () => {
    const r = makeRig();
    r.hello();
    r.run(1, { amp: 2000 });
    keepAlive(r, 2500);
    expect(r.sim.snapshot().channels[0]).toMatchObject({ setpointUa: 2000, targetUa: 2000 });
    r.request('AMP', { ch: 1, amp: 500 });
    expect(r.sim.snapshot().channels[0]).toMatchObject({ setpointUa: 500, targetUa: 500, measuredUa: 500 });
    expect(eventsOf(r, 'output').at(-1)).toEqual({ at: 2500, e: { event: 'output', channel: 1, on: true, amplitudeMa: 0.5 } });
    r.request('AMP', { ch: 1, amp: 1500 });
    keepAlive(r, 3000);
    expect(r.sim.snapshot().channels[0]?.setpointUa).toBe(1000);
    keepAlive(r, 4000);
    expect(r.sim.snapshot().channels[0]?.setpointUa).toBe(1500);
  });

  it('reports set-point changes at most every 100 ms per channel, plus the final value', () => {
    const r = makeRig();
    r.hello();
    r.run(1, { amp: 2000 });
    r.scheduler.advance(3);
    r.run(2, { amp: 555, ramp: 1000 });
    keepAlive(r, 3000);
    for (const ch of [1, 2]) {
      const outs = eventsOf(r, 'output').filter((x) => x.e.channel === ch);
      expect(outs[0]?.e).toMatchObject({ on: true, amplitudeMa: 0 });
      const final = outs.at(-1);
      expect(final?.e.amplitudeMa).toBe(ch === 1 ? 2 : 0.555);
      for (let i = 1; i < outs.length - 1; i++) {
        expect((outs[i]?.at ?? 0) - (outs[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(100);
      }
    }
    const ch1 = eventsOf(r, 'output').filter((x) => x.e.channel === 1);
    expect(ch1.length).toBeGreaterThanOrEqual(20);
    expect(ch1.length).toBeLessThanOrEqual(22);
    expect(ch1.at(-1)?.at).toBe(2000);
  });
});

describe('duration', () => {
  it('ends with DONE at exactly the programmed time, on the device clock', () => {
    const r = makeRig();
    r.scheduler.advanceTo(123.4);
    r.hello();
    r.run(1, { dur: 3 });
    keepAlive(r, 3123.3, 10);
    expect(r.sim.snapshot().channels[0]?.state).toBe('ON');
    expect(deviceEvents(r, 'DONE')).toEqual([]);
    keepAlive(r, 3200, 0.1);
    expect(deviceEvents(r, 'DONE')).toEqual([{ at: 3123.4, m: { type: 'event', event: 'DONE', args: { ch: 1 } } }]);
    expect(eventsOf(r, 'done')).toEqual([{ at: 3123.4, e: { event: 'done', channel: 1 } }]);
    expect(eventsOf(r, 'output').at(-1)).toEqual({ at: 3123.4, e: { event: 'output', channel: 1, on: false, amplitudeMa: 0 } });
    expect(r.sim.snapshot().channels[0]).toMatchObject({ state: 'DONE', program: null, setpointUa: 0 });
    // 29 TEL lines: at +100 .. +2900 ms; the one due with DONE is not sent.
    expect(tel(r).map((x) => x.at)).toEqual(Array.from({ length: 29 }, (_, k) => 123.4 + (k + 1) * 100));
    expect(r.request('STATUS', {})).toMatchObject({ args: { s1: 'DONE' } });
    expect(r.request('START', { ch: 1 })).toMatchObject({ args: { code: 'STATE' } });
  });

  it('a 20-minute program ends at 1 200 000 ms', () => {
    const r = makeRig();
    r.hello();
    r.run(1, { dur: 1200, amp: 4000, f: 2000, pw: 250 });
    keepAlive(r, 1_200_500, 250);
    expect(deviceEvents(r, 'DONE').map((x) => x.at)).toEqual([1_200_000]);
    // 2 Hz for 1200 s = 2400 pulses; the 4 s slew delivers less in its first 8 pulses.
    const q = r.sim.snapshot().channels[0]?.deliveredNc;
    const slew = [0, 500, 1000, 1500, 2000, 2500, 3000, 3500].reduce((s, ua) => s + (ua * 250) / 1000, 0);
    expect(q).toBe(slew + (2400 - 8) * 1000);
  });
});

describe('telemetry', () => {
  it('TEL at 10 Hz per ON channel with amp, measured current, load and cathodic charge', () => {
    const r = makeRig({ loadOhms: 1000 });
    r.hello();
    r.run(1, { f: 10_000, pw: 200, amp: 1000, ramp: 1000 });
    keepAlive(r, 3000);
    const lines = tel(r);
    expect(lines.map((x) => x.at)).toEqual(Array.from({ length: 30 }, (_, k) => (k + 1) * 100));
    const z = r.sim.snapshot().channels[0]?.loadOhms;
    for (const { at, args } of lines) {
      const sp = Math.min(1000, Math.floor(at)); // 1000 µA/s = 1 µA per ms
      expect(args).toMatchObject({ ch: 1, amp: sp, i: sp, z });
      // Pulses at 0, 100, ... ms before `at`, each delivering its set point x 200 µs.
      let pc = 0;
      for (let t = 0; t < at; t += 100) pc += Math.min(1000, t) * 200;
      expect(args.q).toBe(Math.floor(pc / 1000));
    }
    // Once at the target: exactly one 1000 µA x 200 µs pulse (200 nC) per 100 ms.
    const steady = lines.filter((x) => x.at > 1000);
    for (let i = 1; i < steady.length; i++) expect((steady[i]?.args.q ?? 0) - (steady[i - 1]?.args.q ?? 0)).toBe(200);
    expect(tel(r, 2)).toEqual([]);
  });

  const patterns: [string, Partial<SetArgs>, number][] = [
    // [name, pattern, pulses in [2000, 4000) ms]
    ['CONT 2 Hz', { mode: 'CONT', f: 2000 }, 4],
    ['CONT 150 Hz', { mode: 'CONT', f: 150_000 }, 300],
    // DD 2 Hz / 100 Hz, dwell 1 s: [2000, 3000) at 2 Hz (2 pulses), [3000, 4000) at 100 Hz (100).
    ['DD 2/100 Hz dwell 1 s', { mode: 'DD', f: 2000, f2: 100_000, dwell: 1000 }, 102],
    // BURST: 5 pulses at 50 Hz, twice a second: 10 per second.
    ['BURST 2 Hz x 5 @ 50 Hz', { mode: 'BURST', f: 2000, f2: 50_000, n: 5 }, 20],
  ];
  for (const [name, pattern, pulses] of patterns) {
    it(`q follows the pulse rate of ${name}`, () => {
      const r = makeRig();
      r.hello();
      r.run(1, { ...pattern, amp: 1000, ramp: 1000, pw: 300 });
      keepAlive(r, 4000);
      const at = (t: number) => tel(r).find((x) => x.at === t)?.args.q ?? -1;
      expect(at(4000) - at(2000)).toBe((pulses * 1000 * 300) / 1000);
    });
  }
});

describe('electrode model', () => {
  it('compliance: the current clips at vc / load, then FAULT COMPLIANCE switches the channel off', () => {
    const r = makeRig();
    r.hello();
    r.sim.setLoad(1, 10_000); // 80 V / 10 kOhm = 8000 µA
    r.run(1, { amp: 10_000, ramp: 1000, dur: 60 });
    r.run(2, { amp: 1000 });
    keepAlive(r, 7990);
    expect(r.sim.snapshot().channels[0]).toMatchObject({ state: 'ON', setpointUa: 7990, measuredUa: 7990 });
    keepAlive(r, 8005, 1);
    expect(r.sim.snapshot().channels[0]).toMatchObject({ state: 'ON', setpointUa: 8005, measuredUa: 8000 });
    keepAlive(r, 8010, 1);
    expect(deviceEvents(r, 'FAULT')).toEqual([{ at: 8010, m: { type: 'event', event: 'FAULT', args: { ch: 1, code: 'COMPLIANCE' } } }]);
    expect(eventsOf(r, 'fault')).toEqual([{ at: 8010, e: { event: 'fault', channel: 1, code: 'COMPLIANCE' } }]);
    expect(r.sim.snapshot().channels.map((c) => c.state)).toEqual(['OFF', 'ON', 'OFF', 'OFF']);
    expect(r.sim.snapshot().latched).toBe(false);
  });

  it('compliance: a load rising while ON faults at the next tick', () => {
    const r = makeRig();
    r.hello();
    r.run(1, { amp: 4000 });
    keepAlive(r, 4500);
    r.sim.setLoad(1, 20_000); // 4000 µA x 20 kOhm = 80 V: at the limit, not beyond
    keepAlive(r, 4600);
    expect(r.sim.snapshot().channels[0]?.state).toBe('ON');
    r.sim.setLoad(1, 20_001);
    keepAlive(r, 4610, 1);
    expect(eventsOf(r, 'fault').map((x) => [x.at, x.e])).toEqual([[4610, { event: 'fault', channel: 1, code: 'COMPLIANCE' }]]);
  });

  it('open circuit: FAULT OPEN within a tick, no current into it, TEL reports OPEN', () => {
    const r = makeRig();
    r.hello();
    r.run(1, { amp: 1000 });
    keepAlive(r, 1500);
    r.scheduler.advanceTo(1595);
    r.sim.setLoad(1, 'OPEN');
    expect(r.sim.snapshot().channels[0]).toMatchObject({ state: 'ON', measuredUa: 0, loadOhms: 'OPEN' });
    r.scheduler.advanceTo(1600); // tick at 1600 faults; the TEL due at 1600 is then not sent
    expect(eventsOf(r, 'fault')).toEqual([{ at: 1600, e: { event: 'fault', channel: 1, code: 'OPEN' } }]);
    expect(r.sim.snapshot().channels[0]?.state).toBe('OFF');
    expect(r.request('IMP', { ch: 1 })).toMatchObject({ args: { z: 'OPEN' } });
    // A TEL due between the opening and the next tick reports it: z=OPEN, no current.
    r.sim.setLoad(1, 1500);
    r.scheduler.advanceTo(1603);
    r.run(1); // TEL at 1703, 1803, ...; ticks at 1610, 1620, ...
    r.scheduler.advanceTo(1701);
    r.sim.setLoad(1, 'OPEN');
    r.scheduler.advanceTo(1710);
    expect(tel(r).at(-1)).toEqual({ at: 1703, args: { ch: 1, amp: 100, i: 0, z: 'OPEN', q: 0 } });
    expect(eventsOf(r, 'fault').at(-1)).toEqual({ at: 1710, e: { event: 'fault', channel: 1, code: 'OPEN' } });
  });

  it('START into an open load faults at the first tick', () => {
    const r = makeRig();
    r.hello();
    r.sim.setLoad(3, 'OPEN');
    r.scheduler.advance(4);
    r.run(3);
    r.scheduler.advance(6);
    expect(eventsOf(r, 'fault')).toEqual([{ at: 10, e: { event: 'fault', channel: 3, code: 'OPEN' } }]);
  });
});
