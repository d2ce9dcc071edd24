/**
 * E-stop latency, host side: from the `client.estop()` call to the ESTOP bytes handed to the port,
 * while the device floods telemetry at the full 115200-baud line rate into the client's input.
 *
 * The port is an instrumented Transport: `write()` records performance.now(); input is bytes fed
 * through the project's capped LineReader (exactly what SerialTransport does after the serial
 * port), so the flood costs what it costs in production: splitting, decoding, rxjs emission. The
 * flood is real time on the event loop: every millisecond a timer delivers the TEL bytes due at
 * 11,520 bytes/s as one chunk (as a USB-serial adapter does). The "device" answers ESTOP, CLEAR,
 * HELLO and HB with the right OK reply on the next event-loop turn.
 *
 * E-stops are triggered from timer callbacks at random moments, so they land between, and compete
 * with, flood chunks. Reference measured side by side in the same run: the same trials with the
 * link idle (blocks alternate), plus the frame's wire time at 115200 baud (the physical floor).
 */
import { ReplaySubject, Subject } from 'rxjs';
import { decodeRequest, encode, type DeviceToHost } from '../../firmware-protocol/index.js';
import { DeviceClient } from '../../src/device/client.js';
import { monotonicScheduler } from '../../src/device/time.js';
import { LineReader, type ReadRecord } from '../../src/device/line-reader.js';
import type { Transport, TransportClosed, TransportInput } from '../../src/device/transport.js';
import { HELLO } from '../support/device-fixtures.js';
import { BYTES_PER_S, type BenchOptions, type Figures, dist, int, ms, say, sleep, summarize, wireMs } from './lib.js';

class InstrumentedPort implements Transport {
  readonly name = 'instrumented';
  readonly input$ = new Subject<TransportInput>();
  readonly closed$ = new ReplaySubject<TransportClosed>(1);
  readonly reader = new LineReader();
  /** When each ESTOP line was handed to the port. */
  readonly estopWrites: { at: number; bytes: number }[] = [];
  constructor() {
    this.reader.on('data', (r: ReadRecord) => {
      this.input$.next(r.kind === 'line' ? { kind: 'line', text: r.text } : { kind: 'overflow', droppedBytes: r.droppedBytes });
    });
  }
  write(line: string): void {
    const at = performance.now();
    if (/^\d+ ESTOP /.test(line)) this.estopWrites.push({ at, bytes: line.length + 1 });
    const d = decodeRequest(line);
    if (!d.ok) return;
    const r = d.message;
    let reply: DeviceToHost | undefined;
    if (r.verb === 'ESTOP') reply = { type: 'ok', seq: r.seq, verb: 'ESTOP', args: { latched: true } };
    else if (r.verb === 'CLEAR') reply = { type: 'ok', seq: r.seq, verb: 'CLEAR', args: { latched: false } };
    else if (r.verb === 'HELLO') reply = { type: 'ok', seq: r.seq, verb: 'HELLO', args: HELLO };
    else if (r.verb === 'HB') reply = { type: 'ok', seq: r.seq, verb: 'HB', args: {} };
    if (reply) {
      const text = `${encode(reply)}\n`;
      setImmediate(() => this.feed(Buffer.from(text, 'latin1')));
    }
  }
  feed(bytes: Buffer): void {
    this.reader.write(bytes);
  }
  close(): Promise<void> {
    this.closed$.next({ reason: 'closed', detail: 'bench' });
    this.input$.complete();
    return Promise.resolve();
  }
}

/** Realistic TEL lines of 4 channels ramping, pre-encoded. */
function telLines(n: number): string[] {
  const out: string[] = [];
  for (let k = 0; k < n; k++) {
    const ch = (k % 4) + 1;
    const amp = Math.min(20000, 100 * Math.floor(k / 4));
    out.push(`${encode({ type: 'event', event: 'TEL', args: { ch, amp, i: Math.max(0, amp - 7), z: 1480 + (k % 13), q: 125 * k } })}\n`);
  }
  return out;
}

