// The device side of the protocol, request by request, over real encoded lines.
import { describe, expect, it } from 'vitest';
import { decodeDeviceLine, encode, frame, setReadbackCrc, type SetArgs } from '../../../firmware-protocol/index.js';
import { DEFAULT_LIMITS } from '../../../src/simulator/index.js';
import { codeOf, eventsOf, makeRig, program } from './rig.js';

describe('boot and handshake', () => {
  it('sends ! BOOT with an 8-hex boot id on start, and nothing before', () => {
    const r = makeRig({}, false);
    r.sim.receive('0 HB *0000\n');
    expect(r.tx).toEqual([]);
    r.sim.start();
    const lines = r.decoded();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ type: 'event', event: 'BOOT', args: { proto: 1 } });
    const boot = (lines[0] as { args: { boot: string } }).args.boot;
    expect(boot).toMatch(/^[0-9A-F]{8}$/);
    expect(r.sim.snapshot().bootId).toBe(boot);
    expect(eventsOf(r, 'boot')).toEqual([{ at: 0, e: { event: 'boot', bootId: boot } }]);
    expect(() => r.sim.start()).toThrow(/running/);
  });

  it('loads are deterministic per seed; boot ids are new at every start unless bootEntropy fixes them', () => {
    const a = makeRig({ seed: 7 });
    const b = makeRig({ seed: 7 });
    expect(a.sim.snapshot().channels.map((x) => x.loadOhms)).toEqual(b.sim.snapshot().channels.map((x) => x.loadOhms));
    // PROTOCOL.md §6.1 "random per power-up": a restarted simulator is told apart by its boot id.
    expect(a.sim.snapshot().bootId).not.toBe(b.sim.snapshot().bootId);
    const c = makeRig({ seed: 7, bootEntropy: 42 });
    const d = makeRig({ seed: 7, bootEntropy: 42 });
    const e = makeRig({ seed: 8, bootEntropy: 42 });
    expect(c.sim.snapshot().bootId).toBe(d.sim.snapshot().bootId);
    expect(c.sim.snapshot().bootId).not.toBe(e.sim.snapshot().bootId);
  });

  it('HELLO reports identity and the compiled limits', () => {
    const r = makeRig({ seed: 3, model: 'M1', firmware: '2.0', serial: 'SN-9' });
    const reply = r.hello();
    expect(reply).toEqual({
      type: 'ok',
      seq: 0,
      verb: 'HELLO',
      args: {
        proto: 1,
        model: 'M1',
        fw: '2.0',
        sn: 'SN-9',
        boot: r.sim.snapshot().bootId,
        ch: 4,
        fmin: 1000,
        fmax: 150000,
        pwmin: 50,
        pwmax: 600,
        amin: 0,
        amax: 20000,
        qmax: 12000,
        tmax: 3600,
        vc: 80,
        wdog: 1000,
      },
    });
    expect(r.sim.snapshot().hostSession).toBe(true);
  });

  it('refuses identities too long for a HELLO reply, and bad options', () => {
    const long = 'X'.repeat(32);
    const widest = { fmin: 999_999, fmax: 1_000_000, pwmin: 9_999, pwmax: 10_000, amin: 99_999, amax: 100_000, qmax: 9_999_999, tmax: 86_400, vc: 1000 };
    expect(() => makeRig({ model: long, firmware: long, serial: long, limits: widest })).toThrow(/too long together/);
    expect(() => makeRig({ model: long, firmware: long, serial: long })).not.toThrow(); // 254 bytes with the default limits
    expect(() => makeRig({ model: 'has space' })).toThrow(/model/);
    expect(() => makeRig({ channels: 9 })).toThrow(/channels/);
    expect(() => makeRig({ tickMs: 11 })).toThrow(/tickMs/);
    expect(() => makeRig({ limits: { wdog: 1500 } })).toThrow(/wdog/);
    expect(() => makeRig({ limits: { fmin: 5000, fmax: 4000 } })).toThrow(/fmin/);
    expect(() => makeRig({ loadOhms: -1 })).toThrow(/load/);
    const r = makeRig({ model: 'X'.repeat(24), firmware: 'Y'.repeat(24), serial: 'Z'.repeat(24), channels: 8, limits: widest });
    r.seq = 65535;
    expect(r.hello()).toMatchObject({ seq: 65535, args: { model: 'X'.repeat(24), ch: 8 } });
    expect(r.tx.at(-1)?.chunk.length).toBeLessThanOrEqual(257);
  });

  it('HELLO picks the highest version inside the range, refuses a range without one', () => {
    const r = makeRig();
    expect(r.request('HELLO', { vmin: 1, vmax: 9 })).toMatchObject({ type: 'ok', args: { proto: 1 } });
    const refused = r.request('HELLO', { vmin: 2, vmax: 5 });
    expect(refused).toMatchObject({ type: 'err', args: { code: 'VERSION' } });
    expect(refused.type === 'err' && refused.args.msg).toBe('speaks 1..1'); // PROTOCOL.md §6.1, §10
    // A refused HELLO leaves the existing session alone.
    expect(r.sim.snapshot().hostSession).toBe(true);
  });

  it('HELLO with vmin > vmax is BAD_ARG (the codec refuses it), answered with the seq', () => {
    const r = makeRig();
    const body = '5 HELLO vmin=3 vmax=1';
    const [reply] = r.raw(`${frame(body)}\n`);
    expect(reply).toMatchObject({ type: 'err', seq: 5, args: { code: 'BAD_ARG' } });
  });

  it('a new HELLO ends every output and discards staged programs, keeping the latch', () => {
    const r = makeRig();
    r.hello();
    r.run(1);
    r.request('SET', program({ ch: 2 }));
    r.scheduler.advance(500);
    r.hello();
    const s = r.sim.snapshot();
    expect(s.channels.map((c) => c.state)).toEqual(['OFF', 'OFF', 'OFF', 'OFF']);
    r.request('ESTOP', {});
    r.hello();
    expect(r.sim.snapshot().latched).toBe(true);
  });

  it('without HELLO: SET, START, AMP, HB and IMP are NO_HELLO; STATUS, STOP, ESTOP, CLEAR work', () => {
    const r = makeRig();
    expect(codeOf(r.request('SET', program()))).toBe('NO_HELLO');
    expect(codeOf(r.request('START', { ch: 1 }))).toBe('NO_HELLO');
    expect(codeOf(r.request('AMP', { ch: 1, amp: 100 }))).toBe('NO_HELLO');
    expect(codeOf(r.request('HB', {}))).toBe('NO_HELLO');
    expect(codeOf(r.request('IMP', { ch: 1 }))).toBe('NO_HELLO');
    expect(codeOf(r.request('STATUS', {}))).toBe('OK');
    expect(codeOf(r.request('STOP', {}))).toBe('OK');
    expect(codeOf(r.request('ESTOP', {}))).toBe('OK');
    expect(codeOf(r.request('CLEAR', {}))).toBe('OK');
  });
});

