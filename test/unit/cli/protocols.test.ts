import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { BUILT_INS } from '../../../src/domain/protocols/library/index.js';
import { memoryIO } from './memory-io.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/protocols');

async function run(...argv: string[]) {
  const io = memoryIO(FIXTURES);
  const code = await main(['protocols', ...argv], io);
  return { code, out: io.stdout.text, err: io.stderr.text };
}

describe('edn protocols', () => {
  it('lists the built-ins with duration, maximum amplitude and hash', async () => {
    const r = await run();
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines).toHaveLength(BUILT_INS.length);
    expect(lines[0]).toMatch(/^knee-oa-periosteal\s+20 min\s+max 10 mA\s+[0-9a-f]{12}\s+Periosteal EDN for knee osteoarthritis$/);
    expect(r.out).toContain('low-back-mtrp');
  });

  it('--json lists them as one JSON document', async () => {
    const r = await run('--json');
    const list = JSON.parse(r.out) as { id: string; hash: string; durationMin: number }[];
    expect(list.map((p) => p.id)).toEqual(BUILT_INS.map((b) => b.id));
    expect(list.find((p) => p.id === 'low-back-mtrp')).toMatchObject({ durationMin: 30, hash: BUILT_INS.find((b) => b.id === 'low-back-mtrp')!.hash });
  });
});

describe('edn protocols show', () => {
  it('shows the computed figures at maxMa against their limits', async () => {
    const r = await run('show', 'knee-oa-periosteal');
    expect(r.code).toBe(0);
    // 10 mA x 250 µs = 2.5 µC; 0.30 x 40 mm = 0.377 cm²; k = log10(2.5) + log10(2.5 / 0.377) = 1.22
    expect(r.out).toMatch(/charge per phase\s+2\.5 µC/);
    expect(r.out).toMatch(/needle conductive area\s+0\.377 cm²/);
    expect(r.out).toMatch(/charge density per phase\s+6\.631 µC\/cm²/);
    expect(r.out).toMatch(/Shannon k\s+1\.22\s+\(< 1\.85, warning above 1\.5\)\s+OK/);
    expect(r.out).toMatch(/RMS current density\s+0\.839 mA\/cm²\s+\(attention above 2 mA\/cm²\)\s+OK/);
    expect(r.out).toMatch(/energy per pulse into 500 Ω\s+0\.025 mJ\s+\(<= 300 mJ\)\s+OK/);
  });

  it('shows which values are verified and which are defaults the clinician confirms', async () => {
    const r = await run('show', 'knee-oa-periosteal');
    expect(r.out).toContain('[DUNNING2018KNEE]');
    expect(r.out).toMatch(/NOT verified, defaults the clinician confirms: .*phases\[0\]\.frequencyHz/);
    expect(r.out).toContain('aftercare: ');
  });

  it('marks the RMS density warning of the dense-disperse pattern', async () => {
    const r = await run('show', 'dense-disperse-2-100');
    expect(r.out).toMatch(/RMS current density\s+5\.198 mA\/cm².*WARNING/);
    expect(r.out).toContain('warning: phases[0].amplitude.maxMa: RMS current density 5.2 mA/cm²');
  });

  it('--json carries the figures per phase', async () => {
    const r = await run('show', 'low-back-mtrp', '--json');
    const doc = JSON.parse(r.out) as { id: string; figures: { chargePerPhaseUc: number; shannonK: number; checks: { key: string; status: string }[] }[] };
    expect(doc.id).toBe('low-back-mtrp');
    expect(doc.figures[0]!.chargePerPhaseUc).toBe(2.5);
    expect(doc.figures[0]!.shannonK).toBeCloseTo(Math.log10(2.5) + Math.log10(2.5 / ((Math.PI * 0.03 * 5))), 9);
    expect(doc.figures[0]!.checks.map((c) => [c.key, c.status])).toEqual([['shannonK', 'ok'], ['rmsDensityMaPerCm2', 'ok'], ['energyPerPulseMj', 'ok']]);
  });

  it('reads a protocol file given as a path', async () => {
    const r = await run('show', 'valid/two-phases.json');
    expect(r.code).toBe(0);
    expect(r.out).toContain('phase 2 "wind-down": 10 min, 4 Hz continuous');
  });

  it('fails with the errors for an invalid file, and for an unknown id', async () => {
    const bad = await run('show', 'invalid/region-thorax.json');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('channels[0].region');
    const unknown = await run('show', 'no-such-protocol');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('no built-in protocol "no-such-protocol"; built-ins: knee-oa-periosteal');
  });

  it('is a usage error for a wrong subcommand or argument count', async () => {
    expect((await run('list')).code).toBe(2);
    expect((await run('show')).code).toBe(2);
    expect((await run('show', 'a', 'b')).code).toBe(2);
  });
});
