import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { parseScreeningAnswers } from '../../../src/domain/screening.js';
import { memoryIO } from './memory-io.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/protocols');

async function run(...argv: string[]) {
  const io = memoryIO(FIXTURES);
  const code = await main(['screening-template', ...argv], io);
  return { code, out: io.stdout.text, err: io.stderr.text };
}

describe('edn screening-template', () => {
  it('prints an answers file with every answer null', async () => {
    const r = await run();
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { patientRef: unknown; answers: Record<string, unknown>; sites: unknown[] };
    expect(doc.patientRef).toBeNull();
    expect(Object.values(doc.answers).every((v) => v === null)).toBe(true);
    expect(parseScreeningAnswers(doc).ok).toBe(true);
  });

  it('lists the treated sites of a built-in protocol', async () => {
    const r = await run('--protocol', 'low-back-mtrp');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { protocolId: string; answers: Record<string, unknown>; sites: { region: string; side: string; malignancy: unknown }[] };
    expect(doc.protocolId).toBe('low-back-mtrp');
    expect(doc.answers.pregnancy).toBeNull();
    expect(doc.sites).toEqual([{ region: 'low-back', side: 'affected', activeInfection: null, malignancy: null, metalImplant: null, impairedSensation: null }]);
  });

  it('reads a protocol file, and fails for an unknown id or an invalid file', async () => {
    const file = await run('--protocol', 'valid/base.json');
    expect((JSON.parse(file.out) as { sites: unknown[] }).sites).toHaveLength(2);
    const unknown = await run('--protocol', 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('no built-in protocol "nope"');
    const invalid = await run('--protocol', 'invalid/region-face.json');
    expect(invalid.code).toBe(1);
  });

  it('explains every question in its usage', async () => {
    const r = await run('--help');
    expect(r.out).toContain('implantedElectronicDevice');
    expect(r.out).toContain('Is the patient pregnant?');
    expect(r.out).toContain('metalImplant');
  });
});
