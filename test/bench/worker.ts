/**
 * Issue 10 §1: the session core in its own process. One run, four scenarios side by side:
 * the ControllerService in-process (the assembly before the issue: the service on the UI's
 * event loop) and in its controller process behind the supervisor (as `edn web` runs it:
 * superviseController + nodeWorkerFactory, heavy calls on the `pure` process), each with the UI
 * idle and under a flood of heavy UI requests.
 *
 * - The flood: rounds of PARALLEL validateProtocol calls of a protocol with FORMAT_LIMITS.maxPhases
 *   phases, all sent at once (as a browser's Promise.all), the next round as soon as the last is
 *   answered, for the whole measured window and the e-stop trials. Each call goes the browser's way
 *   through the host: its JSON text parsed on the UI's loop, the contract's dispatcher
 *   (createDispatcher, as src/web/host.ts builds it), the reply serialized back to text. Each round
 *   starts from a macrotask, as a socket's messages arrive: a loop of awaits on promises that are
 *   already resolved would run on the microtask queue alone and starve every timer (the earlier
 *   draft of this bench hung exactly so, in the in-process flood: no heartbeat, no timeout fired).
 * - Heartbeat: intervals between the moments the HB frames are handed to the device's port during
 *   a running session on the simulator (worker-tap.ts: the transport the controller itself opened;
 *   in the controller process each time is posted to this side beside the protocol's messages).
 *   A session the device's watchdog aborted during the window is reported, not hidden.
 * - E-stop, host side: the UI side's `estop` call through the same dispatcher -> the ESTOP frame
 *   handed to the port (in the controller process: across the process boundary; both ends read
 *   wallNow(), one clock of one machine). Each trial is fired from a timer at a random moment, with
 *   the flood still on; the timer's lateness is the UI loop's lag, reported beside it: the delay an
 *   e-stop message from a browser would wait before the host even reads it. Each trial is
 *   followed by acknowledging the alarms and CLEAR.
 *
 * Every await has a deadline (`within`): a stuck scenario fails with what it was waiting for.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createControllerService } from '../../src/app/assembly.js';
import type { CallName, Result, Snapshot } from '../../src/app/contract.js';
import { createDispatcher } from '../../src/app/dispatch.js';
import type { ContractHandlers } from '../../src/app/service.js';
import { superviseController } from '../../src/app/worker-host.js';
import { nodeWorkerFactory } from '../../src/app/worker-node.js';
import { FORMAT_LIMITS } from '../../src/domain/safety/limits.js';
import { CONTROLLER_NICE, type ToWorker } from '../../src/app/worker-protocol.js';
import { getPriority } from 'node:os';
import { screeningAnswers, shortProtocol, shortProtocolFile } from '../support/short-protocol.js';
import { type BenchOptions, type Figures, type Summary, dist, ms, say, summarize } from './lib.js';
import { type TappedEvent, instrumentedOpen, wallNow } from './worker-tap.js';

const ENTRY = fileURLToPath(new URL('./controller-entry.ts', import.meta.url));
const LIBRARY = fileURLToPath(new URL('../../src/domain/protocols/library/knee-oa-periosteal.json', import.meta.url));
/** The session's protocol: long enough for the window and the trials (they end it sooner). */
const PROTOCOL = { id: 'bench-worker', durationMin: 5 } as const;
/** E-stop trials per scenario (issue 10 §1 follow-up: at least 200, for a p99 that is not the maximum). */
const TRIALS = 200;
/** Validations in flight at once (issue 10 §1: "12 parallel validations of a large protocol"). */
const PARALLEL = 12;
/** The heartbeat period the controller keeps (src/device/timing.ts), for the goal's band. */
const HB_GOAL = { lo: 200, hi: 300 } as const;

type Mode = 'in-process' | 'controller process';

/**
 * How the controller process is run, for the e-stop's comparison (issue 10 §1): the e-stop
 * message as the product sends it (`op`: the `estop` op, served before any parsing) or as an
 * ordinary contract call (`call`: the path before, through the controller's dispatcher and four
 * zod parses; emulated by the benchmark's factory, which rewrites the op into the call and the
 * reply back), and the nice value the controller's process gets (the product asks for
 * CONTROLLER_NICE; 0 is the default it had before).
 */
