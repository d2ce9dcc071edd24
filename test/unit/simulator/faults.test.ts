// Fault injection: every fault, the CLI spec parser, scheduled faults, and dispose.
import { describe, expect, it } from 'vitest';
import { decodeDeviceLine } from '../../../firmware-protocol/index.js';
import { parseFaultSpec, scheduleFaults, type FaultSpec } from '../../../src/simulator/index.js';
import { codeOf, deviceEvents, eventsOf, makeRig } from './rig.js';

describe('cable pull', () => {
  it('loses bytes both ways while the device runs on: its watchdog trips, unseen by the host', () => {
    const r = makeRig();
    r.hello();
    r.run(1);
    r.scheduler.advance(200);
    r.sim.cablePull();
    const txBefore = r.tx.length;
    expect(r.raw(`${r.line('HB', {})}\n`)).toEqual([]);
    r.scheduler.advance(1000);
    expect(r.tx.length).toBe(txBefore); // no TEL, no WDOG reached the host
    expect(eventsOf(r, 'watchdog').map((x) => x.at)).toEqual([1000]);
    expect(r.sim.snapshot().channels[0]?.state).toBe('OFF');
    const link = r.sim.snapshot().link;
    expect(link.cablePulled).toBe(true);
    expect(link.bytesLostIn).toBeGreaterThan(0);
    expect(link.linesLostOut).toBeGreaterThan(0);
    r.sim.reconnectCable();
    expect(codeOf(r.request('HB', {}))).toBe('NO_HELLO');
    r.hello();
  });
});

describe('reboot', () => {
  it('new boot id, outputs off, no session, latch cleared, ! BOOT, uptime from zero', () => {
    const r = makeRig();
    r.hello();
    r.run(1);
    r.request('SET', { ch: 2, mode: 'CONT', f: 2000, pw: 250, wf: 'SYM', amp: 100, dur: 10, ramp: 100 });
    r.sim.overcurrent();
    r.scheduler.advance(300);
    const old = r.sim.snapshot().bootId;
    r.sim.delayReplies(500);
    r.send('STATUS', {}); // its reply is lost with the reboot
    r.sim.reboot();
    r.sim.delayReplies(0);
    const s = r.sim.snapshot();
    expect(s.bootId).not.toBe(old);
    expect(s).toMatchObject({ latched: false, hostSession: false, upMs: 0 });
    expect(s.channels.map((c) => c.state)).toEqual(['OFF', 'OFF', 'OFF', 'OFF']);
    expect(r.decoded().at(-1)).toEqual({ type: 'event', event: 'BOOT', args: { boot: s.bootId, proto: 1 } });
    expect(eventsOf(r, 'boot').map((x) => x.e.bootId)).toEqual([old, s.bootId]);
    r.scheduler.advance(1000);
    expect(r.decoded().filter((m) => m.type === 'ok' && m.verb === 'STATUS')).toEqual([]);
    expect(codeOf(r.request('HB', {}))).toBe('NO_HELLO');
    expect(r.request('STATUS', {})).toMatchObject({ args: { up: 1000, boot: s.bootId } });
  });

  it('re-phases the tick grid at the reboot', () => {
    const r = makeRig();
    r.scheduler.advanceTo(1003);
    r.sim.reboot();
    r.hello();
    r.scheduler.advanceTo(2010);
    expect(deviceEvents(r, 'WDOG').map((x) => x.at)).toEqual([2003]);
  });
});

