/**
 * H18 (delivered != commanded) and H22 (a silent device reset): the host compares what the device
 * says it did with what it was commanded, and stops a device it cannot believe. The device here is
 * the real simulator with a tap in front of the host (test/support/tap-transport.ts) that rewrites
 * what the device says, with valid CRCs: a device that lies, not a noisy line. Every test checks
 * what the host WROTE (the ESTOP frame and when), not what the simulator did.
 *
 * Found by adversarial testing: a device answering `AMP amp=4000` with `OK AMP amp=20000`, then
 * delivering 20 mA (its TEL said 19.4 mA against a 10 mA protocol maximum), ran for 30 s with no
 * alarm; so did a device whose TEL reported 50 mA; and a device that silently lost its session
 * (HB answered ERR NO_HELLO, TEL stopped) left the host showing "OUTPUT ON 3.2 mA".
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceToHost } from '../../../firmware-protocol/index.js';
import { OUTPUT_MONITOR, measuredToleranceMa } from '../../../src/domain/safety/limits.js';
import { buildReport } from '../../../src/session/report.js';
import { clearedFor, harness, kneeProtocol } from '../../support/session-harness.js';

let open: ReturnType<typeof harness>[] = [];
afterEach(() => {
  for (const h of open) h.dispose();
  open = [];
});

async function running(targetMa: number, options: Parameters<typeof harness>[0] = {}) {
  const h = harness(options);
  open.push(h);
  await h.ready();
  const r = await h.call(h.runner.start({ targetMa }));
  if (!r.ok) throw new Error(r.error.message);
  await h.until(() => h.runner.state === 'running', 60_000, 'running');
  return h;
}

/** When the host first wrote an ESTOP frame after `since`, or undefined. */
function estopAt(h: Awaited<ReturnType<typeof running>>, since = -Infinity): number | undefined {
  return h.tap.written.find((w) => w.at >= since && / ESTOP /.test(w.line))?.at;
}

const isTel = (m: DeviceToHost): m is Extract<DeviceToHost, { type: 'event'; event: 'TEL' }> => m.type === 'event' && m.event === 'TEL';