/** Push TEL bytes at `bytesPerS` in 1 ms chunks until stopped. Returns a stop function and stats. */
function flood(port: InstrumentedPort, bytesPerS: number): { stop: () => { bytes: number; lines: number; seconds: number } } {
  const lines = telLines(4000);
  const t0 = performance.now();
  let sent = 0;
  let count = 0;
  let next = 0;
  const timer = setInterval(() => {
    const due = ((performance.now() - t0) * bytesPerS) / 1000;
    if (due <= sent) return;
    let chunk = '';
    while (sent + chunk.length < due) {
      chunk += lines[next]!;
      next = (next + 1) % lines.length;
      count++;
    }
    sent += chunk.length;
    port.feed(Buffer.from(chunk, 'latin1'));
  }, 1);
  return {
    stop: () => {
      clearInterval(timer);
      return { bytes: sent, lines: count, seconds: (performance.now() - t0) / 1000 };
    },
  };
}

export async function estopHost(figures: Figures, options: BenchOptions): Promise<void> {
  say('\n== E-stop latency, host side (estop() call -> ESTOP bytes handed to the port) ==');
  const trials = options.quick ? 200 : 1200;
  const warmup = options.quick ? 50 : 200;
  const block = 100;

  const port = new InstrumentedPort();
  const client = new DeviceClient({ transport: port, scheduler: monotonicScheduler });
  let events = 0;
  client.events$.subscribe(() => events++);
  const hello = await client.connect();
  if (!hello.ok) throw new Error(`bench handshake failed: ${JSON.stringify(hello.error)}`);
  // The heartbeat lane runs as in a session.
  const hb = setInterval(() => void client.heartbeat(), 250);

  const idle: number[] = [];
  const flooded: number[] = [];
  let floodStats = { bytes: 0, lines: 0, seconds: 0 };

  /** One e-stop, fired from a timer at a random moment; returns call -> bytes latency. */
  const trial = async (): Promise<number> => {
    await sleep(Math.random() * 8);
    const before = port.estopWrites.length;
    const t0 = performance.now();
    const acked = client.estop();
    const w = port.estopWrites[before];
    if (!w) throw new Error('estop() returned before writing: the ESTOP was not handed to the port');
    const latency = w.at - t0;
    const r = await acked;
    if (!r.ok) throw new Error(`e-stop not acknowledged: ${JSON.stringify(r.error)}`);
    const c = await client.request('CLEAR', {});
    if (!c.ok) throw new Error(`clear failed: ${JSON.stringify(c.error)}`);
    return latency;
  };

  for (let i = 0; i < warmup; i++) await trial();
  // Alternate idle and flooded blocks so drift of the machine hits both alike.
  while (flooded.length < trials) {
    for (let i = 0; i < block; i++) idle.push(await trial());
    const f = flood(port, BYTES_PER_S);
    for (let i = 0; i < block; i++) flooded.push(await trial());
    const s = f.stop();
    floodStats = { bytes: floodStats.bytes + s.bytes, lines: floodStats.lines + s.lines, seconds: floodStats.seconds + s.seconds };
  }
  clearInterval(hb);
  client.dispose();
  await port.close();

  const frameBytes = port.estopWrites.reduce((a, w) => a + w.bytes, 0) / port.estopWrites.length;
  const sIdle = summarize(idle);
  const sFlood = summarize(flooded);
  const rate = floodStats.bytes / floodStats.seconds;
  say(`  flood: ${int(floodStats.lines)} TEL lines, ${int(rate)} bytes/s achieved (target ${int(BYTES_PER_S)}), ${int(events)} events decoded by the client`);
  figures.add({
    section: 'E-stop',
    name: 'host side, estop() -> bytes to the port, under a full-rate TEL flood',
    value: dist(sFlood),
    reference: `same trials, link idle: ${dist(sIdle)}; p99 ratio flood/idle ${(sFlood.p99 / sIdle.p99).toFixed(2)}; wire time of the ESTOP frame (${frameBytes.toFixed(1)} bytes at 115200 8N1, the physical floor): ${ms(wireMs(frameBytes))}; flood achieved ${int(rate)} of ${int(BYTES_PER_S)} bytes/s`,
    goal: 'p99 < 1 ms',
    met: sFlood.p99 < 1,
  });
}