describe('reply faults', () => {
  it('dropReplies(n) loses the next n replies, not events', () => {
    const r = makeRig();
    r.hello();
    r.run(1);
    r.sim.dropReplies(2);
    expect(r.send('HB', {})).toEqual([]);
    expect(r.send('HB', {})).toEqual([]);
    r.scheduler.advance(100);
    expect(deviceEvents(r, 'TEL')).toHaveLength(1);
    expect(r.send('HB', {})).toMatchObject([{ type: 'ok', verb: 'HB' }]);
    expect(r.sim.snapshot().link.repliesDropped).toBe(2);
  });

  it('delayReplies(ms) sends every reply that much later, in order, until reset with 0; events are on time', () => {
    const r = makeRig();
    r.hello();
    r.sim.delayReplies(300);
    r.send('HB', {});
    r.scheduler.advance(50);
    r.send('STATUS', {});
    r.send('SET', { ch: 1, mode: 'CONT', f: 10_000, pw: 200, wf: 'SYM', amp: 100, dur: 10, ramp: 100 });
    r.send('START', { ch: 1 });
    r.scheduler.advance(100); // TEL at 150 (START at 50) is not delayed
    const replies = () => r.tx.filter((x) => !x.chunk.startsWith('!')).slice(1);
    expect(replies()).toEqual([]);
    expect(deviceEvents(r, 'TEL').map((x) => x.at)).toEqual([150]);
    r.scheduler.advance(200);
    expect(replies().map((x) => [x.at, x.chunk.split(' ')[2]])).toEqual([
      [300, 'HB'],
      [350, 'STATUS'],
      [350, 'SET'],
      [350, 'START'],
    ]);
    r.sim.delayReplies(0);
    expect(r.send('HB', {})).toHaveLength(1);
  });

  it('corruptNextLines(n) makes the next n lines fail their CRC, then lines are clean again', () => {
    const r = makeRig();
    r.hello();
    r.sim.corruptNextLines(3);
    const from = r.tx.length;
    r.sim.receive(`${r.line('HB', {})}\n`);
    r.sim.receive(`${r.line('STATUS', {})}\n`);
    r.sim.receive(`${r.line('SET', { ch: 1, mode: 'CONT', f: 10_000, pw: 200, wf: 'SYM', amp: 100, dur: 10, ramp: 100 })}\n`);
    r.sim.receive(`${r.line('START', { ch: 1 })}\n`);
    r.scheduler.advance(100);
    const results = r.tx.slice(from).map((x) => decodeDeviceLine(x.chunk.slice(0, -1)));
    // HB, STATUS and SET replies corrupted; the START reply and the first TEL clean.
    expect(results.map((d) => (d.ok ? 'ok' : d.error.code))).toEqual(['BAD_CRC', 'BAD_CRC', 'BAD_CRC', 'ok', 'ok']);
    expect(r.sim.snapshot().link.corruptLinesPending).toBe(0);
  });
});

describe('garbage flood', () => {
  it('writes exactly that many seeded bytes, binary and newlines included', () => {
    const a = makeRig({ seed: 5 });
    const b = makeRig({ seed: 5 });
    const from = a.tx.length;
    a.sim.garbageFlood(200_000);
    b.sim.garbageFlood(200_000);
    const bytes = a.tx.slice(from).map((x) => x.chunk).join('');
    expect(bytes.length).toBe(200_000);
    expect(bytes).toBe(b.tx.slice(1).map((x) => x.chunk).join(''));
    const newlines = [...bytes].filter((c) => c === '\n').length;
    expect(newlines).toBeGreaterThan(200_000 / 40);
    expect(newlines).toBeLessThan(200_000 / 25);
    expect([...bytes].some((c) => c.charCodeAt(0) >= 0x80)).toBe(true);
    expect([...bytes].some((c) => c.charCodeAt(0) < 0x20 && c !== '\n')).toBe(true);
    expect(Math.max(...a.tx.slice(from).map((x) => x.chunk.length))).toBeLessThanOrEqual(65_536);
    // The device is unaffected.
    expect(codeOf(a.request('STATUS', {}))).toBe('OK');
  });
});

