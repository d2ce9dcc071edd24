/**
 * End to end over a real pseudo-terminal (socat), host side through the real `serialport` package,
 * the capped line reader and the DeviceClient on the monotonic clock:
 *
 * 1. E-stop to the simulator PROCESS (`edn simulate --pty --json`). The simulator's clock is
 *    another process's performance.now() (a different origin), so its `estop` JSON event cannot be
 *    compared with ours. Measured instead: the round trip from estop() to the OK ESTOP reply read
 *    on the host. The one-way time is at most the round trip (a hard upper bound) and about half of
 *    it (an estimate that assumes a symmetric path). Four channels are running (telemetry flowing)
 *    when each e-stop is made; every trial re-arms them.
 * 2. The same, with the simulator IN this process on the device end of a socat pty pair: both ends
 *    are timestamped on one clock, so the one-way time (estop() -> the simulator executing ESTOP)
 *    is exact, and it checks how good the RTT/2 estimate of (1) is.
 * 3. Parameter change: AMP sent -> OK AMP received, to the simulator process.
 *
 * A pty moves bytes at memory speed whatever baud rate is set, so the wire time of each frame at
 * 115200 baud is reported beside the figures: on a real UART it adds to them.
 */
import { encode } from '../../firmware-protocol/index.js';
import { openPtyPair } from '../../src/cli/pty.js';
import { openSerialDeviceEnd } from '../../src/cli/commands/simulate.js';
import { DeviceClient } from '../../src/device/client.js';
import { SerialTransport } from '../../src/device/serial-transport.js';
import { monotonicScheduler } from '../../src/device/time.js';
import { SimulatedStimulator } from '../../src/simulator/index.js';
import { checked, checkedAmp } from '../support/device-fixtures.js';
import { startSimulator, stopAllSimulators } from '../support/sim-process.js';
import { type BenchOptions, type Figures, dist, ms, say, sleep, summarize, wireMs } from './lib.js';

interface Host {
  readonly client: DeviceClient;
  readonly transport: SerialTransport;
  /** OK replies received: verb and receive time (performance.now()). */
  readonly oks: { verb: string; at: number }[];
  stop(): Promise<void>;
}

async function host(path: string): Promise<Host> {
  const transport = await SerialTransport.open({ path });
  const client = new DeviceClient({ transport, scheduler: monotonicScheduler });
  const oks: { verb: string; at: number }[] = [];
  // traffic$ emits synchronously as each line is read, stamped with the monotonic clock.
  client.traffic$.subscribe((t) => {
    const m = t.dir === 'rx' ? /^\d+ OK ([A-Z]+) /.exec(t.line) : null;
    if (m) oks.push({ verb: m[1]!, at: t.atMs });
  });
  const hello = await client.connect();
  if (!hello.ok) throw new Error(`handshake failed: ${JSON.stringify(hello.error)}`);
  const hb = setInterval(() => void client.heartbeat(), 250);
  return {
    client,
    transport,
    oks,
    stop: async () => {
      clearInterval(hb);
      client.dispose();
      await transport.close();
    },
  };
}

async function arm(client: DeviceClient, channels: readonly number[]): Promise<void> {
  for (const channel of channels) {
    const p = checked({ channel, amplitudeMa: 1, rampMaPerS: 1 });
    const s = await client.stage(p);
    if (!s.ok) throw new Error(`SET ch${channel} failed: ${JSON.stringify(s.error)}`);
    const r = await client.start(p);
    if (!r.ok) throw new Error(`START ch${channel} failed: ${JSON.stringify(r.error)}`);
  }
}

/** One e-stop with channels running; returns [call -> OK ESTOP received] in ms, and the seq. */
async function estopTrial(h: Host, channels: readonly number[]): Promise<{ rtt: number; t0: number }> {
  await arm(h.client, channels);
  await sleep(Math.random() * 20); // land at a random moment of the telemetry stream
  h.oks.length = 0;
  const t0 = performance.now();
  const r = await h.client.estop();
  if (!r.ok) throw new Error(`e-stop failed: ${JSON.stringify(r.error)}`);
  const at = h.oks.find((o) => o.verb === 'ESTOP')?.at;
  if (at === undefined) throw new Error('no OK ESTOP seen');
  const c = await h.client.request('CLEAR', {});
  if (!c.ok) throw new Error(`clear failed: ${JSON.stringify(c.error)}`);
  return { rtt: at - t0, t0 };
}

const CHANNELS = [1, 2, 3, 4] as const;