describe('H18 the host compares what the device did with what it commanded', () => {
  it('H18 an AMP echoed with another amplitude (OK AMP amp=20000 to AMP amp=4000...) is an e-stop and a high alarm naming both values', async () => {
    const h = await running(2);
    let liedAt: number | undefined;
    h.tap.rewrite = (m) => {
      if (m.type === 'ok' && m.verb === 'AMP' && liedAt === undefined) {
        liedAt = h.scheduler.now();
        return { ...m, args: { ...m.args, amp: 20_000 } };
      }
      return m;
    };
    expect(h.runner.titrate(0.5).ok).toBe(true);
    await h.until(() => h.runner.state === 'aborted', 2000, 'aborted');
    expect(liedAt).toBeDefined();
    expect(estopAt(h, liedAt)! - liedAt!).toBe(0); // written on the lying reply itself
    const high = h.runner.snapshot.alarms.find((a) => a.priority === 'high')!;
    expect(high.cause).toMatch(/amp=20000 µA \(20 mA\) though amp=2\d{3} µA \(2\.\d+ mA\) was sent/);
    expect(h.recorder().ofType('session-end')).toEqual([expect.objectContaining({ reason: 'aborted' })]);
  });

  it('H18 a START or STOP echo naming another channel is refused too', async () => {
    const h = harness();
    open.push(h);
    await h.ready();
    h.tap.rewrite = (m) => (m.type === 'ok' && m.verb === 'START' ? { ...m, args: { ch: m.args.ch === 1 ? 2 : 1 } } : m);
    const r = await h.call(h.runner.start({ targetMa: 1 }));
    expect(r.ok).toBe(false);
    expect(h.runner.state).toBe('aborted');
    expect(h.runner.snapshot.reason).toMatch(/answered START with ch=2 though ch=1 was sent/);
    expect(estopAt(h)).toBeDefined();
  });

  for (const [what, lie, pattern] of [
    ['50 mA measured (above the 20 mA ceiling)', 50_000, /measures 50 mA, above the 20 mA ceiling/],
    ['19.43 mA measured against a 10 mA protocol maximum', 19_430, /measures 19\.43 mA, above the protocol's maximum of 10 mA/],
    ['3.5 mA measured at a commanded 2 mA', 3_500, /measures 3\.5 mA, above the commanded 2 mA/],
  ] as const) {
    it(`H18 TEL with ${what}: e-stop within one TEL period, high alarm, the sample recorded and flagged in the report`, async () => {
      const h = await running(2);
      let first: number | undefined;
      h.tap.rewrite = (m) => {
        if (!isTel(m) || m.args.ch !== 1) return m;
        first ??= h.scheduler.now();
        return { ...m, args: { ...m.args, i: lie } };
      };
      await h.until(() => h.runner.state === 'aborted', 1000, 'aborted');
      const tookMs = estopAt(h, first)! - first!;
      expect(tookMs).toBeLessThanOrEqual(100); // one TEL period; here it is written on that very line
      expect(tookMs).toBe(0);
      const alarm = h.runner.snapshot.alarms.find((a) => a.priority === 'high')!;
      expect(alarm).toMatchObject({ channel: 1 });
      expect(alarm.cause).toMatch(pattern);
      const m = h.recorder().ofType('measurement') as { channel: number; measuredMa: number }[];
      expect(m[0]).toMatchObject({ channel: 1, measuredMa: lie / 1000 });
      expect(h.output()).toEqual([]);
    });
  }

  it('H18 a measured current just inside the tolerance is believed; just above it is not', async () => {
    const tol = measuredToleranceMa(2);
    for (const [extraMa, aborts] of [
      [tol - 0.002, false],
      [tol + 0.002, true],
    ] as const) {
      const h = await running(2);
      h.tap.rewrite = (m) => (isTel(m) && m.args.ch === 2 ? { ...m, args: { ...m.args, i: Math.round((2 + extraMa) * 1000) } } : m);
      await h.run(1000);
      expect(h.runner.state, `2 mA + ${extraMa.toFixed(3)} mA`).toBe(aborts ? 'aborted' : 'running');
    }
  });

  it("H18 the device's own set point (TEL amp) above what was commanded is an e-stop", async () => {
    const h = await running(2);
    h.tap.rewrite = (m) => (isTel(m) && m.args.ch === 2 ? { ...m, args: { ...m.args, amp: m.args.amp + 1 } } : m);
    await h.until(() => h.runner.state === 'aborted', 500, 'aborted');
    expect(h.runner.snapshot.reason).toMatch(/Channel 2: the device reports its set point at 2\.001 mA, above the commanded 2 mA/);
  });

  it('H18 TEL missing for more than 3 periods while output is on: alarm and abort as a lost output stage', async () => {
    const h = await running(2);
    const lastTel = h.scheduler.now();
    h.tap.rewrite = (m) => (isTel(m) ? null : m);
    await h.until(() => h.runner.state === 'aborted', 1000, 'aborted');
    const took = estopAt(h, lastTel)! - lastTel;
    expect(took).toBeGreaterThan(OUTPUT_MONITOR.telemetryMissingMs.value - 100); // never before 3 periods of silence
    expect(took).toBeLessThanOrEqual(OUTPUT_MONITOR.telemetryMissingMs.value + 50 + 10); // the next loop tick
    expect(h.runner.snapshot.reason).toMatch(/no telemetry from the device for \d+ ms while output is on/);
    // both channels went quiet: both are recorded; the session aborted once
    expect(h.recorder().ofType('measurement')).toEqual([expect.objectContaining({ channel: 1, finding: 'telemetry-lost' }), expect.objectContaining({ channel: 2, finding: 'telemetry-lost' })]);
    expect(h.recorder().ofType('session-end')).toHaveLength(1);
  });

  it('H18 a measured current near 0 while commanding several mA: abort after the stated time, not before', async () => {
    const h = await running(3);
    let since: number | undefined;
    h.tap.rewrite = (m) => {
      if (!isTel(m) || m.args.ch !== 1) return m;
      since ??= h.scheduler.now();
      return { ...m, args: { ...m.args, i: 20 } };
    };
    await h.run(OUTPUT_MONITOR.lowCurrentMs.value - 150);
    expect(h.runner.state).toBe('running');
    await h.until(() => h.runner.state === 'aborted', 500, 'aborted');
    const took = estopAt(h, since)! - since!;
    expect(took).toBeGreaterThanOrEqual(OUTPUT_MONITOR.lowCurrentMs.value);
    expect(took).toBeLessThanOrEqual(OUTPUT_MONITOR.lowCurrentMs.value + 100);
    expect(h.runner.snapshot.reason).toMatch(/Channel 1: the device measures almost no current \(below 25 % of the commanded 3 mA\)/);
  });

  it('H18 current still measured after the e-stop: every sample recorded, one high alarm, the e-stop repeated', async () => {
    const h = await running(2);
    expect((await h.call(h.runner.estop('test'))).ok).toBe(true);
    const stoppedAt = h.scheduler.now();
    const estops = () => h.tap.written.filter((w) => / ESTOP /.test(w.line)).length;
    const before = estops();
    // From the e-stop on, the "device" keeps reporting 1.99 mA on channel 1, every 100 ms for 1 s.
    for (let k = 1; k <= 10; k++) {
      h.scheduler.schedule(() => h.tap.say({ type: 'event', event: 'TEL', args: { ch: 1, amp: 2000, i: 1990, z: 1500, q: 100 } }), k * 100);
    }
    await h.run(1100);
    const after = h.recorder().records.filter((r) => r.type === 'measurement' && r.t - stoppedAt >= OUTPUT_MONITOR.offGraceMs.value);
    // samples at 200, 300, ... 1000 ms after the stop: 9 of them (the first within the grace is not judged)
    expect(after).toHaveLength(9);
    expect(after.every((r) => (r.data as { finding: string }).finding === 'current-while-off')).toBe(true);
    const highs = h.runner.snapshot.alarms.filter((a) => /still measures 1\.99 mA/.test(a.cause));
    expect(highs).toHaveLength(1);
    expect(highs[0]).toMatchObject({ priority: 'high', channel: 1 });
    expect(estops()).toBeGreaterThan(before);
  });
});

describe('H22 a silent device reset is detected', () => {
  it('H22 HB answered ERR NO_HELLO (TEL stopped, no BOOT): the session aborts as a device reset, cause named, output shown off', async () => {
    const h = await running(3.2);
    let resetAt: number | undefined;
    h.tap.rewrite = (m) => {
      if (resetAt === undefined && m.type === 'ok' && m.verb === 'HB') resetAt = h.scheduler.now();
      if (resetAt === undefined) return m;
      if (isTel(m)) return null;
      if (m.type === 'ok' && m.verb === 'HB') return { type: 'err', seq: m.seq, args: { code: 'NO_HELLO', msg: 'no host session' } };
      return m;
    };
    await h.until(() => h.runner.state === 'aborted', 1000, 'aborted');
    expect(h.runner.snapshot.reason).toMatch(/lost its session with this computer \(it answered HB with ERR NO_HELLO/);
    expect(h.runner.snapshot.channels.every((c) => !c.on)).toBe(true);
    expect(estopAt(h, resetAt)).toBeDefined();
    expect(h.runner.snapshot.alarms[0]).toMatchObject({ priority: 'high' });
  });
});

describe('the report flags what the device reported beyond what it was commanded', () => {
  it('H18 every measurement record is an alarm line in the report, with both values', async () => {
    const h = await running(2);
    h.tap.rewrite = (m) => (isTel(m) && m.args.ch === 1 ? { ...m, args: { ...m.args, i: 19_430 } } : m);
    await h.until(() => h.runner.state === 'aborted', 1000, 'aborted');
    const records = h.recorder().records.map((r, n) => ({ n, t: r.t, ts: new Date(Date.UTC(2026, 0, 1) + r.t).toISOString(), type: r.type, data: r.data, prev: '0'.repeat(64) }));
    const report = buildReport(records as unknown as Parameters<typeof buildReport>[0]);
    const flagged = report.events.filter((e) => e.kind === 'measurement');
    expect(flagged).toHaveLength(1);
    expect(flagged[0]).toMatchObject({ severity: 'alarm' });
    expect(flagged[0]!.text).toMatch(/over protocol.*19\.43 mA, above the protocol's maximum of 10 mA/);
  });
});

describe('H28 after a watchdog trip or a lost session the device session is re-established', () => {
  it('H28 a stalled host trips the device watchdog: the session aborts, the host HELLOs again, and the next session starts (no NO_HELLO)', async () => {
    const h = await running(2);
    // The host stalls, as the device sees it: nothing it writes arrives for 1.3 s.
    h.tap.mute = true;
    await h.until(() => h.simEvents.some((e) => e.event === 'watchdog'), 2000, "the device's watchdog");
    h.tap.mute = false;
    await h.until(() => h.runner.state === 'aborted', 2000, 'aborted');
    const wdogAt = h.simEvents.find((e) => e.event === 'watchdog')!.at;
    await h.until(() => h.tap.written.some((w) => w.at > wdogAt && / HELLO /.test(w.line)) && h.client.info !== undefined, 3000, 'a new HELLO');
    expect((await h.call(h.runner.clear())).ok).toBe(true);
    expect(h.runner.newSession()).toEqual({ ok: true, value: undefined });
    const p = h.runner.prepare({ protocol: kneeProtocol() });
    expect(p.ok).toBe(true);
    const s2 = await h.call(h.runner.submitScreening(clearedFor(kneeProtocol())));
    expect(s2.ok).toBe(true);
    expect((await h.call(h.runner.start({ targetMa: 1 }))).ok).toBe(true);
    await h.until(() => h.runner.state === 'running', 20_000, 'the next session running');
  });

  it('H28 a watchdog trip followed by the lost session it causes: one HELLO, written only after the ESTOP was confirmed', async () => {
    // The order after a real trip: WDOG, the host's ESTOP, and an HB already in flight answered
    // ERR NO_HELLO before the device's OK to the ESTOP arrives. The lost session's own abort found
    // one running; it must wait for it, not HELLO at once (and a second time when it finished).
    const h = await running(2);
    let held: DeviceToHost | undefined;
    let lostAt: number | undefined;
    h.tap.rewrite = (m) => {
      if (m.type === 'ok' && m.verb === 'ESTOP' && lostAt === undefined) {
        held = m;
        return null;
      }
      if (held !== undefined && lostAt === undefined && m.type === 'ok' && m.verb === 'HB') {
        lostAt = h.scheduler.now();
        return { type: 'err', seq: m.seq, args: { code: 'NO_HELLO', msg: 'no host session' } };
      }
      return m;
    };
    const wdogAt = h.scheduler.now();
    h.tap.say({ type: 'event', event: 'WDOG', args: {} });
    await h.until(() => lostAt !== undefined, 2000, 'the NO_HELLO answer');
    // Let the host act on the lost session before the device confirms the ESTOP.
    await h.until(() => h.scheduler.now() >= lostAt! + 50, 1000, '50 ms after the lost session');
    const confirmedAt = h.scheduler.now();
    h.tap.say(held!);
    await h.until(() => h.client.info !== undefined && h.client.failure === undefined, 3000, 'a new handshake');
    await h.until(() => h.scheduler.now() >= confirmedAt + 1000, 2000, 'one more second');
    const hellos = h.tap.written.filter((w) => w.at >= wdogAt && / HELLO /.test(w.line));
    expect(h.runner.state).toBe('aborted');
    expect(hellos).toHaveLength(1);
    expect(hellos[0]!.at).toBeGreaterThanOrEqual(confirmedAt);
  });

  it('H22 after a silent reset (NO_HELLO), the host HELLOs again once output is confirmed off', async () => {
    const h = await running(1);
    let lost = false;
    h.tap.rewrite = (m) => {
      if (!lost && m.type === 'ok' && m.verb === 'HB') {
        lost = true;
        return { type: 'err', seq: m.seq, args: { code: 'NO_HELLO', msg: 'no host session' } };
      }
      return m;
    };
    await h.until(() => h.runner.state === 'aborted', 2000, 'aborted');
    await h.until(() => h.client.info !== undefined && h.client.failure === undefined, 3000, 'a new handshake');
    expect(h.tap.written.filter((w) => / HELLO /.test(w.line))).toHaveLength(2);
  });
});
