/**
 * Session timing.
 *
 * 1. Virtual time: the built-in 20-minute knee protocol on the session harness (simulator, client,
 *    runner on a virtual scheduler). The figure is the stimulation as the DEVICE saw it (channel 1
 *    output on -> off, from the simulator's own events) and the runner's session clock; the
 *    reference is 20:00.000 exactly.
 * 2. Real time: a 60 s protocol with the simulator in-process on the monotonic scheduler, the real
 *    journal in a temp dir, and a busy event loop (a setInterval doing 5 ms of synchronous work
 *    every 20 ms). Figures: device-side output duration vs 60 s; intervals between the HB lines'
 *    write times vs 250 ms. References measured side by side on the same loop: a bare
 *    setTimeout(60 s) started with the session, and a bare setInterval(250 ms).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DeviceClient } from '../../src/device/client.js';
import { SimulatorTransport } from '../../src/device/sim-transport.js';
import { monotonicScheduler } from '../../src/device/time.js';
import { openJournal, systemClock } from '../../src/session/journal.js';
import { SessionRunner } from '../../src/session/runner.js';
import type { SessionState } from '../../src/session/states.js';
import { SimulatedStimulator } from '../../src/simulator/index.js';
import { clearedFor, harness } from '../support/session-harness.js';
import { shortProtocol } from '../support/short-protocol.js';
import { type BenchOptions, type Figures, busy, dist, ms, say, summarize } from './lib.js';

function clock(msTotal: number): string {
  const m = Math.floor(msTotal / 60_000);
  const s = (msTotal - m * 60_000) / 1000;
  return `${String(m).padStart(2, '0')}:${s.toFixed(3).padStart(6, '0')}`;
}

async function virtual20(figures: Figures): Promise<void> {
  say('\n== Timing: a 20-minute protocol in virtual time ==');
  const wall0 = performance.now();
  const h = harness();
  try {
    await h.ready();
    const started = await h.call(h.runner.start({ targetMa: 4 }));
    if (!started.ok) throw new Error(started.error.message);
    await h.until(() => h.runner.state === 'completed', 25 * 60_000, 'completion');
    const on = h.simEvents.find((e) => e.event === 'output' && e.channel === 1 && e.on);
    const off = h.simEvents.find((e) => e.event === 'output' && e.channel === 1 && !e.on);
    if (!on || !off) throw new Error('no output on/off seen on channel 1');
    const device = off.at - on.at;
    const session = h.runner.snapshot.elapsedS * 1000;
    figures.add({
      section: 'Timing',
      name: '20-minute knee protocol, virtual time: device output on -> off (ch1); runner session clock',
      value: `${clock(device)} at the device; ${clock(session)} on the session clock (computed in ${ms(performance.now() - wall0)} of wall time)`,
      reference: '20:00.000 exactly',
      goal: 'exactly 20:00.000',
      met: device === 1_200_000 && session === 1_200_000,
    });
  } finally {
    h.dispose();
  }
}

async function realTime(figures: Figures, options: BenchOptions): Promise<void> {
  const durationMin = options.quick ? 0.25 : 1;
  const nominalMs = durationMin * 60_000;
  say(`\n== Timing: a ${nominalMs / 1000} s session in real time under a busy event loop ==`);
  const dir = mkdtempSync(join(tmpdir(), 'edn-bench-timing-'));
  const scheduler = monotonicScheduler;
  const sim = new SimulatedStimulator({ scheduler, seed: 7 });
  const transport = new SimulatorTransport(sim);
  const hbAt: number[] = [];
  const write = transport.write.bind(transport);
  transport.write = (line: string) => {
    if (/^\d+ HB /.test(line)) hbAt.push(performance.now());
    write(line);
  };
  sim.start();
  const client = new DeviceClient({ transport, scheduler });
  const runner = new SessionRunner({
    client,
    scheduler,
    recorder: (sessionId) => openJournal({ dataDir: dir, sessionId, clock: systemClock }),
    newSessionId: () => 'BENCH-TIMING',
  });
  let onAt: number | undefined;
  let offAt: number | undefined;
  sim.onEvent((e) => {
    if (e.event === 'output' && e.channel === 1) {
      if (e.on && onAt === undefined) onAt = performance.now();
      if (!e.on && onAt !== undefined && offAt === undefined) offAt = performance.now();
    }
  });
  const done = new Promise<SessionState>((resolve) => {
    runner.snapshot$.subscribe((s) => {
      if (s.state === 'completed' || s.state === 'aborted' || s.state === 'stopped') resolve(s.state);
    });
  });

  // The load: 5 ms of synchronous work every 20 ms, for the whole run.
  let busyMs = 0;
  const load = setInterval(() => {
    const t = performance.now();
    busy(5);
    busyMs += performance.now() - t;
  }, 20);
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  const t0 = performance.now();

  // References on the same loop: a bare 250 ms interval, and a bare timeout of the session length.
  const bareTicks: number[] = [];
  const bare = setInterval(() => bareTicks.push(performance.now()), 250);
  let bareTimeoutLate = Number.NaN;

  try {
    const protocol = shortProtocol({ id: 'bench-timing', durationMin, maxMa: 2, rampMaPerS: 1 });
    const c = await runner.connect();
    if (!c.ok) throw new Error(c.error.message);
    const p = runner.prepare({ protocol });
    if (!p.ok) throw new Error(p.error.message);
    const s = await runner.submitScreening(clearedFor(protocol));
    if (!s.ok) throw new Error(s.error.message);
    const startAt = performance.now();
    setTimeout(() => {
      bareTimeoutLate = performance.now() - startAt - nominalMs;
    }, nominalMs);
    const st = await runner.start({ targetMa: 1 });
    if (!st.ok) throw new Error(st.error.message);
    const end = await done;
    if (end !== 'completed') throw new Error(`the session ended ${end}: ${runner.snapshot.reason ?? ''}`);
    // Let the bare timeout fire if it has not yet.
    while (Number.isNaN(bareTimeoutLate)) await new Promise((r) => setTimeout(r, 5));
  } finally {
    clearInterval(load);
    clearInterval(bare);
    loopDelay.disable();
    runner.dispose();
    client.dispose();
    sim.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  const elapsed = performance.now() - t0;
  if (onAt === undefined || offAt === undefined) throw new Error('no output on/off seen');
  const duration = offAt - onAt;
  const error = duration - nominalMs;
  const intervals = hbAt.slice(1).map((t, i) => t - hbAt[i]!);
  const bareIntervals = bareTicks.slice(1).map((t, i) => t - bareTicks[i]!);
  const sHb = summarize(intervals);
  const sBare = summarize(bareIntervals);
  const late = (xs: readonly number[]) => xs.filter((x) => x >= 290).length;
  say(`  intervals >= 290 ms (a whole 50 ms session tick or more late): heartbeat ${late(intervals)} of ${intervals.length}; bare setInterval ${late(bareIntervals)} of ${bareIntervals.length}`);
  say(`  load: busy ${((busyMs / elapsed) * 100).toFixed(1)}% of the loop; event-loop delay p50 ${ms(loopDelay.percentile(50) / 1e6)}, p99 ${ms(loopDelay.percentile(99) / 1e6)}, max ${ms(loopDelay.max / 1e6)}`);
  figures.add({
    section: 'Timing',
    name: `${nominalMs / 1000} s protocol, real time, busy loop: device output on -> off (ch1)`,
    value: `${(duration / 1000).toFixed(4)} s (error ${error >= 0 ? '+' : ''}${ms(error)})`,
    reference: `${(nominalMs / 1000).toFixed(3)} s nominal; a bare setTimeout(${nominalMs / 1000} s) on the same loop fired ${ms(bareTimeoutLate)} late`,
    goal: 'within 50 ms of nominal',
    met: Math.abs(error) <= 50,
  });
  figures.add({
    section: 'Timing',
    name: 'heartbeat intervals (HB write times), real time, busy loop',
    value: `p1 ${ms(sHb.p1)}, p50 ${ms(sHb.p50)}, p99 ${ms(sHb.p99)}, min ${ms(sHb.min)}, max ${ms(sHb.max)} (n=${sHb.n})`,
    reference: `250 ms nominal; a bare setInterval(250) on the same loop: p1 ${ms(sBare.p1)}, ${dist(sBare)}; intervals >= 290 ms: heartbeat ${late(intervals)} of ${intervals.length}, bare setInterval ${late(bareIntervals)} of ${bareIntervals.length}`,
    goal: 'p1 and p99 within 250 +/- 50 ms',
    met: sHb.p1 >= 200 && sHb.p99 <= 300,
  });
}

export async function timingBench(figures: Figures, options: BenchOptions): Promise<void> {
  await virtual20(figures);
  await realTime(figures, options);
}