interface Variant {
  readonly estopAs: 'op' | 'call';
  /** 0: the controller keeps the priority it inherits from this process (reported as measured). */
  readonly nice: number;
}
const PRODUCT: Variant = { estopAs: 'op', nice: CONTROLLER_NICE };
/** Ids of the emulated estop calls: far from the supervisor's own. */
const CALL_ID_BASE = 1_000_000_000;

interface Host extends ContractHandlers {
  readonly snapshot: Snapshot;
  dispose(): Promise<void>;
}

interface Outcome {
  readonly hb: number[];
  readonly estop: number[];
  /** Controller process only: estop call -> its arrival there (the IPC hop and that loop's wake-up). */
  readonly hop: number[];
  /** Controller process only: its arrival there -> the ESTOP frame handed to the port. */
  readonly handling: number[];
  /** The controller process's nice value as the system reports it (controller process only). */
  readonly nice: number | undefined;
  /** Lateness of each e-stop trial's timer: the UI loop's lag when the e-stop was due. */
  readonly lag: number[];
  readonly validations: number;
  /** Why the session was no longer running at the end of the window, if it was not. */
  readonly aborted: string | undefined;
}

/** `p` or a failure naming what was awaited: no await in this bench may hang. */
async function within<T>(p: Promise<T>, limitMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bench worker: ${what}: no answer within ${limitMs} ms`)), limitMs);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const delay = (msDelay: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, msDelay));

/** The largest legal protocol: the built-in knee protocol's first phase, FORMAT_LIMITS.maxPhases times. */
function bigProtocolText(): string {
  const knee = JSON.parse(readFileSync(LIBRARY, 'utf8')) as { phases: Record<string, unknown>[] } & Record<string, unknown>;
  const phase = knee.phases[0]!;
  const phases = Array.from({ length: FORMAT_LIMITS.maxPhases }, (_, i) => ({ ...phase, name: `phase ${i + 1}`, durationMin: 0.05 }));
  return JSON.stringify({ ...knee, id: 'bench-big', name: 'Bench big', phases });
}

/** The frames the device was handed, with waiters for the next one of a verb. */
class Frames {
  readonly hb: number[] = [];
  readonly #waiters: { verb: TappedEvent; after: number; resolve: (at: number) => void }[] = [];
  add(verb: TappedEvent, at: number): void {
    if (verb === 'HB') this.hb.push(at);
    for (const w of [...this.#waiters]) {
      if (w.verb !== verb || at < w.after) continue;
      this.#waiters.splice(this.#waiters.indexOf(w), 1);
      w.resolve(at);
    }
  }
  /** When the next `verb` frame at or after `after` is handed to the port. */
  next(verb: TappedEvent, after: number): Promise<number> {
    return new Promise((resolve) => this.#waiters.push({ verb, after, resolve }));
  }
}

async function scenario(mode: Mode, flood: boolean, o: BenchOptions, bigText: string, variant: Variant = PRODUCT): Promise<Outcome> {
  const dir = mkdtempSync(path.join(tmpdir(), 'edn-bench-worker-'));
  const dataDir = path.join(dir, 'data');
  mkdirSync(path.join(dataDir, 'protocols'), { recursive: true });
  writeFileSync(path.join(dataDir, 'protocols', `${PROTOCOL.id}.json`), JSON.stringify(shortProtocolFile(PROTOCOL)));
  const frames = new Frames();
  let controllerPid: number | undefined;
  let host: Host;
  if (mode === 'in-process') {
    host = createControllerService({ dataDir, allowHardware: false }, { openTransport: instrumentedOpen((v, at) => frames.add(v, at)) });
  } else {
    const base = nodeWorkerFactory({ entry: ENTRY, controllerNice: variant.nice });
    const sup = superviseController({
      dataDir,
      allowHardware: false,
      factory: (config) => {
        const h = base(config);
        h.onMessage((m) => {
          const b = m as { kind?: unknown; verb?: unknown; at?: unknown; pid?: unknown };
          if (b.kind === 'bench' && (b.verb === 'HB' || b.verb === 'ESTOP' || b.verb === 'ESTOP-IN') && typeof b.at === 'number') frames.add(b.verb, b.at);
          if (b.kind === 'bench' && b.verb === 'PID' && typeof b.pid === 'number' && config.role === 'controller') controllerPid = b.pid;
        });
        if (variant.estopAs === 'op' || config.role !== 'controller') return h;
        // The path before: the e-stop as an ordinary call, its reply turned back into the op's answer.
        const calls = new Map<number, number>();
        return {
          ...h,
          post: (m: ToWorker) => {
            if (m.kind !== 'op' || m.op.op !== 'estop') return h.post(m);
            calls.set(CALL_ID_BASE + m.op.seq, m.op.seq);
            h.post({ kind: 'call', message: { id: CALL_ID_BASE + m.op.seq, call: 'estop', input: { source: m.op.source } } });
          },
          onMessage: (l) =>
            h.onMessage((m) => {
              const r = m as { kind?: unknown; reply?: { id?: unknown; result?: unknown } };
              const seq = r.kind === 'reply' && typeof r.reply?.id === 'number' ? calls.get(r.reply.id) : undefined;
              if (seq === undefined) return l(m);
              calls.delete(CALL_ID_BASE + seq);
              l({ kind: 'done', seq, result: r.reply?.result });
            }),
        };
      },
      log: (m) => (m.includes('outside the protocol') ? undefined : say(`    supervisor: ${m}`)),
    });
    host = sup;
    await within(sup.ready(), 60_000, 'the controller process to start');
  }

  // The browser's path through the host: text in, parsed here, the dispatcher, text out.
  const dispatch = createDispatcher(host);
  let nextId = 1;
  const ask = async (call: CallName, input: unknown): Promise<Result<unknown>> => {
    const text = JSON.stringify({ id: nextId++, call, input });
    const reply = await dispatch(JSON.parse(text));
    return (JSON.parse(JSON.stringify(reply)) as { result: Result<unknown> }).result;
  };
  const must = async (call: CallName, input: unknown, limitMs = 30_000): Promise<unknown> => {
    const r = await within(ask(call, input), limitMs, call);
    if (!r.ok) throw new Error(`bench worker (${mode}): ${call}: ${r.error.code} ${r.error.message}`);
    return r.data;
  };

  let flooding = false;
  let validations = 0;
  let floodLoop: Promise<void> = Promise.resolve();
  const bigInput = `{"file":${bigText}}`;
  const round = async (): Promise<void> => {
    // Each message parsed from its own text, as the host parses each socket message.
    const replies = await within(
      Promise.all(Array.from({ length: PARALLEL }, () => ask('validateProtocol', JSON.parse(bigInput)))),
      60_000,
      `a round of ${PARALLEL} validations`,
    );
    for (const r of replies) {
      const valid = r.ok && (r.data as { valid?: unknown }).valid === true;
      if (!valid) throw new Error(`bench worker (${mode}): the big protocol does not validate: ${JSON.stringify(r).slice(0, 300)}`);
    }
    validations += replies.length;
  };
  const session = async (): Promise<Outcome> => {
    await must('connect', { path: 'sim' });
    await must('submitScreening', { side: 'left', protocolId: PROTOCOL.id, answers: screeningAnswers(shortProtocol(PROTOCOL), 'PT-0001'), acknowledgements: [] });
    await must('start', { targetMa: 2 });
    const running = Date.now() + 30_000;
    while (host.snapshot.state !== 'running') {
      if (Date.now() > running) throw new Error(`bench worker (${mode}): the session did not reach running within 30 s (state ${host.snapshot.state}, ${host.snapshot.reason ?? ''})`);
      await delay(5);
    }
    if (flood) {
      flooding = true;
      floodLoop = (async () => {
        while (flooding) {
          await macrotask();
          await round();
        }
      })();
      floodLoop.catch(() => undefined); // awaited (and its failure reported) in finally
      // The flood in full swing before the window opens: its first round answered (the pure
      // process started), then a second more.
      const started = Date.now() + 120_000;
      while (validations === 0) {
        if (Date.now() > started) throw new Error(`bench worker (${mode}): no round of validations answered within 120 s`);
        await delay(50);
      }
      await delay(1000);
    }
    const from = wallNow();
    await delay(o.quick ? 4000 : 30_000);
    const to = wallNow();
    const beats = frames.hb.filter((t) => t >= from && t <= to);
    const hb = beats.slice(1).map((t, i) => t - beats[i]!);
    const end: Snapshot = host.snapshot; // read again: the loop above narrowed it to 'running'
    const aborted = end.state === 'running' ? undefined : `${end.state}: ${end.reason ?? 'no reason given'}`;

    const estop: number[] = [];
    const lag: number[] = [];
    const hop: number[] = [];
    const handling: number[] = [];
    let nice: number | undefined;
    if (controllerPid !== undefined) nice = getPriority(controllerPid);
    const trials = o.quick ? 10 : TRIALS;
    for (let i = 0; i < trials; i++) {
      const wait = 20 + Math.random() * 30;
      const due = wallNow() + wait;
      const { t0, written, arrived, answered } = await within(
        new Promise<{ t0: number; written: Promise<number>; arrived: Promise<number>; answered: Promise<Result<unknown>> }>((resolve) =>
          setTimeout(() => {
            const t0 = wallNow();
            const written = frames.next('ESTOP', t0);
            const arrived = frames.next('ESTOP-IN', t0);
            resolve({ t0, written, arrived, answered: ask('estop', { source: 'button' }) });
          }, wait),
        ),
        30_000,
        'the e-stop trial timer',
      );
      lag.push(Math.max(0, t0 - due));
      const frameAt = await within(written, 10_000, 'the ESTOP frame at the port');
      estop.push(frameAt - t0);
      if (mode === 'controller process') {
        const arrivedAt = await within(arrived, 10_000, 'the estop call in the controller process');
        hop.push(arrivedAt - t0);
        handling.push(frameAt - arrivedAt);
      }
      const r = await within(answered, 10_000, 'the estop call');
      if (!r.ok) throw new Error(`bench worker (${mode}): estop: ${r.error.code} ${r.error.message}`);
      for (const a of host.snapshot.alarms) await within(ask('acknowledgeAlarm', { id: a.id }), 10_000, 'acknowledgeAlarm');
      await must('clear', {}, 10_000);
    }
    return { hb, estop, hop, handling, nice, lag, validations, aborted };
  };
  let floodFailed: Error | undefined;
  const windDown = async (): Promise<void> => {
    flooding = false;
    // A failed round ends the flood; its error becomes the scenario's, not lost.
    floodFailed = await within(floodLoop, 60_000, 'the flood to wind down').then(
      () => undefined,
      (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
    );
    await within(host.dispose(), 30_000, 'dispose');
    rmSync(dir, { recursive: true, force: true });
  };
  let outcome: Outcome;
  try {
    outcome = await session();
  } finally {
    await windDown();
  }
  if (floodFailed) throw floodFailed;
  return outcome;
}

export async function workerBench(figures: Figures, o: BenchOptions): Promise<void> {
  say(`\n== Controller in its own process: heartbeat and e-stop, idle and under ${PARALLEL} parallel validations ==`);
  const bigText = bigProtocolText();
  say(`  flood: rounds of ${PARALLEL} validateProtocol calls of a ${FORMAT_LIMITS.maxPhases}-phase protocol (${(bigText.length / 1024).toFixed(0)} KiB of JSON each)`);
  const BEFORE: Variant = { estopAs: 'call', nice: 0 };
  const OP_ONLY: Variant = { estopAs: 'op', nice: 0 };
  const runs: { label: string; mode: Mode; flood: boolean; variant?: Variant }[] = [
    { label: 'in-process, idle', mode: 'in-process', flood: false },
    { label: 'in-process, flood', mode: 'in-process', flood: true },
    { label: 'controller process, idle', mode: 'controller process', flood: false },
    // The three e-stop paths under the flood, back to back (machine load drifts over minutes).
    { label: 'controller process, flood, e-stop as a call, nice 0 (before)', mode: 'controller process', flood: true, variant: BEFORE },
    { label: 'controller process, flood, e-stop op, nice 0', mode: 'controller process', flood: true, variant: OP_ONLY },
    { label: 'controller process, flood', mode: 'controller process', flood: true },
  ];
  const out = new Map<string, Outcome>();
  for (const r of runs) {
    const t0 = performance.now();
    const res = await scenario(r.mode, r.flood, o, bigText, r.variant);
    out.set(r.label, res);
    const extra = `${r.flood ? `; ${res.validations} validations answered` : ''}${res.aborted ? `; SESSION ${res.aborted}` : ''}`;
    const split = res.hop.length > 0 ? `; of which the hop to the controller process ${dist(summarize(res.hop))}, its handling there ${dist(summarize(res.handling))}; controller nice ${res.nice ?? '?'}` : '';
    say(`  ${r.label} (${((performance.now() - t0) / 1000).toFixed(0)} s): heartbeat ${dist(summarize(res.hb))}; e-stop ${dist(summarize(res.estop))}${split}; UI loop lag at the e-stop ${dist(summarize(res.lag))}${extra}`);
  }
  const get = (l: string): Outcome => out.get(l)!;
  const hb = (l: string): Summary => summarize(get(l).hb);
  const es = (l: string): Summary => summarize(get(l).estop);
  const lag = (l: string): Summary => summarize(get(l).lag);
  const note = (l: string): string => (get(l).aborted ? ` (session ${get(l).aborted})` : '');
  const parts = (l: string): string => `hop ${dist(summarize(get(l).hop))}, handling ${dist(summarize(get(l).handling))}`;
  const wf = hb('controller process, flood');
  const inf = hb('in-process, flood');
  figures.add({
    section: 'Worker',
    name: `heartbeat intervals at the device's port, running session on the simulator, controller process (as edn web), under ${PARALLEL} parallel validations of a ${FORMAT_LIMITS.maxPhases}-phase protocol`,
    value: `p1 ${ms(wf.p1)}, ${dist(wf)}; ${get('controller process, flood').validations} validations answered${note('controller process, flood')}`,
    reference: `same, idle: ${dist(hb('controller process, idle'))}; in-process (before issue 10), flood: ${dist(inf)}${note('in-process, flood')}, max ratio in-process/controller process ${(inf.max / wf.max).toFixed(1)}; in-process, idle: ${dist(hb('in-process, idle'))}`,
    goal: `p1 and p99 within 250 +/- 50 ms`,
    met: wf.p1 >= HB_GOAL.lo && wf.p99 <= HB_GOAL.hi && get('controller process, flood').aborted === undefined,
  });
  const product = 'controller process, flood';
  const before = 'controller process, flood, e-stop as a call, nice 0 (before)';
  const opOnly = 'controller process, flood, e-stop op, nice 0';
  const ef = es(product);
  figures.add({
    section: 'Worker',
    name: `e-stop, host side: the UI side's estop call (the dispatcher) -> ESTOP frame handed to the port, controller process (e-stop op served before parsing, controller nice ${CONTROLLER_NICE}, got ${get(product).nice ?? '?'}), under the flood`,
    value: `${dist(ef)}: ${parts(product)}; UI loop lag before the call ${dist(lag(product))}`,
    reference: `same run, under the flood: e-stop as an ordinary call at nice 0 (before): ${dist(es(before))}, ${parts(before)}; e-stop op at nice 0: ${dist(es(opOnly))}, ${parts(opOnly)}; idle (as the product): ${dist(es('controller process, idle'))}, ${parts('controller process, idle')}; in-process, flood: ${dist(es('in-process, flood'))}, UI loop lag ${dist(lag('in-process, flood'))}; in-process, idle: ${dist(es('in-process, idle'))}`,
    goal: 'p99 < 1 ms',
    met: ef.p99 < 1,
  });
}
