/**
 * One measured 60-minute session (spawned by memory.ts, once with --expose-gc and once without):
 * the in-process simulator, device client and session runner on virtual time, with the REAL
 * journal writing to a temp dir. Two channels at 10 Hz telemetry each; the clinician titrates up
 * at 10 min and down at 30 min. Samples RSS and heap at every session minute (after a forced GC
 * when gc() is available) and prints ONE JSON line with the results on stdout.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceClient } from '../../src/device/client.js';
import { SimulatorTransport } from '../../src/device/sim-transport.js';
import { type JournalClock, openJournal } from '../../src/session/journal.js';
import { SessionRunner } from '../../src/session/runner.js';
import { SimulatedStimulator } from '../../src/simulator/index.js';
import { clearedFor } from '../support/session-harness.js';
import { shortProtocol } from '../support/short-protocol.js';
import { ManualScheduler, settle } from '../support/virtual-time.js';

const quick = process.argv.includes('--quick');
const minutes = quick ? 6 : 60;
const gc = (globalThis as { gc?: () => void }).gc;

export interface MemorySample {
  readonly minute: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly journalBytes: number;
}

export interface MemoryResult {
  readonly gc: boolean;
  readonly minutes: number;
  readonly telemetryLines: number;
  readonly samples: MemorySample[];
  readonly journalBytes: number;
  readonly journalRecords: number;
  readonly bytesByType: Record<string, { bytes: number; records: number }>;
  readonly wallMs: number;
  readonly finalState: string;
}

function sample(minute: number, journal: string | undefined): MemorySample {
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  let journalBytes = 0;
  try {
    if (journal) journalBytes = statSync(journal).size;
  } catch {
    // not created yet
  }
  return { minute, rss: m.rss, heapUsed: m.heapUsed, external: m.external, journalBytes };
}

async function main(): Promise<void> {
  const wall0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'edn-bench-memory-'));
  const scheduler = new ManualScheduler();
  const sim = new SimulatedStimulator({ scheduler, seed: 7 });
  const transport = new SimulatorTransport(sim);
  let telemetryLines = 0;
  sim.onTransmit((chunk) => {
    if (chunk.startsWith('! TEL ')) telemetryLines++;
  });
  sim.start();
  const client = new DeviceClient({ transport, scheduler });
  const base = Date.parse('2026-01-01T08:00:00.000Z');
  const clock: JournalClock = { monotonicMs: () => scheduler.now(), wallIso: () => new Date(base + Math.floor(scheduler.now())).toISOString() };
  let journal: string | undefined;
  const runner = new SessionRunner({
    client,
    scheduler,
    recorder: (sessionId) => {
      const j = openJournal({ dataDir: dir, sessionId, clock });
      journal = j.path;
      return j;
    },
    newSessionId: () => 'BENCH-MEMORY',
  });

  const step = async (ms = 10) => {
    scheduler.advance(ms);
    await settle(20);
  };
  const until = async (done: () => boolean, what: string) => {
    for (let i = 0; i < 100_000 && !done(); i++) await step();
    if (!done()) throw new Error(`timed out waiting for ${what}`);
  };
  const call = async <T>(p: Promise<T>): Promise<T> => {
    let value: T | undefined;
    let finished = false;
    void p.then((v) => {
      value = v;
      finished = true;
    });
    await until(() => finished, 'a call');
    return value as T;
  };

  const protocol = shortProtocol({ id: 'bench-memory', durationMin: minutes, maxMa: 6, rampMaPerS: 1 });
  const c = await call(runner.connect());
  if (!c.ok) throw new Error(c.error.message);
  const p = runner.prepare({ protocol });
  if (!p.ok) throw new Error(p.error.message);
  const s = await call(runner.submitScreening(clearedFor(protocol)));
  if (!s.ok) throw new Error(s.error.message);
  const st = await call(runner.start({ targetMa: 4 }));
  if (!st.ok) throw new Error(st.error.message);

  const samples: MemorySample[] = [sample(0, journal)];
  const t0 = scheduler.now();
  for (let minute = 1; minute <= minutes; minute++) {
    const end = t0 + minute * 60_000;
    while (scheduler.now() < end) await step();
    if (minute === Math.round(minutes / 6)) runner.titrate(0.5);
    if (minute === Math.round(minutes / 2)) runner.titrate(-0.5);
    samples.push(sample(minute, journal));
  }
  await until(() => runner.state === 'completed', 'completion');
  const finalState = runner.state;
  runner.dispose();
  client.dispose();
  sim.dispose();

  const bytesByType: Record<string, { bytes: number; records: number }> = {};
  let journalBytes = 0;
  let journalRecords = 0;
  if (journal) {
    const text = readFileSync(journal, 'utf8');
    for (const line of text.split('\n')) {
      if (!line) continue;
      const type = (JSON.parse(line) as { type: string }).type;
      const entry = (bytesByType[type] ??= { bytes: 0, records: 0 });
      entry.bytes += Buffer.byteLength(line) + 1;
      entry.records += 1;
      journalBytes += Buffer.byteLength(line) + 1;
      journalRecords++;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const result: MemoryResult = { gc: gc !== undefined, minutes, telemetryLines, samples, journalBytes, journalRecords, bytesByType, wallMs: performance.now() - wall0, finalState };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
