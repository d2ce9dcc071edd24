import { afterEach, describe, expect, it } from 'vitest';
import { RAMP_STEP_MS } from '../../../src/session/runner.js';
import { BUILT_IN_FILES } from '../../../src/domain/protocols/library/index.js';
import { validateProtocol } from '../../../src/domain/protocols/validate.js';
import { clearedFor, harness, kneeProtocol } from '../../support/session-harness.js';

let open: ReturnType<typeof harness>[] = [];
function make(...args: Parameters<typeof harness>) {
  const h = harness(...args);
  open.push(h);
  return h;
}
afterEach(() => {
  for (const h of open) h.dispose();
  open = [];
});

describe('SessionRunner on the simulator, virtual time', () => {
  it('runs a whole 20-minute knee session: ramp, titration, pause/resume, completion at exactly 20:00', async () => {
    const h = make();
    await h.ready();
    expect(h.runner.state).toBe('checking-electrodes');
    expect(h.runner.snapshot.electrodes.every((e) => e.ok)).toBe(true);

    const started = await h.call(h.runner.start({ targetMa: 4 }));
    expect(started.ok).toBe(true);
    const t0 = h.scheduler.now();
    // The knee protocol ramps at 0.5 mA/s: 4 mA takes 8 s.
    await h.until(() => h.runner.state === 'running', 20_000, 'running');
    const rampS = (h.scheduler.now() - t0) / 1000;
    expect(rampS).toBeGreaterThanOrEqual(8);
    expect(rampS).toBeLessThan(8 + (2 * RAMP_STEP_MS) / 1000);
    expect(h.runner.snapshot.channels.map((c) => c.commandedMa)).toEqual([4, 4]);

    expect(h.runner.titrate(0.5).ok).toBe(true);
    await h.run(3000);
    expect(h.runner.snapshot.channels.map((c) => c.commandedMa)).toEqual([4.5, 4.5]);

    await h.run(60_000);
    expect((await h.call(h.runner.pause())).ok).toBe(true);
    expect(h.output()).toEqual([]);
    const heldAt = h.runner.snapshot.elapsedS;
    await h.run(120_000); // paused for two minutes: the clock holds
    expect(h.runner.snapshot.elapsedS).toBe(heldAt);
    expect((await h.call(h.runner.resume())).ok).toBe(true);
    await h.until(() => h.runner.state === 'running', 20_000, 'running after resume');
    expect(h.runner.snapshot.channels.map((c) => c.commandedMa)).toEqual([4.5, 4.5]);

    await h.until(() => h.runner.state === 'completed', 25 * 60_000, 'completion');
    expect(h.runner.snapshot.elapsedS).toBe(1200);
    expect(h.output()).toEqual([]);
    expect(h.states).toEqual(['idle', 'connecting', 'ready', 'screening', 'checking-electrodes', 'ramping', 'running', 'paused', 'ramping', 'running', 'ramping-down', 'completed']);
    const end = h.recorder().ofType('session-end');
    expect(end).toEqual([{ reason: 'completed', finalState: 'completed', stimulationS: 1200, phases: [{ index: 0, stimulationS: 1200 }] }]);
    // The journal stays open after its end record (what still happens is recorded after it) until
    // the next session, a disconnect or dispose.
    expect(h.recorder().closed).toBe(false);
    expect(h.runner.newSession().ok).toBe(true);
    expect(h.recorder().closed).toBe(true);
  });

  it('H11 never commands a rise faster than the protocol ramp (0.5 mA/s here, 1 mA/s at most)', async () => {
    const h = make();
    await h.ready();
    await h.call(h.runner.start({ targetMa: 6 }));
    await h.until(() => h.runner.state === 'running', 30_000, 'running');
    h.runner.titrate(0.5);
    h.runner.titrate(0.5);
    await h.run(5000);
    const amps = h.recorder().records.filter((r) => r.type === 'amplitude') as { data: { channel: number; commandedMa: number }; t: number }[];
    for (const ch of [1, 2]) {
      const series = amps.filter((a) => a.data.channel === ch);
      for (let i = 1; i < series.length; i++) {
        const rise = series[i]!.data.commandedMa - series[i - 1]!.data.commandedMa;
        const dt = (series[i]!.t - series[i - 1]!.t) / 1000;
        if (rise > 0) expect(rise).toBeLessThanOrEqual(0.5 * dt + 1e-9);
      }
      expect(series.at(-1)!.data.commandedMa).toBe(7);
    }
  });

  it('refuses a start target above the phase maximum before anything is sent', async () => {
    const h = make();
    await h.ready();
    const sent = h.client.counters.linesOut;
    const r = await h.call(h.runner.start({ targetMa: 25 }));
    expect(!r.ok && r.error.code).toBe('LimitExceeded');
    expect(!r.ok && r.error.message).toMatch(/25 mA is outside 0..10 mA/);
    expect(h.client.counters.linesOut).toBe(sent);
    expect(h.runner.state).toBe('checking-electrodes');
  });

  it('refuses titration above maxMa with the reason', async () => {
    const h = make();
    await h.ready();
    await h.call(h.runner.start({ targetMa: 9.8 }));
    const r = h.runner.titrate(0.5);
    expect(!r.ok && r.error.message).toMatch(/10.3 mA is above 10 mA/);
  });

  it("H1 titrating all channels checks each channel: one at its maximum stays there, named with the reason, and the session reaches running", async () => {
    // Found by adversarial testing: with channel 2 at its maximum, "all +0.5" set channel 2's target
    // above the maximum (only channel 1 was checked); the guard held it back, the session stayed in
    // "ramping" for ever and wrote a warning every step.
    const h = make();
    await h.ready();
    await h.call(h.runner.start({ targetMa: 9 }));
    await h.until(() => h.runner.state === 'running', 60_000, 'running');
    expect(h.runner.titrate(0.5, 2).ok).toBe(true);
    expect(h.runner.titrate(0.5, 2).ok).toBe(true); // channel 2 at 10 mA, its maximum
    await h.until(() => h.runner.snapshot.channels[1]!.commandedMa === 10, 20_000, 'channel 2 at 10 mA');
    const r = h.runner.titrate(0.5);
    expect(r).toEqual({
      ok: true,
      value: { targets: [{ channel: 1, targetMa: 9.5 }], refused: [{ channel: 2, reason: "10.5 mA is above 10 mA, the maximum of phase 'periosteal EDN'; channel 2 stays at 10 mA" }] },
    });
    expect(h.runner.snapshot.channels.map((c) => c.targetMa)).toEqual([9.5, 10]);
    await h.until(() => h.runner.snapshot.channels[0]!.commandedMa === 9.5, 20_000, 'channel 1 at 9.5 mA');
    await h.run(2000);
    expect(h.runner.state).toBe('running');
    expect(h.runner.snapshot.channels.map((c) => c.commandedMa)).toEqual([9.5, 10]);
    expect(h.recorder().ofType('titration').at(-1)).toEqual({
      channel: null,
      deltaMa: 0.5,
      targetMa: 9.5,
      channels: [{ channel: 1, targetMa: 9.5 }],
      refused: [{ channel: 2, reason: "10.5 mA is above 10 mA, the maximum of phase 'periosteal EDN'; channel 2 stays at 10 mA" }],
    });
    expect(h.recorder().ofType('warning').filter((w) => (w as { limit: string }).limit === 'guard')).toEqual([]);
    // No channel can take it: refused as a whole, nothing changes.
    expect(h.runner.titrate(0.5, 2)).toMatchObject({ ok: false, error: { code: 'LimitExceeded' } });
    expect(h.runner.snapshot.channels.map((c) => c.targetMa)).toEqual([9.5, 10]);
  });

  it('e-stop: output off at once, latched, session stopped; clear and a new session work', async () => {
    const h = make();
    await h.ready();
    await h.call(h.runner.start({ targetMa: 3 }));
    await h.until(() => h.runner.state === 'running', 20_000, 'running');
    expect(h.output().length).toBe(2);
    const p = h.runner.estop('test');
    // The simulator switched off synchronously on receipt of the ESTOP line.
    expect(h.output()).toEqual([]);
    expect(h.sim.snapshot().latched).toBe(true);
    expect((await h.call(p)).ok).toBe(true);
    expect(h.runner.state).toBe('stopped');
    expect(h.runner.snapshot.alarms[0]).toMatchObject({ priority: 'high' });
    expect(h.recorder().ofType('session-end')).toEqual([expect.objectContaining({ reason: 'stopped' })]);
    expect(h.runner.newSession().ok).toBe(false); // latched: clear first
    expect((await h.call(h.runner.clear())).ok).toBe(true);
    expect(h.runner.newSession().ok).toBe(true);
    expect(h.runner.state).toBe('ready');
  });

  it('H13 an open circuit mid-session aborts with the cause and the next action', async () => {
    const h = make();
    await h.ready();
    await h.call(h.runner.start({ targetMa: 3 }));
    await h.until(() => h.runner.state === 'running', 20_000, 'running');
    h.sim.setLoad(2, 'OPEN');
    await h.until(() => h.runner.state === 'aborted', 2000, 'aborted');
    expect(h.output()).toEqual([]);
    expect(h.runner.snapshot.reason).toMatch(/Channel 2 open circuit: check the clip on the needle/);
    expect(h.recorder().ofType('fault')).toEqual([expect.objectContaining({ code: 'OPEN', channel: 2 })]);
  });

  it('a device reboot mid-session aborts; nothing resumes', async () => {
    const h = make();
    await h.ready();
    await h.call(h.runner.start({ targetMa: 3 }));
    await h.until(() => h.runner.state === 'running', 20_000, 'running');
    h.sim.reboot();
    await h.until(() => h.runner.state === 'aborted', 2000, 'aborted');
    expect(h.runner.snapshot.reason).toMatch(/restarted/);
    await h.run(10_000);
    expect(h.output()).toEqual([]);
  });

  it('H4 a silent link (cable pull): heartbeats go unanswered, the session aborts, the device watchdog switches off', async () => {
    const h = make();
    await h.ready();
    await h.call(h.runner.start({ targetMa: 3 }));
    await h.until(() => h.runner.state === 'running', 20_000, 'running');
    const pulledAt = h.scheduler.now();
    h.sim.cablePull();
    await h.until(() => h.output().length === 0, 1100, 'the device watchdog to switch output off');
    expect(h.scheduler.now() - pulledAt).toBeLessThanOrEqual(1000 + 10);
    await h.until(() => h.runner.state === 'aborted', 2000, 'aborted');
    expect(h.simEvents.some((e) => e.event === 'watchdog')).toBe(true);
  });

  it('a port that disappears is reported as Disconnected; the device watchdog ends output', async () => {
    const h = make();
    await h.ready();
    await h.call(h.runner.start({ targetMa: 3 }));
    await h.until(() => h.runner.state === 'running', 20_000, 'running');
    h.transport.unplug();
    await h.until(() => h.runner.state === 'aborted', 100, 'aborted');
    expect(h.runner.snapshot.reason).toMatch(/disconnected/);
    await h.until(() => h.output().length === 0, 1100, 'the watchdog');
  });

  it('survives dropped acks, corrupted lines and a garbage flood without losing the session', async () => {
    const h = make();
    await h.ready();
    await h.call(h.runner.start({ targetMa: 2 }));
    await h.until(() => h.runner.state === 'running', 20_000, 'running');
    h.sim.dropReplies(2);
    h.sim.corruptNextLines(3);
    h.sim.garbageFlood(20_000);
    expect(h.runner.titrate(0.5).ok).toBe(true);
    await h.run(10_000);
    expect(h.runner.state).toBe('running');
    expect(h.runner.snapshot.channels.map((c) => c.commandedMa)).toEqual([2.5, 2.5]);
    expect(h.client.counters.rejected).toBeGreaterThan(0);
  });

  it('journals the start, commands and acks, amplitudes, states, telemetry at 1 Hz and the end', async () => {
    const h = make();
    await h.ready();
    await h.call(h.runner.start({ targetMa: 2 }));
    await h.until(() => h.runner.state === 'running', 20_000, 'running');
    expect(h.runner.addNote('patient reports a strong but comfortable sensation').ok).toBe(true);
    await h.run(10_000);
    await h.call(h.runner.stop());
    const rec = h.recorder();
    const types = new Set(rec.records.map((r) => r.type));
    for (const t of ['session-start', 'state', 'electrodes', 'command', 'ack', 'amplitude', 'telemetry', 'note', 'session-end']) expect(types).toContain(t);
    const start = rec.ofType('session-start')[0] as { patientRef: string; protocol: { hash: string }; device: { bootId: string } };
    expect(start.patientRef).toBe('PT-0001');
    expect(start.protocol.hash).toMatch(/^[0-9a-f]{64}$/);
    const tel = rec.records.filter((r) => r.type === 'telemetry');
    // every summary but the final one (written at the end) spans at least a second
    for (let i = 1; i < tel.length - 1; i++) expect(tel[i]!.t - tel[i - 1]!.t).toBeGreaterThanOrEqual(1000);
    // HB traffic is not journaled line by line.
    expect(rec.ofType('command').some((c) => (c as { verb: string }).verb === 'HB')).toBe(false);
    expect(rec.ofType('session-end')).toEqual([expect.objectContaining({ reason: 'stopped' })]);
  });

  it('H8 refuses a forged clearance and a clearance for another protocol version', async () => {
    const h = make();
    await h.call(h.runner.connect());
    h.runner.prepare({ protocol: kneeProtocol() });
    const forged = { ...clearedFor(kneeProtocol()) };
    const r1 = await h.call(h.runner.submitScreening(forged));
    expect(!r1.ok && r1.error.message).toMatch(/screening has not cleared/);
    const other = validateProtocol({ ...(BUILT_IN_FILES['knee-oa-periosteal.json'] as object), name: 'Knee, edited copy' });
    if (!other.ok) throw new Error('fixture');
    const r2 = await h.call(h.runner.submitScreening(clearedFor(other.protocol)));
    expect(!r2.ok && r2.error.message).toMatch(/screen again/);
    expect(h.runner.state).toBe('screening');
  });

  it('H12 advances phases exactly on time (a dense-disperse phase, then a continuous one) and completes at the sum', async () => {
    const file = structuredClone(BUILT_IN_FILES['knee-oa-periosteal.json']) as { phases: Record<string, unknown>[]; sources: { unverified: string[] }[] };
    for (const src of file.sources) src.unverified = src.unverified.filter((u) => !u.startsWith('phases'));
    const base = file.phases[0]!;
    file.phases = [
      { ...base, name: 'dense-disperse', durationMin: 5, frequencyHz: undefined, pattern: { kind: 'dense-disperse', lowHz: 2, highHz: 100, dwellS: 3 }, amplitude: { maxMa: 6, rampMaPerS: 1 } },
      { ...base, name: 'continuous', durationMin: 10, amplitude: { maxMa: 4, rampMaPerS: 1 } },
    ].map((p) => JSON.parse(JSON.stringify(p)) as Record<string, unknown>);
    const v = validateProtocol(file);
    if (!v.ok) throw new Error(v.errors.map((e) => e.message).join('\n'));
    const h = make();
    await h.ready(v.protocol);
    await h.call(h.runner.start({ targetMa: 5 }));
    const t0 = h.scheduler.now();
    await h.until(() => h.runner.state === 'running', 20_000, 'running');
    // dense-disperse alternates every 3 s
    await h.until(() => h.runner.snapshot.phase!.elapsedS >= 4, 10_000, '4 s into the phase');
    expect(h.runner.snapshot.phase!.frequencyHz).toBe(100);
    await h.until(() => h.runner.snapshot.phase!.index === 1, 6 * 60_000, 'phase 2');
    const phase = h.recorder().records.find((r) => r.type === 'phase')!;
    expect(phase.t - t0).toBe(5 * 60_000);
    expect(phase.data).toMatchObject({ index: 1, atS: 300 });
    // the second phase's maxMa is lower: the target follows it down
    expect(h.runner.snapshot.channels.map((c) => c.targetMa)).toEqual([4, 4]);
    await h.until(() => h.runner.state === 'completed', 11 * 60_000, 'completion');
    expect(h.runner.snapshot.elapsedS).toBe(900);
    expect(h.recorder().ofType('session-end')).toEqual([expect.objectContaining({ stimulationS: 900, phases: [{ index: 0, stimulationS: 300 }, { index: 1, stimulationS: 600 }] })]);
  });

  it('cancels a prepared session before any output: the record ends as cancelled, the device is ready', async () => {
    const h = make();
    await h.ready();
    expect(h.runner.cancel().ok).toBe(true);
    expect(h.runner.state).toBe('ready');
    expect(h.output()).toEqual([]);
    expect(h.recorder().ofType('session-end')).toEqual([expect.objectContaining({ reason: 'stopped', detail: 'cancelled before output', stimulationS: 0 })]);
    expect(h.recorder().closed).toBe(true);
    expect(h.runner.prepare({ protocol: kneeProtocol() }).ok).toBe(true);
  });
});