describe('device faults', () => {
  for (const [name, code] of [
    ['overcurrent', 'OVERCURRENT'],
    ['internalFault', 'INTERNAL'],
  ] as const) {
    it(`${name}(): FAULT ch=0 ${code}, every output off, latched until CLEAR`, () => {
      const r = makeRig();
      r.hello();
      r.run(1);
      r.run(2);
      r.scheduler.advance(100);
      r.sim[name]();
      expect(deviceEvents(r, 'FAULT').map((x) => x.m)).toEqual([{ type: 'event', event: 'FAULT', args: { ch: 0, code } }]);
      const s = r.sim.snapshot();
      expect(s.latched).toBe(true);
      expect(s.channels.every((c) => c.state === 'OFF' && c.measuredUa === 0)).toBe(true);
      expect(eventsOf(r, 'fault').map((x) => x.e)).toEqual([{ event: 'fault', channel: 0, code }]);
      expect(codeOf(r.request('SET', { ch: 1, mode: 'CONT', f: 2000, pw: 250, wf: 'SYM', amp: 100, dur: 10, ramp: 100 }))).toBe('LATCHED');
      r.request('CLEAR', {});
      expect(r.sim.snapshot().latched).toBe(false);
    });
  }

  it('setLoad and the other injectors refuse nonsense', () => {
    const r = makeRig();
    expect(() => r.sim.setLoad(5, 100)).toThrow(RangeError);
    expect(() => r.sim.setLoad(1, -1)).toThrow(RangeError);
    expect(() => r.sim.setLoad(1, 1.5)).toThrow(RangeError);
    expect(() => r.sim.dropReplies(-1)).toThrow(RangeError);
    expect(() => r.sim.delayReplies(Number.NaN)).toThrow(RangeError);
    expect(() => r.sim.garbageFlood(1e9)).toThrow(RangeError);
    const idle = makeRig({}, false);
    expect(() => idle.sim.reboot()).toThrow(/not started/);
  });
});

describe('parseFaultSpec', () => {
  it('parses every kind of spec', () => {
    const cases: [string, FaultSpec['fault'], number][] = [
      ['reboot@5s', { kind: 'reboot' }, 5000],
      ['drop:3@2s', { kind: 'drop', count: 3 }, 2000],
      ['delay:300@1s', { kind: 'delay', ms: 300 }, 1000],
      ['delay:0@1.5s', { kind: 'delay', ms: 0 }, 1500],
      ['delay:2s@250ms', { kind: 'delay', ms: 2000 }, 250],
      ['open:2@10s', { kind: 'open', channel: 2 }, 10_000],
      ['load:1:20000@3s', { kind: 'load', channel: 1, ohms: 20_000 }, 3000],
      ['load:4:OPEN@3s', { kind: 'load', channel: 4, ohms: 'OPEN' }, 3000],
      ['cable-pull@30s', { kind: 'cable-pull' }, 30_000],
      ['cable-pull:5s@30s', { kind: 'cable-pull', forMs: 5000 }, 30_000],
      ['cable-pull:700@0ms', { kind: 'cable-pull', forMs: 700 }, 0],
      ['reconnect@35s', { kind: 'reconnect' }, 35_000],
      ['corrupt:5@2s', { kind: 'corrupt', count: 5 }, 2000],
      ['garbage:4096@1s', { kind: 'garbage', bytes: 4096 }, 1000],
      ['overcurrent@4s', { kind: 'overcurrent' }, 4000],
      ['internal@4s', { kind: 'internal' }, 4000],
    ];
    for (const [text, fault, atMs] of cases) {
      expect(parseFaultSpec(text), text).toEqual({ ok: true, spec: { atMs, fault, text } });
    }
  });

  it('explains what is wrong', () => {
    const errors: [string, RegExp][] = [
      ['reboot', /missing '@<time>'/],
      ['reboot@5', /not a time like 500ms/],
      ['reboot@-1s', /not a time/],
      ['reboot@1.0005s', /whole number of ms/],
      ['explode@1s', /unknown fault 'explode'; known: reboot, drop/],
      ['drop@1s', /drop takes arguments :N, e\.g\. drop:3@2s/],
      ['reboot:1@1s', /reboot takes no arguments/],
      ['drop:0@1s', /'0' is not a count/],
      ['drop:x@1s', /'x' is not a count/],
      ['open:9@1s', /'9' is not a channel \(1\.\.8\)/],
      ['load:1@1s', /load takes arguments :CH:OHMS\|OPEN/],
      ['load:1:-5@1s', /'-5' is not a load/],
      ['garbage:0@1s', /not a byte count/],
      ['delay:fast@1s', /not a time/],
    ];
    for (const [text, why] of errors) {
      const result = parseFaultSpec(text);
      expect(result.ok, text).toBe(false);
      expect(result.ok ? '' : result.error, text).toMatch(why);
      expect(result.ok ? '' : result.error).toContain(`fault '${text}'`);
    }
    expect(parseFaultSpec('open:4@1s', 3)).toMatchObject({ ok: false, error: expect.stringMatching(/1\.\.3/) as unknown });
  });
});