describe('SET, START, AMP, STOP, STATUS, IMP', () => {
  it('SET stages and answers the read-back CRC of what it stored', () => {
    const r = makeRig();
    r.hello();
    const p = program({ ch: 2, mode: 'DD', f: 2000, f2: 100_000, dwell: 3000 });
    const reply = r.request('SET', p);
    expect(reply).toEqual({ type: 'ok', seq: 1, verb: 'SET', args: { ch: 2, crc: setReadbackCrc(p) } });
    expect(r.sim.snapshot().channels[1]).toMatchObject({ state: 'STAGED', program: p });
  });

  it('SET out of range is refused with RANGE for every field, naming it', () => {
    const r = makeRig();
    r.hello();
    const L = DEFAULT_LIMITS;
    const cases: [Partial<SetArgs>, RegExp][] = [
      [{ f: L.fmin - 1 }, /^f 999 not in 1000\.\.150000 mHz$/],
      [{ f: L.fmax + 1 }, /^f 150001/],
      [{ mode: 'DD', f: 2000, f2: L.fmax + 1, dwell: 1000 }, /^f2 150001/],
      [{ mode: 'BURST', f: 2000, f2: 500, n: 3 }, /^f2 500 not in/],
      [{ pw: L.pwmin - 1 }, /^pw 49 not in 50\.\.600 us$/],
      [{ pw: L.pwmax + 1 }, /^pw 601/],
      [{ amp: L.amax + 1 }, /^amp 20001 not in 0\.\.20000 uA$/],
      [{ dur: L.tmax + 1 }, /^dur 3601 not in 1\.\.3600 s$/],
      [{ ramp: L.slew + 1 }, /^ramp 1001 not in 1\.\.1000 uA\/s$/],
      [{ mode: 'BURST', f: 2000, f2: 100_000, n: 50 }, /^n 50 x f must be below f2/],
      [{ ch: 5 }, /^ch 5 not in 1\.\.4$/],
    ];
    for (const [overrides, msg] of cases) {
      const reply = r.request('SET', program(overrides));
      expect(reply.type === 'err' && reply.args, JSON.stringify(overrides)).toMatchObject({ code: 'RANGE' });
      expect(reply.type === 'err' ? reply.args.msg : '', JSON.stringify(overrides)).toMatch(msg);
    }
    // Nothing was staged by any refused SET.
    expect(r.sim.snapshot().channels.every((c) => c.state === 'OFF')).toBe(true);
    // The edges themselves are accepted; a burst that exactly fills its period is not.
    expect(codeOf(r.request('SET', program({ f: L.fmin, pw: L.pwmax, amp: L.amax, dur: L.tmax, ramp: L.slew })))).toBe('OK');
    expect(codeOf(r.request('SET', program({ mode: 'BURST', f: 2000, f2: 100_000, n: 49 })))).toBe('OK');
    expect(codeOf(r.request('SET', program({ mode: 'BURST', f: 2000, f2: 100_000, n: 50 })))).toBe('RANGE');
  });

  it('values beyond what the codec can carry are BAD_ARG before the device looks at them', () => {
    const r = makeRig();
    r.hello();
    const [reply] = r.raw(`${frame('9 SET ch=1 mode=CONT f=2000 pw=250 wf=SYM amp=200000 dur=10 ramp=100')}\n`);
    expect(reply).toMatchObject({ type: 'err', seq: 9, args: { code: 'BAD_ARG' } });
  });

  it('CHARGE: amp x pw above qmax (reachable with a device whose qmax is below amax x pwmax)', () => {
    const r = makeRig({ limits: { qmax: 6000 } });
    r.hello();
    const reply = r.request('SET', program({ amp: 20_000, pw: 301 }));
    expect(reply).toMatchObject({ type: 'err', args: { code: 'CHARGE', msg: 'amp x pw 6020 nC above qmax 6000 nC' } });
    expect(codeOf(r.request('SET', program({ amp: 20_000, pw: 300 })))).toBe('OK');
    // AMP checks charge against the running program's pulse width too.
    r.run(2, { amp: 1000, pw: 600 });
    expect(codeOf(r.request('AMP', { ch: 2, amp: 10_001 }))).toBe('CHARGE');
    expect(codeOf(r.request('AMP', { ch: 2, amp: 10_000 }))).toBe('OK');
  });

  it('errors come in the documented order: NO_HELLO, LATCHED, RANGE (ch), STATE, RANGE (values), CHARGE', () => {
    const r = makeRig({ limits: { qmax: 100 } });
    const bad = program({ ch: 5, f: 1, amp: 20_000 });
    expect(codeOf(r.request('SET', bad))).toBe('NO_HELLO');
    r.hello();
    r.request('ESTOP', {});
    expect(codeOf(r.request('SET', bad))).toBe('LATCHED');
    r.request('CLEAR', {});
    expect(codeOf(r.request('SET', bad))).toBe('RANGE');
    r.run(1, { amp: 100, pw: 100 });
    expect(codeOf(r.request('SET', program({ ch: 1, f: 1, amp: 20_000 })))).toBe('STATE');
    expect(codeOf(r.request('SET', program({ ch: 2, f: 1, amp: 20_000 })))).toBe('RANGE');
    expect(codeOf(r.request('SET', program({ ch: 2, amp: 20_000 })))).toBe('CHARGE');
  });

  it('SET on an ON channel is STATE; on STAGED or DONE it restages', () => {
    const r = makeRig();
    r.hello();
    r.run(1, { dur: 1 });
    expect(r.request('SET', program({ ch: 1 }))).toMatchObject({ type: 'err', args: { code: 'STATE', msg: 'channel 1 is ON: STOP it first' } });
    r.scheduler.advance(500);
    r.request('HB', {});
    r.scheduler.advance(500);
    expect(r.sim.snapshot().channels[0]?.state).toBe('DONE');
    expect(codeOf(r.request('SET', program({ ch: 1 })))).toBe('OK');
    expect(codeOf(r.request('SET', program({ ch: 1, amp: 10 })))).toBe('OK');
  });

  it('START needs a STAGED channel; AMP needs an ON one; both refuse channels the device lacks', () => {
    const r = makeRig();
    r.hello();
    expect(codeOf(r.request('START', { ch: 1 }))).toBe('STATE');
    expect(codeOf(r.request('START', { ch: 5 }))).toBe('RANGE');
    expect(codeOf(r.request('AMP', { ch: 1, amp: 100 }))).toBe('STATE');
    expect(codeOf(r.request('AMP', { ch: 8, amp: 100 }))).toBe('RANGE');
    r.run(1);
    expect(codeOf(r.request('AMP', { ch: 1, amp: 20_001 }))).toBe('RANGE');
    expect(codeOf(r.request('START', { ch: 1 }))).toBe('STATE');
    expect(r.request('AMP', { ch: 1, amp: 1500 })).toEqual({ type: 'ok', seq: r.seq - 1, verb: 'AMP', args: { ch: 1, amp: 1500 } });
  });

  it('STOP one channel or all; idempotent; RANGE for a channel the device lacks', () => {
    const r = makeRig();
    r.hello();
    r.run(1);
    r.run(2);
    r.request('SET', program({ ch: 3 }));
    expect(r.request('STOP', { ch: 1 })).toMatchObject({ type: 'ok', verb: 'STOP', args: { ch: 1 } });
    expect(r.sim.snapshot().channels.map((c) => c.state)).toEqual(['OFF', 'ON', 'STAGED', 'OFF']);
    expect(r.request('STOP', {})).toMatchObject({ type: 'ok', verb: 'STOP', args: {} });
    expect(r.sim.snapshot().channels.map((c) => c.state)).toEqual(['OFF', 'OFF', 'OFF', 'OFF']);
    expect(codeOf(r.request('STOP', {}))).toBe('OK');
    expect(codeOf(r.request('STOP', { ch: 5 }))).toBe('RANGE');
  });

  it('STATUS reports latch, boot, uptime and every channel state', () => {
    const r = makeRig({ channels: 3 });
    r.scheduler.advance(1234);
    r.hello();
    r.run(2);
    r.request('SET', program({ ch: 3 }));
    const reply = r.request('STATUS', {});
    expect(reply).toEqual({
      type: 'ok',
      seq: r.seq - 1,
      verb: 'STATUS',
      args: { latched: false, boot: r.sim.snapshot().bootId, up: 1234, s1: 'OFF', s2: 'ON', s3: 'STAGED' },
    });
  });

  it('IMP reads the load, OPEN for an open load or one the test pulse cannot drive, STATE while ON', () => {
    const r = makeRig({ loadOhms: 2000 });
    r.hello();
    const z = r.sim.snapshot().channels[0]?.loadOhms as number;
    expect(z).toBeGreaterThanOrEqual(2000 * 0.97);
    expect(z).toBeLessThanOrEqual(2000 * 1.03);
    expect(r.request('IMP', { ch: 1 })).toMatchObject({ type: 'ok', verb: 'IMP', args: { ch: 1, z } });
    r.sim.setLoad(2, 'OPEN');
    expect(r.request('IMP', { ch: 2 })).toMatchObject({ args: { z: 'OPEN' } });
    r.sim.setLoad(3, 800_001); // 100 µA x 800001 ohm > 80 V
    expect(r.request('IMP', { ch: 3 })).toMatchObject({ args: { z: 'OPEN' } });
    r.sim.setLoad(3, 800_000);
    expect(r.request('IMP', { ch: 3 })).toMatchObject({ args: { z: 800_000 } });
    r.run(1);
    expect(codeOf(r.request('IMP', { ch: 1 }))).toBe('STATE');
    expect(codeOf(r.request('IMP', { ch: 5 }))).toBe('RANGE');
  });

  it('HB answers OK within a session', () => {
    const r = makeRig();
    r.hello();
    expect(r.request('HB', {})).toEqual({ type: 'ok', seq: 1, verb: 'HB', args: {} });
  });
});

