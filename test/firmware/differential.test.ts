/**
 * The differential test: the same random request streams, on the same virtual clock, into the
 * TypeScript simulator (src/simulator, in process on a ManualScheduler) and into the C firmware
 * (its core and the host port's board on virtual time, tests/replay.c), and every line each writes
 * compared, with the millisecond it was written at.
 *
 * What may differ, and why (PROTOCOL.md §14.5):
 * - boot ids (random per power-up): compared as "the k-th boot id this device reported";
 * - measured values (TEL i, z, q; IMP z): what a board measures, not what the protocol decides;
 * - the identity tokens of HELLO (model, fw, sn): each implementation names itself;
 * - the msg of a BAD_ARG: free text that hosts never parse (§7.2), worded by each decoder.
 * Everything else, every byte of every other line and when it was sent, must be the same.
 *
 * Streams are seeded (mulberry32), so a failure names a stream that replays exactly.
 */
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decodeDeviceLine,
  encode,
  frame,
  type DeviceToHost,
  type Request,
  type RequestArgs,
  type RequestVerb,
} from '../../firmware-protocol/index.js';
import { SimulatedStimulator } from '../../src/simulator/index.js';
import { mulberry32 } from '../../src/simulator/random.js';
import { ManualScheduler } from '../support/virtual-time.js';
import { BUILD_TIMEOUT_MS, built } from './support.js';

/** Streams in `npm test`, and steps in each. */
const STREAMS = 120;
const STEPS = 70;
const CHANNELS = 4;

type Step = { readonly t: number; readonly bytes: string } | { readonly t: number; readonly control: string };

interface Written {
  readonly t: number;
  readonly line: string;
}

