/**
 * The firmware's clock is a u32 of milliseconds (edn_hal_millis): it wraps every 49.7 days, and a
 * device that runs that long must time its watchdog, TEL, DONE and STATUS `up` across the wrap
 * exactly as before it. The behaviour scenarios (vectors/behaviour) run twice in the C firmware's
 * replay harness: powered up at clock 0, and powered up 700 ms before the wrap so that every
 * scenario crosses it; the lines and their times (relative to power-up) must be identical.
 * (The simulator's clock is a double: it has no wrap to test.)
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILD_TIMEOUT_MS, built } from './support.js';

interface Scenario {
  readonly name: string;
  readonly device?: { readonly qmax: number };
  readonly until: number;
  readonly steps: readonly ({ readonly at: number; readonly send: string } | { readonly at: number; readonly fault: string })[];
}

const file = JSON.parse(readFileSync(new URL('../../firmware-protocol/vectors/behaviour/answers.json', import.meta.url), 'utf8')) as { scenarios: Scenario[] };
const WRAP = 2 ** 32;
const OFFSETS = [0, WRAP - 700] as const;

function control(fault: string): string {
  const [kind = '', a, b] = fault.split(':');
  if (kind === 'open') return `load ${a} OPEN`;
  if (kind === 'load') return `load ${a} ${b}`;
  if (kind === 'stage-fail') return `stage-fail ${a}`;
  return kind;
}

let runs: Map<number, string[][]>;

beforeAll(async () => {
  const [, replay] = await built('tools');
  runs = new Map();
  for (const offset of OFFSETS) {
    const script = file.scenarios.flatMap((s, i) => [
      `power ${i} ${s.device?.qmax ?? ''}`.trim(),
      ...s.steps.flatMap((step) => [`t ${offset + step.at}`, 'send' in step ? `rx ${Buffer.from(`${step.send}\n`, 'latin1').toString('hex')}` : control(step.fault)]),
      `t ${offset + s.until}`,
    ]);
    const run = spawnSync(replay!, ['--channels', '4', '--start-ms', String(offset)], { input: script.join('\n') + '\n', encoding: 'latin1' });
    expect(run.status, run.stderr).toBe(0);
    const scenarios: string[][] = [];
    for (const text of run.stdout.trimEnd().split('\n')) {
      const o = JSON.parse(text) as { t: number; power?: number; tx?: string; ev?: unknown; error?: string };
      if (o.error !== undefined) throw new Error(o.error);
      if (o.power !== undefined) scenarios.push([]);
      else scenarios.at(-1)?.push(`${o.t - offset} ${o.tx !== undefined ? JSON.stringify(o.tx) : JSON.stringify(o.ev)}`);
    }
    runs.set(offset, scenarios);
  }
}, BUILD_TIMEOUT_MS);

describe('the C firmware across the 2^32 ms wrap of its clock', () => {
  it.each(file.scenarios.map((s, i) => [s.name, i] as const))('%s', (_name, i) => {
    const before = runs.get(0)![i]!;
    const across = runs.get(WRAP - 700)![i]!;
    expect(before.length).toBeGreaterThan(2);
    expect(across).toEqual(before);
  });
});
