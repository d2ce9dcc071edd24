/**
 * The behaviour vectors (firmware-protocol/vectors/behaviour/*.json, PROTOCOL.md §14.6) against
 * both device implementations on virtual time: the TypeScript simulator in process, and the C
 * firmware through its replay harness (tests/replay.c). Each scenario sends its lines (and
 * injects its device faults) at device times, and the device must write exactly the expected
 * lines, in order, each inside its time window. TEL lines are compared only where a scenario says
 * so. Universal checks: every line is canonical, and every boot id a device reports in OK HELLO
 * or OK STATUS is the one of its last BOOT.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { decodeDeviceLine, encode } from '../../firmware-protocol/index.js';
import { SimulatedStimulator, applyFault, parseFaultSpec } from '../../src/simulator/index.js';
import { ManualScheduler } from '../support/virtual-time.js';
import { BUILD_TIMEOUT_MS, built } from './support.js';

const window = z.tuple([z.number().int().min(0), z.number().int().min(1)]);
const Scenario = z.strictObject({
  name: z.string().min(1),
  answers: z.string().min(1),
  device: z.strictObject({ qmax: z.number().int().min(1).max(12_000) }).optional(),
  tel: z.boolean().optional(),
  until: z.number().int().min(1),
  steps: z.array(z.union([z.strictObject({ at: z.number().int().min(0), send: z.string() }), z.strictObject({ at: z.number().int().min(0), fault: z.string() })])),
  expect: z.array(z.union([z.strictObject({ at: window, line: z.string() }), z.strictObject({ at: window, match: z.record(z.string(), z.unknown()) })])).min(1),
});
const File = z.strictObject({ description: z.string().min(1), scenarios: z.array(Scenario).min(1) });
type Scenario = z.output<typeof Scenario>;

const dir = new URL('../../firmware-protocol/vectors/behaviour/', import.meta.url);
const scenarios: Scenario[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .flatMap((f) => {
    const parsed = File.safeParse(JSON.parse(readFileSync(new URL(f, dir), 'utf8')));
    if (!parsed.success) throw new Error(`${f}: ${z.prettifyError(parsed.error)}`);
    return parsed.data.scenarios;
  });

interface Written {
  readonly t: number;
  readonly line: string;
}

const CHANNELS = 4;
const SEED = 1;

function lines(chunks: readonly { t: number; text: string }[]): Written[] {
  const out: Written[] = [];
  let partial = '';
  for (const { t, text } of chunks) {
    partial += text;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      out.push({ t, line: partial.slice(0, nl) });
      partial = partial.slice(nl + 1);
    }
  }
  return out;
}

function onSimulator(s: Scenario): Written[] {
  const scheduler = new ManualScheduler();
  const sim = new SimulatedStimulator({ scheduler, seed: SEED, channels: CHANNELS, ...(s.device ? { limits: { qmax: s.device.qmax } } : {}) });
  const chunks: { t: number; text: string }[] = [];
  sim.onTransmit((text) => chunks.push({ t: scheduler.now(), text }));
  sim.start();
  for (const step of s.steps) {
    scheduler.advanceTo(step.at);
    if ('send' in step) sim.receive(Buffer.from(`${step.send}\n`, 'latin1'));
    else {
      const spec = parseFaultSpec(`${step.fault}@0ms`, CHANNELS);
      if (!spec.ok) throw new Error(spec.error);
      applyFault(sim, spec.spec.fault);
    }
  }
  scheduler.advanceTo(s.until);
  sim.dispose();
  return lines(chunks);
}

/** A device fault spec as the firmware board's control command. */
function control(fault: string): string {
  const [kind = '', a, b] = fault.split(':');
  if (kind === 'open') return `load ${a} OPEN`;
  if (kind === 'load') return `load ${a} ${b}`;
  if (kind === 'stage-fail') return `stage-fail ${a}`;
  return kind;
}

let firmware: Map<string, Written[]>;

