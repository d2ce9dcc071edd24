/**
 * The stimulation choke point ("no SET, START or AMP frame without a Checked value") is enforced by
 * the `edn/choke-point` ESLint rule (eslint.choke-point.js) with the type checker. These tests lint
 * fixture code through the project's own ESLint config (type-aware, as `npm run lint` runs it) and
 * show it reports each way around the guard, and that the real sources pass it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
// Linted as if it were this file (one the type-aware config knows), never written to disk.
const AS_IF = path.join(ROOT, 'src/session/plan.ts');
const RULE = 'edn/choke-point';

const FIXTURE = `import type { DeviceClient } from '../device/client.js';
import { setArgs as encodeSet, ampArgs } from '../device/stimulating.js';
import type { Checked } from '../domain/safety/guard.js';
import type { AmplitudeChange, StimulationParams } from '../domain/stimulation.js';
declare const client: DeviceClient;
declare const plain: StimulationParams;
declare function send(verb: string, args: object): void;
export function bypasses(): void {
  void client.stage(JSON.parse('{}'));
  void encodeSet(plain as never);
  const forged = plain as unknown as Checked<StimulationParams>;
  void client.start(forged);
  const verb = 'AMP';
  send(verb, { ch: 1, amp: 20000 });
  send('x', { verb: 'START', ch: 1 });
}
export function guarded(checked: Checked<AmplitudeChange>): void {
  void client.setAmplitude(checked);
  void ampArgs(checked);
  send('AMP', ampArgs(checked));
  send('HB', {});
}
`;

/** Host sources that handle Checked values or name a stimulating verb (the simulator is the device). */
function chokeFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return full.includes(`${path.sep}simulator`) ? [] : chokeFiles(full);
    if (!name.endsWith('.ts') || name.endsWith('.test.ts')) return [];
    return /Checked|['"](SET|START|AMP)['"]/.test(readFileSync(full, 'utf8')) ? [full] : [];
  });
}

describe('H1 edn/choke-point', () => {
  let eslint: ESLint;
  beforeAll(() => {
    eslint = new ESLint({ cwd: ROOT });
  });

  it('is an error in the project config for the host sources, and off for the simulator (the device)', async () => {
    const on = (await eslint.calculateConfigForFile(path.join(ROOT, 'src/session/runner.ts'))) as { rules: Record<string, unknown[]> };
    expect(on.rules[RULE]).toEqual([2]);
    const sim = (await eslint.calculateConfigForFile(path.join(ROOT, 'src/simulator/stimulator.ts'))) as { rules: Record<string, unknown> };
    expect(sim.rules[RULE]).toBeUndefined();
  });

  it('reports every way around the guard, and nothing in a function given a Checked value', async () => {
    const [result] = await eslint.lintText(FIXTURE, { filePath: AS_IF });
    const found = result!.messages.filter((m) => m.ruleId === RULE).map((m) => [m.line, m.severity, m.message.split(':')[0]]);
    expect(found).toEqual([
      [9, 2, "'stage' takes a Checked value here, and this argument is any"], // an any (JSON.parse)
      [10, 2, "'encodeSet' takes a Checked value here, and this argument is never"], // a renamed import
      [11, 2, 'An assertion to Checked<StimulationParams> outside the guard forges a Checked value'],
      [14, 2, 'A stimulating frame (AMP) is built here outside a function given a Checked value'], // a verb in a variable
      [15, 2, 'A stimulating frame (START) is built here outside a function given a Checked value'], // a verb field
    ]);
    // line 12 (start(forged)) type-checks as Checked: the forgery is reported where it is made, line 11.
  }, 120_000);

  it('passes the real sources', async () => {
    const files = chokeFiles(path.join(ROOT, 'src'));
    expect(files.map((f) => path.relative(ROOT, f).split(path.sep).join('/'))).toEqual(
      expect.arrayContaining(['src/device/client.ts', 'src/device/stimulating.ts', 'src/session/runner.ts', 'src/domain/safety/guard.ts']),
    );
    const results = await eslint.lintFiles(files);
    const problems = results.flatMap((r) => r.messages.filter((m) => m.ruleId === RULE || m.fatal).map((m) => `${path.relative(ROOT, r.filePath)}:${m.line}: ${m.message}`));
    expect(problems).toEqual([]);
    expect(results.length).toBe(files.length);
  }, 120_000);

  it('fails the real device client once its SET method takes a plain value instead of a Checked one', async () => {
    const file = path.join(ROOT, 'src/device/client.ts');
    const real = readFileSync(file, 'utf8');
    const signature = 'async stage(checked: Checked<StimulationParams>)';
    expect(real).toContain(signature);
    const [result] = await eslint.lintText(real.replace(signature, 'async stage(checked: { readonly value: StimulationParams })'), { filePath: file });
    const found = result!.messages.filter((m) => m.ruleId === RULE).map((m) => `${m.line} ${m.message}`);
    const line = (text: string) => real.split('\n').findIndex((l) => l.includes(text)) + 1;
    // setArgs(checked) is given a plain value, and the SET frame (the refusal check and the request)
    // is no longer built behind a Checked value.
    expect(found).toEqual([
      expect.stringMatching(new RegExp(`^${line('const args = setArgs(checked);')} 'setArgs' takes a Checked value here, and this argument is \\{ readonly value: StimulationParams; \\}`)),
      expect.stringMatching(new RegExp(`^${line("this.#refuseStimulation('SET')")} A stimulating frame \\(SET\\) is built here outside a function given a Checked value`)),
      expect.stringMatching(new RegExp(`^${line("this.#enqueue('SET', args.value)")} A stimulating frame \\(SET\\) is built here`)),
    ]);
  }, 120_000);
});
