// The watchdog window and the e-stop path, on virtual time.
import { describe, expect, it } from 'vitest';
import { encode } from '../../../firmware-protocol/index.js';
import { deviceEvents, eventsOf, makeRig, type Rig } from './rig.js';

/** A rig started at `bootAt` (so the tick grid has that phase), with a session opened at `helloAt`. */
function session(bootAt: number, helloAt: number, tickMs?: number): Rig {
  const r = makeRig(tickMs === undefined ? {} : { tickMs }, false);
  r.scheduler.advanceTo(bootAt);
  r.sim.start();
  r.scheduler.advanceTo(helloAt);
  r.hello();
  return r;
}

function wdogTimes(r: Rig): number[] {
  return deviceEvents(r, 'WDOG').map((x) => x.at);
}

describe('watchdog', () => {
  // Phases of the last frame relative to the tick grid: on a tick, just after, mid-way, just before.
  const cases: [bootAt: number, lastAt: number, tickMs: number][] = [
    [0, 1000, 10],
    [0, 1000.001, 10],
    [0, 1001, 10],
    [0, 1005, 10],
    [0, 1009, 10],
    [0, 1009.999, 10],
    [3, 1000, 10],
    [7.5, 2222.25, 10],
    [0, 1003, 7],
    [1, 1000, 1],
    [0.25, 1000, 3],
  ];
  for (const [bootAt, lastAt, tickMs] of cases) {
    it(`H4 trips in [last + 1000, last + 1000 + tick) and never before (boot ${bootAt}, last frame ${lastAt}, tick ${tickMs})`, () => {
      const r = session(bootAt, Math.min(lastAt, bootAt + 400), tickMs);
      // Keep it fed every 250 ms (as the host does), the last frame at lastAt.
      for (let t = r.scheduler.now() + 250; t < lastAt; t += 250) {
        r.scheduler.advanceTo(t);
        r.request('HB', {});
      }
      r.scheduler.advanceTo(lastAt);
      r.request('HB', {});
      r.run(1);
      r.scheduler.advanceTo(lastAt + 1000 - 1e-6);
      expect(wdogTimes(r), 'no trip before the window ends').toEqual([]);
      expect(r.sim.snapshot().channels[0]?.state).toBe('ON');
      r.scheduler.advanceTo(lastAt + 1000 + tickMs);
      const [trip, ...more] = wdogTimes(r);
      expect(more).toEqual([]);
      expect(trip).toBeGreaterThanOrEqual(lastAt + 1000);
      expect(trip).toBeLessThan(lastAt + 1000 + tickMs);
      // Everything off, session over, staged programs gone, one event.
      const s = r.sim.snapshot();
      expect(s.hostSession).toBe(false);
      expect(s.channels.map((c) => c.state)).toEqual(['OFF', 'OFF', 'OFF', 'OFF']);
      expect(eventsOf(r, 'watchdog')).toEqual([{ at: trip, e: { event: 'watchdog' } }]);
      const offAt = eventsOf(r, 'output').filter((x) => !x.e.on);
      expect(offAt).toEqual([{ at: trip, e: { event: 'output', channel: 1, on: false, amplitudeMa: 0 } }]);
    });
  }

  it('a frame exactly on the deadline tick is too late: the trip happened first', () => {
    const r = session(0, 0);
    r.scheduler.advanceTo(1000);
    expect(wdogTimes(r)).toEqual([1000]);
  });

  it('HB every 250 ms keeps a session alive for 10 minutes', () => {
    const r = session(0, 0);
    r.run(1, { dur: 700 });
    for (let t = 250; t <= 600_000; t += 250) {
      r.scheduler.advanceTo(t);
      r.send('HB', {});
    }
    expect(wdogTimes(r)).toEqual([]);
    expect(r.sim.snapshot().channels[0]?.state).toBe('ON');
  });

  it('invalid frames do not feed it: bad CRC, bad frame, unknown verb, bad argument, over-long', () => {
    const r = session(0, 0);
    const hb = encode({ type: 'request', seq: 1, verb: 'HB', args: {} });
    const junk = [`${hb.slice(0, -1)}0\n`, 'HB\n', `${hb.replace('HB', 'HX')}\n`, '2 HB x=1 *0000\n', `${'9'.repeat(400)}\n`];
    for (let t = 100; t < 1000; t += 100) {
      r.scheduler.advanceTo(t);
      for (const j of junk) r.raw(j);
    }
    r.scheduler.advanceTo(1010);
    expect(wdogTimes(r)).toEqual([1000]);
  });

  it('does not run without a session; a refused frame still feeds it', () => {
    const r = makeRig();
    r.scheduler.advance(5000);
    expect(wdogTimes(r)).toEqual([]);
    r.hello();
    r.scheduler.advance(900);
    expect(r.request('START', { ch: 1 }).type).toBe('err'); // STATE, but a valid frame
    r.scheduler.advance(900);
    expect(wdogTimes(r)).toEqual([]);
    r.scheduler.advance(110);
    expect(wdogTimes(r)).toEqual([6900]);
    // Once tripped it stays quiet until the next HELLO.
    r.scheduler.advance(5000);
    expect(wdogTimes(r)).toHaveLength(1);
    expect(r.request('HB', {})).toMatchObject({ type: 'err', args: { code: 'NO_HELLO' } });
  });

  it('a watchdog trip does not clear the latch', () => {
    const r = session(0, 0);
    r.request('ESTOP', {});
    r.scheduler.advance(1100);
    expect(r.sim.snapshot().latched).toBe(true);
  });
});