describe('ESTOP and CLEAR', () => {
  it('ESTOP switches everything off and latches; START/SET/AMP answer LATCHED until CLEAR', () => {
    const r = makeRig();
    r.hello();
    r.run(1);
    r.request('SET', program({ ch: 2 }));
    r.scheduler.advance(300);
    expect(r.request('ESTOP', {})).toMatchObject({ type: 'ok', verb: 'ESTOP', args: { latched: true } });
    const s = r.sim.snapshot();
    expect(s.latched).toBe(true);
    expect(s.channels.map((c) => [c.state, c.setpointUa, c.measuredUa])).toEqual([
      ['OFF', 0, 0],
      ['OFF', 0, 0],
      ['OFF', 0, 0],
      ['OFF', 0, 0],
    ]);
    expect(codeOf(r.request('SET', program()))).toBe('LATCHED');
    expect(codeOf(r.request('START', { ch: 2 }))).toBe('LATCHED');
    expect(codeOf(r.request('AMP', { ch: 1, amp: 10 }))).toBe('LATCHED');
    expect(codeOf(r.request('HB', {}))).toBe('OK');
    expect(r.request('CLEAR', {})).toMatchObject({ type: 'ok', verb: 'CLEAR', args: { latched: false } });
    expect(r.sim.snapshot().channels.every((c) => c.state === 'OFF')).toBe(true); // nothing restored
    r.run(1);
    expect(r.sim.snapshot().channels[0]?.state).toBe('ON');
    expect(r.events.map((x) => x.e.event)).toContain('estop');
    expect(r.events.map((x) => x.e.event)).toContain('clear');
  });

  it('ESTOP is accepted without a session and acts even as a byte-identical retry', () => {
    const r = makeRig();
    const line = r.line('ESTOP', {});
    r.raw(`${line}\n`);
    // Nothing in between: a fault or DONE would empty the retry store and the retry would run anyway.
    r.raw(`${line}\n`);
    expect(eventsOf(r, 'estop')).toHaveLength(2);
    expect(r.sim.snapshot().counters.repeatsAnswered).toBe(0);
  });
});