export async function ptyBench(figures: Figures, options: BenchOptions): Promise<void> {
  const trials = options.quick ? 100 : 1000;
  const warmup = options.quick ? 20 : 100;
  const estopBytes = `${encode({ type: 'request', seq: 999, verb: 'ESTOP', args: {} })}\n`.length;
  const okEstopBytes = `${encode({ type: 'ok', seq: 999, verb: 'ESTOP', args: { latched: true } })}\n`.length;
  const ampBytes = `${encode({ type: 'request', seq: 999, verb: 'AMP', args: { ch: 1, amp: 1200 } })}\n`.length;
  const okAmpBytes = `${encode({ type: 'ok', seq: 999, verb: 'AMP', args: { ch: 1, amp: 1200 } })}\n`.length;

  // ---- 1 and 3: the simulator as its own process ------------------------------------------------
  say('\n== End to end over a pty to the simulator process (edn simulate --pty --json) ==');
  const sim = await startSimulator({ args: ['--seed', '7'] });
  const rtts: number[] = [];
  const amps: number[] = [];
  try {
    const h = await host(sim.path);
    try {
      for (let i = 0; i < warmup; i++) await estopTrial(h, CHANNELS);
      const estopsBefore = sim.events.items.filter((e) => e.event === 'estop').length;
      for (let i = 0; i < trials; i++) rtts.push((await estopTrial(h, CHANNELS)).rtt);
      // Every e-stop reached the simulator (its own JSON events say so).
      await sleep(200);
      const estopsSeen = sim.events.items.filter((e) => e.event === 'estop').length - estopsBefore;
      say(`  the simulator process reported ${estopsSeen} estop events for ${trials} e-stops`);

      // Parameter change: AMP on a running channel, alternating 1.0 and 1.2 mA.
      await arm(h.client, [1]);
      let prev = 1;
      for (let k = 1; k <= trials + warmup; k++) {
        const next = prev === 1 ? 1.2 : 1;
        const change = checkedAmp({ channel: 1, amplitudeMa: next, atMs: k * 10_000 }, { amplitudeMa: prev, atMs: (k - 1) * 10_000 });
        h.oks.length = 0;
        const t0 = performance.now();
        const r = await h.client.setAmplitude(change);
        if (!r.ok) throw new Error(`AMP failed: ${JSON.stringify(r.error)}`);
        const at = h.oks.find((o) => o.verb === 'AMP')?.at;
        if (at === undefined) throw new Error('no OK AMP seen');
        if (k > warmup) amps.push(at - t0);
        prev = next;
        await sleep(Math.random() * 5);
      }
    } finally {
      await h.stop();
    }
  } finally {
    await stopAllSimulators();
  }
  const sRtt = summarize(rtts);
  const sHalf = summarize(rtts.map((x) => x / 2));
  const floorRtt = wireMs(estopBytes) + wireMs(okEstopBytes);

  // ---- 2: the simulator in this process, on the device end of a socat pair ------------------------
  say('\n== End to end over a pty, simulator in this process (one clock for both ends) ==');
  const pair = await openPtyPair();
  const dev = await openSerialDeviceEnd(pair.devicePath);
  const local = new SimulatedStimulator({ scheduler: monotonicScheduler, seed: 7 });
  local.onTransmit((chunk) => dev.write(chunk));
  dev.onData((bytes) => local.receive(bytes));
  const executedAt: number[] = [];
  local.onEvent((e) => {
    if (e.event === 'estop') executedAt.push(performance.now());
  });
  local.start();
  const oneWay: number[] = [];
  const localRtts: number[] = [];
  try {
    const h = await host(pair.hostPath);
    try {
      for (let i = 0; i < warmup + trials; i++) {
        const before = executedAt.length;
        const { rtt, t0 } = await estopTrial(h, CHANNELS);
        const at = executedAt[before];
        if (at === undefined) throw new Error('the in-process simulator did not execute the ESTOP');
        if (i >= warmup) {
          oneWay.push(at - t0);
          localRtts.push(rtt);
        }
      }
    } finally {
      await h.stop();
    }
  } finally {
    local.dispose();
    await dev.close();
    await pair.close();
  }
  const sOne = summarize(oneWay);
  const sLocalRtt = summarize(localRtts);
  const sLocalHalf = summarize(localRtts.map((x) => x / 2));

  figures.add({
    section: 'E-stop',
    name: 'pty end to end, simulator process: one-way = half the round trip estop() -> OK ESTOP read on the host',
    value: dist(sHalf),
    reference: `the round trip itself (a hard upper bound on one-way): ${dist(sRtt)}${sRtt.p99 < 5 ? ', also under 5 ms at p99' : ''}; wire time at 115200 baud of ESTOP + OK ESTOP (${estopBytes} + ${okEstopBytes} bytes): ${ms(floorRtt)}, of the ESTOP frame alone: ${ms(wireMs(estopBytes))} (physical floors; a pty adds none of it)`,
    goal: 'p99 < 5 ms',
    met: sHalf.p99 < 5,
  });
  figures.add({
    section: 'E-stop',
    name: 'pty end to end, simulator in-process: estop() -> simulator executes ESTOP (one-way, one clock)',
    value: dist(sOne),
    reference: `cross-check of the RTT/2 estimate (host and simulator share this process's event loop, unlike a real device): round trip ${dist(sLocalRtt)}, RTT/2 = ${dist(sLocalHalf)}; RTT/2 / true one-way: p50 ${(sLocalHalf.p50 / sOne.p50).toFixed(2)}, p99 ${(sLocalHalf.p99 / sOne.p99).toFixed(2)}; wire time of the ESTOP frame: ${ms(wireMs(estopBytes))}`,
  });
  const sAmp = summarize(amps);
  figures.add({
    section: 'Parameter change',
    name: 'AMP sent -> OK AMP received, pty to the simulator process',
    value: dist(sAmp),
    reference: `e-stop round trip in the same run: p50 ${ms(sRtt.p50)}, p99 ${ms(sRtt.p99)}; wire time at 115200 baud of AMP + OK AMP (${ampBytes} + ${okAmpBytes} bytes): ${ms(wireMs(ampBytes) + wireMs(okAmpBytes))}`,
  });
}