describe('scheduleFaults', () => {
  function specs(...texts: string[]): FaultSpec[] {
    return texts.map((t) => {
      const p = parseFaultSpec(t);
      if (!p.ok) throw new Error(p.error);
      return p.spec;
    });
  }

  it('applies each fault at its time after start, on the simulator clock, surviving reboots', () => {
    const r = makeRig({}, false);
    r.scheduler.advanceTo(100); // start happens at 100: times count from there
    scheduleFaults(r.sim, specs('reboot@1s', 'open:2@1500ms', 'overcurrent@3s', 'cable-pull:500@4s'));
    r.sim.start();
    r.scheduler.advanceTo(1099);
    expect(eventsOf(r, 'boot')).toHaveLength(1);
    r.scheduler.advanceTo(1100);
    expect(eventsOf(r, 'boot')).toHaveLength(2);
    r.scheduler.advanceTo(1600);
    expect(r.sim.snapshot().channels[1]?.loadOhms).toBe('OPEN');
    r.scheduler.advanceTo(3100);
    expect(eventsOf(r, 'fault').map((x) => [x.at, x.e])).toEqual([[3100, { event: 'fault', channel: 0, code: 'OVERCURRENT' }]]);
    r.scheduler.advanceTo(4100);
    expect(r.sim.snapshot().link.cablePulled).toBe(true);
    r.scheduler.advanceTo(4599);
    expect(r.sim.snapshot().link.cablePulled).toBe(true);
    r.scheduler.advanceTo(4600);
    expect(r.sim.snapshot().link.cablePulled).toBe(false);
  });

  it('scheduled after start, counts from start; refuses a channel the device lacks', () => {
    const r = makeRig({ channels: 2 });
    r.scheduler.advanceTo(2000);
    scheduleFaults(r.sim, specs('drop:1@1s', 'garbage:10@3s'));
    r.hello(); // at 2000 the drop (due at 1000) runs on the next flush, not retroactively
    r.scheduler.advance(0);
    expect(r.sim.snapshot().link.dropRepliesPending).toBe(1);
    r.scheduler.advanceTo(3000);
    expect(r.tx.filter((x) => x.at === 3000 && x.chunk.length === 10)).toHaveLength(1); // (WDOG, also at 3000, is 13)
    expect(() => scheduleFaults(r.sim, specs('open:3@1s'))).toThrow(/channel 3 is not in 1\.\.2/);
  });

  it('dispose() cancels everything: ticks, telemetry, DONE, delayed replies, scheduled faults', () => {
    const r = makeRig();
    r.hello();
    r.run(1);
    r.run(2);
    r.sim.delayReplies(400);
    r.send('HB', {});
    scheduleFaults(r.sim, specs('reboot@10s', 'cable-pull:1s@20s'));
    r.scheduler.advance(150);
    expect(r.scheduler.pending).toBeGreaterThan(5);
    const txBefore = r.tx.length;
    r.sim.dispose();
    expect(r.scheduler.pending).toBe(0);
    r.sim.receive(`${r.line('HB', {})}\n`);
    r.scheduler.advance(60_000);
    expect(r.tx.length).toBe(txBefore);
    expect(r.sim.snapshot().disposed).toBe(true);
    scheduleFaults(r.sim, specs('reboot@1s'));
    expect(r.scheduler.pending).toBe(0);
  });

  it('listeners can unsubscribe', () => {
    const r = makeRig();
    const seen: string[] = [];
    const off = r.sim.onTransmit((c) => seen.push(c));
    const offEvents = r.sim.onEvent((e) => seen.push(e.event));
    r.request('STATUS', {});
    off();
    offEvents();
    r.request('STATUS', {});
    expect(seen).toHaveLength(1);
  });
});