describe('invalid input', () => {
  it('BAD_CRC, BAD_FRAME and TOO_LONG are answered ! ERR without msg; UNKNOWN_VERB and BAD_ARG with the seq', () => {
    const r = makeRig();
    const good = encode({ type: 'request', seq: 4, verb: 'HB', args: {} });
    const badCrc = `${good.slice(0, -4)}${good.endsWith('0000') ? '0001' : '0000'}`;
    expect(r.raw(`${badCrc}\n`)).toEqual([{ type: 'err', seq: null, args: { code: 'BAD_CRC' } }]);
    expect(r.raw('hello there\n')).toEqual([{ type: 'err', seq: null, args: { code: 'BAD_FRAME' } }]);
    expect(r.raw(`${frame('! HB')}\n`)).toEqual([{ type: 'err', seq: null, args: { code: 'BAD_FRAME' } }]);
    expect(r.raw(`${frame('7 OK HB')}\n`)).toEqual([{ type: 'err', seq: null, args: { code: 'BAD_FRAME' } }]);
    expect(r.raw(`${'x'.repeat(300)}\n`)).toEqual([{ type: 'err', seq: null, args: { code: 'TOO_LONG' } }]);
    const [unknown] = r.raw(`${frame('12 FROB')}\n`);
    expect(unknown).toMatchObject({ type: 'err', seq: 12, args: { code: 'UNKNOWN_VERB' } });
    const [badArg] = r.raw(`${frame('13 START ch=1 extra=2')}\n`);
    expect(badArg).toMatchObject({ type: 'err', seq: 13, args: { code: 'BAD_ARG' } });
    expect(badArg?.type === 'err' && badArg.args.msg).toMatch(/extra/);
    const c = r.sim.snapshot().counters;
    expect(c.rejectedByCode).toMatchObject({ BAD_CRC: 1, BAD_FRAME: 3, TOO_LONG: 1, UNKNOWN_VERB: 1, BAD_ARG: 1 });
    expect(c.framesOk).toBe(0);
    expect(eventsOf(r, 'rejected').map((x) => x.e.code)).toEqual(['BAD_CRC', 'BAD_FRAME', 'BAD_FRAME', 'BAD_FRAME', 'TOO_LONG', 'UNKNOWN_VERB', 'BAD_ARG']);
  });

  it('non-ASCII bytes are BAD_FRAME; empty lines are ignored; CRLF is tolerated', () => {
    const r = makeRig();
    const hb = encode({ type: 'request', seq: 1, verb: 'HB', args: {} });
    const bytes = new TextEncoder().encode(`${hb.slice(0, 2)}\u00e9${hb.slice(2)}\n`);
    expect(r.raw(bytes)).toEqual([{ type: 'err', seq: null, args: { code: 'BAD_FRAME' } }]);
    expect(r.raw(`\u20ac${hb}\n`)).toEqual([{ type: 'err', seq: null, args: { code: 'BAD_FRAME' } }]);
    expect(r.raw(Uint8Array.from([0x80, 0xff, 0x0a]))).toEqual([{ type: 'err', seq: null, args: { code: 'BAD_FRAME' } }]);
    expect(r.raw('\n\r\n\n')).toEqual([]);
    expect(r.raw(`${encode({ type: 'request', seq: 2, verb: 'STATUS', args: {} })}\r\n`)).toMatchObject([{ type: 'ok', seq: 2, verb: 'STATUS' }]);
  });

  it('every reply and event the device writes decodes with the codec', () => {
    const r = makeRig();
    r.hello();
    r.run(1, { amp: 500 });
    r.scheduler.advance(2000);
    r.raw('junk\n');
    r.request('STATUS', {});
    for (const { chunk } of r.tx) {
      expect(chunk.endsWith('\n')).toBe(true);
      expect(decodeDeviceLine(chunk.slice(0, -1)).ok, chunk).toBe(true);
    }
  });
});