/** One random stream: requests (mostly valid, some retried, some broken), device faults, time gaps. */
function stream(seed: number): Step[] {
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const chance = (p: number) => rnd() < p;
  const steps: Step[] = [];
  let t = 5;
  let seq = int(65536);
  let last = '';
  let staged = 1;
  let started = 1;
  const request = <V extends RequestVerb>(verb: V, args: RequestArgs<V>): string => {
    seq = seq >= 65535 ? 0 : seq + 1;
    return encode({ type: 'request', seq, verb, args } as Request);
  };
  const ch = () => (chance(0.9) ? 1 + int(CHANNELS) : 1 + int(8));
  const program = (): RequestArgs<'SET'> => {
    staged = ch();
    const common = {
      ch: staged,
      pw: chance(0.85) ? 50 + int(551) : 1 + int(10_000),
      wf: pick(['SYM', 'ASYM'] as const),
      amp: chance(0.85) ? int(20_001) : int(100_001),
      dur: chance(0.8) ? 1 + int(3) : 1 + int(86_400),
      ramp: chance(0.85) ? 1 + int(1_000) : 1 + int(100_000),
    };
    const f = chance(0.85) ? 1_000 + int(149_001) : 1 + int(1_000_000);
    switch (pick(['CONT', 'CONT', 'DD', 'BURST'] as const)) {
      case 'CONT':
        return { mode: 'CONT', f, ...common };
      case 'DD':
        return { mode: 'DD', f, f2: chance(0.8) ? f + 1 + int(150_000 - Math.min(f, 149_999)) : 1 + int(1_000_000), dwell: 100 + int(3_000), ...common };
      case 'BURST':
        return { mode: 'BURST', f: 1_000 + int(5_000), f2: 1_000 + int(149_001), n: 1 + int(20), ...common };
    }
  };
  for (let i = 0; i < STEPS; i++) {
    t += pick([10, 10, 20, 30, 50, 100, 100, 200, 250, 250, 400, 700, 1000, 1200, 2000, 3500]);
    if (chance(0.05)) {
      steps.push({ t, control: pick(['reboot', `load ${1 + int(CHANNELS)} OPEN`, `load ${1 + int(CHANNELS)} ${int(200_000)}`, `load ${1 + int(CHANNELS)} 1500`, 'overcurrent', 'internal', `stage-fail ${1 + int(2)}`]) });
      continue;
    }
    let line: string;
    const r = rnd();
    if (r < 0.1 && last) line = last; // a retry: the same line again
    else if (r < 0.2) line = request('HELLO', chance(0.9) ? { vmin: 1, vmax: 1 + int(3) } : { vmin: 2, vmax: 2 + int(5) });
    else if (r < 0.4) line = request('SET', program());
    else if (r < 0.5) line = request('START', { ch: (started = chance(0.8) ? staged : ch()) });
    else if (r < 0.58) line = request('AMP', { ch: chance(0.8) ? started : ch(), amp: chance(0.9) ? int(20_001) : int(100_001) });
    else if (r < 0.63) line = request('STOP', chance(0.5) ? {} : { ch: ch() });
    else if (r < 0.66) line = request('ESTOP', {});
    else if (r < 0.7) line = request('CLEAR', {});
    else if (r < 0.8) line = request('HB', {});
    else if (r < 0.84) line = request('STATUS', {});
    else if (r < 0.88) line = request('IMP', { ch: ch() });
    else if (r < 0.9) line = frame(`${int(65536)} ${pick(['HB', 'SET ch=1', 'START ch=1 x=2', 'PING', 'AMP ch=1 amp=1 amp=2', 'HELLO vmin=3 vmax=1'])}`);
    else if (r < 0.92) line = frame(pick(['! TEL ch=1 amp=1 i=1 z=OPEN q=0', `${int(100)} OK HB`, '! ERR code=BAD_CRC', '7 OK HB x=1', '! TEL', '! PING']));
    else if (r < 0.95 && last) {
      const at = int(last.length); // one byte changed in transit
      line = `${last.slice(0, at)}${String.fromCharCode(0x21 + int(94))}${last.slice(at + 1)}`;
    } else if (r < 0.97) line = 'A'.repeat(250 + int(20));
    else line = Array.from({ length: 1 + int(40) }, () => String.fromCharCode(int(256))).join('').replace(/\n/g, '');
    if (chance(0.05)) line += '\r';
    last = line.replace(/\r$/, '');
    steps.push({ t, bytes: `${line}\n` });
  }
  return steps;
}

/** The simulator, driven by the stream: time first, then the step (as the firmware harness does). */
function runSimulator(seed: number, steps: readonly Step[]): Written[] {
  const scheduler = new ManualScheduler();
  const sim = new SimulatedStimulator({ scheduler, seed, channels: CHANNELS, ...(qmaxOf(seed) === undefined ? {} : { limits: { qmax: qmaxOf(seed)! } }) });
  const out: Written[] = [];
  let partial = '';
  sim.onTransmit((chunk) => {
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      out.push({ t: scheduler.now(), line: partial.slice(0, nl) });
      partial = partial.slice(nl + 1);
    }
  });
  sim.start();
  for (const step of steps) {
    scheduler.advanceTo(step.t);
    if ('bytes' in step) {
      sim.receive(Buffer.from(step.bytes, 'latin1'));
      continue;
    }
    const [word, a, b] = step.control.split(' ');
    if (word === 'reboot') sim.reboot();
    else if (word === 'load') sim.setLoad(Number(a), b === 'OPEN' ? 'OPEN' : Number(b));
    else if (word === 'overcurrent') sim.overcurrent();
    else if (word === 'internal') sim.internalFault();
    else if (word === 'stage-fail') sim.stageFail(Number(a));
  }
  sim.dispose();
  return out;
}

/** Every third stream runs on a device with a narrower charge limit, so that CHARGE can happen. */
function qmaxOf(seed: number): number | undefined {
  return seed % 3 === 0 ? 2_000 + (seed % 7) * 500 : undefined;
}

