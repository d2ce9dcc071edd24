/**
 * No code path encodes SET, START or AMP without a `Checked` value. Three layers of evidence:
 * the types (the @ts-expect-error lines below fail the typecheck if they ever compile), the
 * stimulating methods' runtime refusal of forged values, and a scan of every host source file.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DeviceClient } from '../../../src/device/client.js';
import { PARAMS } from '../../support/device-fixtures.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.(ts|js|cjs|mjs)$/.test(name) ? [full] : [];
  });
}

describe('the stimulation choke point', () => {
  it('only the device client names SET, START or AMP as a request, and only behind Checked values', () => {
    const hostDirs = ['src', 'electron'].map((d) => path.join(ROOT, d));
    const pattern = /(?:verb\s*:\s*|#?enqueue\(\s*|request\(\s*|#?send\(\s*)['"`](SET|START|AMP)['"`]/;
    const offenders: string[] = [];
    for (const dir of hostDirs) {
      let files: string[] = [];
      try {
        files = sourceFiles(dir);
      } catch {
        continue;
      }
      for (const file of files) {
        const rel = path.relative(ROOT, file);
        // The simulator is the device: it answers these verbs, it never sends them.
        if (rel.startsWith(path.join('src', 'simulator'))) continue;
        const lines = readFileSync(file, 'utf8').split('\n');
        lines.forEach((line, i) => {
          if (pattern.test(line) && rel !== path.join('src', 'device', 'client.ts')) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
        });
      }
    }
    expect(offenders).toEqual([]);
    // And the client itself sends them only from its three Checked-taking methods.
    const client = readFileSync(path.join(ROOT, 'src/device/client.ts'), 'utf8');
    const sends = [...client.matchAll(/#enqueue\('(SET|START|AMP)'/g)].map((m) => m[1]);
    expect(sends.sort()).toEqual(['AMP', 'SET', 'START']);
    expect(client).toMatch(/async stage\(checked: Checked<StimulationParams>\)/);
    expect(client).toMatch(/async start\(checked: Checked<StimulationParams>\)/);
    expect(client).toMatch(/async setAmplitude\(checked: Checked<AmplitudeChange>\)/);
  });

  it('types refuse plain parameters and stimulating verbs in the generic request', () => {
    // Compile-time evidence; these functions are never called.
    const typeChecks = (client: DeviceClient) => {
      // @ts-expect-error SET is not a plain verb
      void client.request('SET', {});
      // @ts-expect-error AMP is not a plain verb
      void client.request('AMP', { ch: 1, amp: 1000 });
      // @ts-expect-error START is not a plain verb
      void client.request('START', { ch: 1 });
      // @ts-expect-error a plain StimulationParams is not Checked
      void client.stage(PARAMS);
      // @ts-expect-error an object shaped like Checked is still not Checked (the brand is a unique symbol)
      void client.stage({ value: PARAMS, warnings: [] });
    };
    expect(typeof typeChecks).toBe('function');
  });
});