describe('idempotent retry', () => {
  it('a byte-identical repeat of the last line re-sends the stored reply without executing again', () => {
    const r = makeRig();
    r.hello();
    const set = r.line('SET', program({ amp: 1000 }));
    const [first] = r.raw(`${set}\n`);
    const start = r.line('START', { ch: 1 });
    r.raw(`${start}\n`);
    const original = r.tx.at(-1)?.chunk;
    r.scheduler.advance(200);
    const before = r.sim.snapshot().channels[0];
    const txBefore = r.tx.length;
    r.raw(`${start}\n`); // retry: must not restart the ramp
    expect(r.tx.slice(txBefore).map((x) => x.chunk)).toEqual([original]);
    const after = r.sim.snapshot().channels[0];
    expect(after?.setpointUa).toBe(before?.setpointUa);
    expect(r.sim.snapshot().counters.repeatsAnswered).toBe(1);
    expect(first).toMatchObject({ type: 'ok', verb: 'SET' });
  });

  it('the re-sent reply is the stored one, byte for byte, and feeds the watchdog', () => {
    const r = makeRig();
    r.hello();
    r.sim.dropReplies(1);
    const line = r.line('SET', program());
    expect(r.raw(`${line}\n`)).toEqual([]); // reply lost
    const retried = r.raw(`${line}\n`);
    expect(retried).toEqual([{ type: 'ok', seq: 1, verb: 'SET', args: { ch: 1, crc: setReadbackCrc(program()) } }]);
    // A repeat of a refused request gets the stored refusal.
    const bad = r.line('START', { ch: 2 });
    const refusal = r.raw(`${bad}\n`);
    r.scheduler.advance(900);
    expect(r.raw(`${bad}\n`)).toEqual(refusal);
    r.scheduler.advance(900);
    expect(r.sim.snapshot().hostSession).toBe(true); // the repeat at t=900 re-armed the watchdog
    const c = r.sim.snapshot().counters;
    expect(c.repeatsAnswered).toBe(2);
    expect(c.rejectedByCode.STATE).toBe(2);
  });

  it('a different seq or text executes again; an out-of-band change (watchdog) forgets the stored reply', () => {
    const r = makeRig();
    r.hello();
    const hb = r.line('HB', {});
    r.raw(`${hb}\n`);
    r.scheduler.advance(1010); // watchdog trips: session over
    expect(r.sim.snapshot().hostSession).toBe(false);
    expect(r.raw(`${hb}\n`)).toMatchObject([{ type: 'err', args: { code: 'NO_HELLO' } }]);
  });
});