describe('ESTOP on receipt', () => {
  it('H5 switches off synchronously mid-slew; nothing rises afterwards', () => {
    const r = session(0, 0);
    r.run(1, { amp: 10_000 });
    r.run(2, { amp: 10_000 });
    r.scheduler.advance(737);
    r.request('HB', {});
    expect(r.sim.snapshot().channels[0]?.setpointUa).toBe(737);
    const at = r.scheduler.now();
    r.raw(`${r.line('ESTOP', {})}\n`);
    const s = r.sim.snapshot();
    expect(s.latched).toBe(true);
    expect(s.channels.every((c) => c.state === 'OFF' && c.setpointUa === 0 && c.measuredUa === 0)).toBe(true);
    expect(eventsOf(r, 'output').filter((x) => !x.e.on).map((x) => [x.at, x.e.channel])).toEqual([
      [at, 1],
      [at, 2],
    ]);
    const telBefore = deviceEvents(r, 'TEL').length;
    r.scheduler.advance(500);
    expect(deviceEvents(r, 'TEL')).toHaveLength(telBefore);
    expect(eventsOf(r, 'output').filter((x) => x.at > at)).toEqual([]);
  });

  it('acts mid-flood: lines before it are refused, it latches when its own line ends, lines after are refused', () => {
    const r = session(0, 0);
    r.run(1);
    r.scheduler.advance(300);
    const seen: { latched: boolean; badFrames: number }[] = [];
    r.sim.onTransmit((chunk) => {
      if (chunk.includes(' OK ESTOP')) {
        const s = r.sim.snapshot();
        seen.push({ latched: s.latched && s.channels.every((c) => c.state === 'OFF'), badFrames: s.counters.rejectedByCode.BAD_FRAME });
      }
    });
    const flood = 'garbage garbage\n'.repeat(5000);
    r.raw(`${flood}${r.line('ESTOP', {})}\n${flood}`);
    expect(seen).toEqual([{ latched: true, badFrames: 5000 }]);
    expect(r.sim.snapshot().counters.rejectedByCode.BAD_FRAME).toBe(10_000);
  });

  it('acts after a 10 MB over-long line, and byte by byte', () => {
    const r = session(0, 0);
    r.run(1);
    const estop = `${r.line('ESTOP', {})}\n`;
    r.raw(new Uint8Array(10 * 1024 * 1024).fill(0x41));
    r.raw(`\n${estop.slice(0, 3)}`);
    expect(r.sim.snapshot().latched).toBe(false);
    for (const b of estop.slice(3, -1)) r.raw(b);
    expect(r.sim.snapshot().latched).toBe(false);
    r.raw('\n');
    expect(r.sim.snapshot().latched).toBe(true);
    expect(r.sim.snapshot().channels[0]?.state).toBe('OFF');
  });

  it('acts even while replies are delayed or dropped (only the reply is late)', () => {
    const r = session(0, 0);
    r.run(1);
    r.sim.delayReplies(300);
    expect(r.raw(`${r.line('ESTOP', {})}\n`)).toEqual([]);
    expect(r.sim.snapshot().latched).toBe(true);
    r.scheduler.advance(300);
    expect(r.decoded().at(-1)).toMatchObject({ type: 'ok', verb: 'ESTOP' });
  });

  it('a listener reacting to a reply with ESTOP is served before the outer call returns', () => {
    const r = session(0, 0);
    r.run(1);
    let sent = false;
    r.sim.onTransmit((chunk) => {
      if (!sent && chunk.includes('OK HB')) {
        sent = true;
        r.sim.receive(`${r.line('ESTOP', {})}\n`);
        // Queued, not yet processed: the device is still inside the HB.
        expect(r.sim.snapshot().latched).toBe(false);
      }
    });
    r.send('HB', {});
    expect(r.sim.snapshot().latched).toBe(true);
  });
});