function script(seed: number, steps: readonly Step[]): string {
  return [`power ${seed} ${qmaxOf(seed) ?? ''}`.trim(), ...steps.flatMap((s) => [`t ${s.t}`, 'bytes' in s ? `rx ${Buffer.from(s.bytes, 'latin1').toString('hex')}` : s.control])].join('\n');
}

/** Lines as compared: boot ids by order of appearance, measured values and identity left out. */
function normalise(lines: readonly Written[]): string[] {
  const boots = new Map<string, string>();
  const boot = (id: string) => {
    if (!boots.has(id)) boots.set(id, `BOOT${boots.size + 1}`);
    return boots.get(id)!;
  };
  return lines.map(({ t, line }) => {
    const d = decodeDeviceLine(line);
    if (!d.ok) return `${t} UNDECODABLE ${JSON.stringify(line)} (${d.error.code})`;
    const m: DeviceToHost = d.message;
    if (encode(m) !== line) return `${t} NOT CANONICAL ${JSON.stringify(line)}`;
    const args: Record<string, unknown> = { ...m.args };
    if ('boot' in args) args.boot = boot(String(args.boot));
    if (m.type === 'ok' && m.verb === 'HELLO') for (const k of ['model', 'fw', 'sn']) args[k] = '(identity)';
    if (m.type === 'event' && m.event === 'TEL') for (const k of ['i', 'z', 'q']) delete args[k];
    if (m.type === 'ok' && m.verb === 'IMP') delete args.z;
    if (m.type === 'err' && args.code === 'BAD_ARG') delete args.msg;
    const head = m.type === 'event' ? `! ${m.event}` : m.type === 'ok' ? `${m.seq} OK ${m.verb}` : `${m.seq ?? '!'} ERR`;
    return `${t} ${head} ${JSON.stringify(args)}`;
  });
}

const seeds = Array.from({ length: STREAMS }, (_, i) => 1000 + i);
const streams = new Map(seeds.map((s) => [s, stream(s)]));
let firmware: Map<number, Written[]>;

beforeAll(async () => {
  const [, replay] = await built('tools');
  const input = seeds.map((s) => script(s, streams.get(s)!)).join('\n') + '\n';
  const run = spawnSync(replay!, ['--channels', String(CHANNELS)], { input, encoding: 'latin1', maxBuffer: 256 << 20 });
  expect(run.status, run.stderr).toBe(0);
  firmware = new Map();
  let current: Written[] | undefined;
  let partial = '';
  for (const text of run.stdout.trimEnd().split('\n')) {
    const o = JSON.parse(text) as { t: number; power?: number; tx?: string; error?: string };
    if (o.error !== undefined) throw new Error(`the replay harness refused a script line: ${o.error}`);
    if (o.power !== undefined) {
      current = [];
      firmware.set(o.power, current);
      partial = '';
    } else if (o.tx !== undefined && current) {
      partial += o.tx;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        current.push({ t: o.t, line: partial.slice(0, nl) });
        partial = partial.slice(nl + 1);
      }
    }
  }
}, BUILD_TIMEOUT_MS);

describe('H31 the simulator and the C firmware answer the same streams alike', () => {
  it('the streams reach deep states: sessions, outputs, DONE, faults, watchdog, retries', () => {
    const all = seeds.flatMap((s) => runSimulator(s, streams.get(s)!).map((w) => w.line));
    for (const pattern of [/ OK START /, / OK AMP /, /^! DONE /, /^! FAULT /, /^! WDOG/, / ERR code=LATCHED/, / ERR code=CHARGE/, / ERR code=INTERNAL/, / ERR code=STATE/, / ERR code=RANGE/, /^! TEL /]) {
      expect(all.some((l) => pattern.test(l)), String(pattern)).toBe(true);
    }
  });

  it.each(seeds)('stream %i', (seed) => {
    const steps = streams.get(seed)!;
    const sim = normalise(runSimulator(seed, steps));
    const fw = normalise(firmware.get(seed) ?? []);
    expect(fw).toEqual(sim);
  });
});