describe('unsolicited error cap', () => {
  it('at most 10 ! ERR lines in any second; the rest are counted', () => {
    const r = makeRig();
    r.raw('bad\n'.repeat(100));
    expect(r.decoded().filter((m) => m.type === 'err')).toHaveLength(10);
    expect(r.sim.snapshot().counters.unsolicitedErrorsSuppressed).toBe(90);
    expect(r.sim.snapshot().counters.rejectedByCode.BAD_FRAME).toBe(100);
    r.scheduler.advance(999);
    r.raw('bad\n');
    expect(r.decoded().filter((m) => m.type === 'err')).toHaveLength(10);
    r.scheduler.advance(1);
    r.raw('bad\n'.repeat(20));
    expect(r.decoded().filter((m) => m.type === 'err')).toHaveLength(20);
    expect(r.sim.snapshot().counters.unsolicitedErrorsSuppressed).toBe(101);
  });

  it('the cap is a sliding window, and errors with a seq are never capped', () => {
    const r = makeRig();
    for (let t = 0; t < 3000; t += 50) {
      r.raw('bad\n');
      r.scheduler.advance(50);
    }
    // 20 per second offered; every 1000 ms window holds at most 10 sent.
    const times = r.tx.filter((x) => x.chunk.startsWith('! ERR')).map((x) => x.at);
    for (const t of times) expect(times.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(10);
    expect(times.length).toBe(30);
    const unknown = Array.from({ length: 30 }, (_, i) => `${frame(`${i} FROB`)}\n`).join('');
    expect(r.raw(unknown)).toHaveLength(30);
  });
});