beforeAll(async () => {
  const [, replay] = await built('tools');
  const script = scenarios.flatMap((s, i) => [
    `power ${i} ${s.device?.qmax ?? ''}`.trim(),
    ...s.steps.flatMap((step) => [`t ${step.at}`, 'send' in step ? `rx ${Buffer.from(`${step.send}\n`, 'latin1').toString('hex')}` : control(step.fault)]),
    `t ${s.until}`,
  ]);
  const run = spawnSync(replay!, ['--channels', String(CHANNELS), '--seed', String(SEED)], { input: script.join('\n') + '\n', encoding: 'latin1' });
  expect(run.status, run.stderr).toBe(0);
  firmware = new Map();
  let chunks: { t: number; text: string }[] | undefined;
  const flush = (i: number | undefined) => {
    if (i !== undefined && chunks) firmware.set(scenarios[i]!.name, lines(chunks));
  };
  let current: number | undefined;
  for (const text of run.stdout.trimEnd().split('\n')) {
    const o = JSON.parse(text) as { t: number; power?: number; tx?: string; error?: string };
    if (o.error !== undefined) throw new Error(`the replay harness refused a script line: ${o.error}`);
    if (o.power !== undefined) {
      flush(current);
      current = o.power;
      chunks = [];
    } else if (o.tx !== undefined && chunks) chunks.push({ t: o.t, text: o.tx });
  }
  flush(current);
}, BUILD_TIMEOUT_MS);

function partial(actual: unknown, want: unknown): boolean {
  if (want === null || typeof want !== 'object') return actual === want;
  if (actual === null || typeof actual !== 'object') return false;
  return Object.entries(want).every(([k, v]) => partial((actual as Record<string, unknown>)[k], v));
}

/** Problems with `got` against the scenario, one sentence each (empty: it conforms). */
function check(s: Scenario, got: readonly Written[]): string[] {
  const problems: string[] = [];
  let boot: unknown;
  for (const w of got) {
    const d = decodeDeviceLine(w.line);
    if (!d.ok) {
      problems.push(`at ${w.t}: undecodable ${JSON.stringify(w.line)}`);
      continue;
    }
    if (encode(d.message) !== w.line) problems.push(`at ${w.t}: not canonical ${JSON.stringify(w.line)}`);
    const args = d.message.args as Record<string, unknown>;
    if (d.message.type === 'event' && d.message.event === 'BOOT') boot = args.boot;
    else if (d.message.type === 'ok' && (d.message.verb === 'HELLO' || d.message.verb === 'STATUS') && args.boot !== boot) {
      problems.push(`at ${w.t}: ${d.message.verb} reports boot id ${String(args.boot)}, the last BOOT said ${String(boot)}`);
    }
  }
  const compared = got.filter((w) => s.tel === true || !w.line.startsWith('! TEL '));
  const n = Math.max(compared.length, s.expect.length);
  for (let i = 0; i < n; i++) {
    const w = compared[i];
    const e = s.expect[i];
    if (!w || !e) {
      problems.push(w ? `unexpected line ${i + 1} at ${w.t}: ${w.line}` : `missing line ${i + 1}: ${JSON.stringify(e)}`);
      continue;
    }
    const [from, before] = e.at;
    if (w.t < from || w.t >= before) problems.push(`line ${i + 1} at ${w.t}, expected in [${from}, ${before}): ${w.line}`);
    if ('line' in e) {
      if (w.line !== e.line) problems.push(`line ${i + 1}: ${w.line}, expected ${e.line}`);
    } else {
      const d = decodeDeviceLine(w.line);
      if (!d.ok || !partial(d.message, e.match)) problems.push(`line ${i + 1}: ${w.line} does not match ${JSON.stringify(e.match)}`);
    }
  }
  return problems;
}

describe('behaviour vectors (the spec answers) on both implementations', () => {
  it('there is a scenario for every answer the issue asked for', () => {
    const answers = scenarios.map((s) => s.answers).join(' ');
    for (const section of ['§4.4', '§12.3', '§7.3', '§12.5', '§11', '§6.9', '§6.2 CHARGE', '§8 INTERNAL', '§9', 'BOOT']) expect(answers).toContain(section);
  });

  describe.each(scenarios)('$name', (s) => {
    it('the simulator', () => {
      expect(check(s, onSimulator(s))).toEqual([]);
    });
    it('the C firmware', () => {
      expect(check(s, firmware.get(s.name) ?? [])).toEqual([]);
    });
  });
});
