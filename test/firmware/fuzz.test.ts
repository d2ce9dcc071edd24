/**
 * A short libFuzzer run of both C fuzz targets (firmware-protocol/c/fuzz) under ASan and UBSan:
 * the receiver and decoder on any bytes (fuzz_decode), and the whole device on any byte stream with
 * the output-stage safety properties checked at the HAL (fuzz_device). Each starts from the
 * committed seeds (fuzz/corpus/<target>, read only) and grows a scratch corpus in a temporary
 * directory. Any crash, sanitizer report or broken invariant fails the test and leaves the input
 * in the scratch directory's `crash-*` file, named in the failure. The long campaign (1,000,000
 * inputs each) is `npm run fuzz:firmware`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIRMWARE_DIR } from '../../src/cli/firmware-build.js';
import { BUILD_TIMEOUT_MS, built } from './support.js';

const RUNS = { decode: 200_000, device: 10_000 } as const;
let targets: string[] = [];
const work = mkdtempSync(join(tmpdir(), 'edn-fuzz-'));

beforeAll(async () => {
  targets = await built('fuzz');
}, BUILD_TIMEOUT_MS);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('fuzzing the C firmware (libFuzzer, ASan + UBSan)', () => {
  it.each(Object.entries(RUNS))('fuzz_%s: %i inputs, no crash', (name, runs) => {
    const binary = targets.find((t) => t.endsWith(`fuzz_${name}`))!;
    const corpus = join(work, name);
    rmSync(corpus, { recursive: true, force: true });
    spawnSync('mkdir', ['-p', corpus]);
    const seeds = join(FIRMWARE_DIR, 'fuzz', 'corpus', name);
    expect(readdirSync(seeds).length).toBeGreaterThan(100);
    const run = spawnSync(binary, [`-runs=${runs}`, '-max_len=2048', '-print_final_stats=1', `-artifact_prefix=${corpus}/`, corpus, seeds], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const crashes = readdirSync(corpus).filter((f) => /^(crash|leak|timeout|oom)-/.test(f));
    expect(crashes, `${name}: ${run.stderr.split('\n').filter((l) => /ERROR|SUMMARY|==/.test(l)).slice(0, 10).join('\n')}`).toEqual([]);
    expect(run.status).toBe(0);
    const executed = /stat::number_of_executed_units: (\d+)/.exec(run.stderr);
    expect(Number(executed?.[1])).toBeGreaterThanOrEqual(runs);
  }, 120_000);
});
