/**
 * The one assembly (src/app/assembly.ts) and the two options `edn run` gives it: a protocol the
 * host offers (its --protocol FILE) and the clinician who runs the session (its --clinician).
 * `edn run` drives the service through these; its whole runs are test/integration/run-cli.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createControllerService } from '../../../src/app/assembly.js';
import { builtInProtocol } from '../../../src/domain/protocols/library/index.js';
import { validateProtocol } from '../../../src/domain/protocols/validate.js';
import type { Protocol } from '../../../src/domain/index.js';
import { answersFrom, serviceHarness, type ServiceHarness } from './service-harness.js';

const dirs: string[] = [];
const harnesses: ServiceHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    expect(h.invalidOutputs).toEqual([]);
    await h.dispose();
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The knee built-in under its own id, renamed and with a lower maximum: a clinic's file of it. */
function clinicCopy(): Protocol {
  const source = structuredClone(builtInProtocol('knee-oa-periosteal')!.source) as { name: string; phases: { amplitude: { maxMa: number } }[] };
  source.name = 'Knee OA, clinic copy';
  source.phases[0]!.amplitude.maxMa = 6;
  const v = validateProtocol(source);
  if (!v.ok) throw new Error(`the copy should validate: ${JSON.stringify(v.errors)}`);
  return v.protocol;
}

describe('createControllerService: what edn run passes', () => {
  it('passes the clinician through: acknowledging needs no settings file then', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'edn-assembly-'));
    dirs.push(dataDir);
    const answers = (s: ReturnType<typeof createControllerService>) =>
      s.screeningForm({ protocolId: 'knee-oa-periosteal' }).then((f) => {
        if (!f.ok) throw new Error(f.error.message);
        return answersFrom(f.data.template, 'PT-0042', { bleedingRisk: true });
      });
    const anonymous = createControllerService({ dataDir, allowHardware: false });
    const refused = await anonymous.submitScreening({ side: 'left', protocolId: 'knee-oa-periosteal', answers: await answers(anonymous), acknowledgements: ['bleedingRisk'] });
    expect(refused).toMatchObject({ ok: false, error: { code: 'SCREENING', message: expect.stringMatching(/set the clinician/) as unknown } });
    await anonymous.dispose();

    const named = createControllerService({ dataDir, allowHardware: false, clinician: 'JD' });
    // Past the acknowledgement rule: cleared, and now only the missing device stops it.
    const cleared = await named.submitScreening({ side: 'left', protocolId: 'knee-oa-periosteal', answers: await answers(named), acknowledgements: ['bleedingRisk'] });
    expect(cleared).toMatchObject({ ok: false, error: { code: 'NOT_CONNECTED', message: expect.stringMatching(/connect/) as unknown } });
    await named.dispose();
  });

  it('offers the serial paths it is given (edn web --serial) beside the listed ports, only with hardware allowed', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'edn-assembly-'));
    dirs.push(dataDir);
    const listed = [{ path: '/dev/ttyUSB0', kind: 'serial' as const, label: 'USB serial', likelyStimulator: true }];
    const withPty = createControllerService({ dataDir, allowHardware: true, serialPaths: ['/dev/pts/7', '/dev/ttyUSB0'] }, { listPorts: () => Promise.resolve(listed) });
    const ports = await withPty.listPorts({});
    expect(ports.ok && ports.data.map((p) => [p.path, p.kind])).toEqual([
      ['sim', 'simulator'],
      ['/dev/ttyUSB0', 'serial'],
      ['/dev/pts/7', 'serial'],
    ]);
    await withPty.dispose();
    const simOnly = createControllerService({ dataDir, allowHardware: false, serialPaths: ['/dev/pts/7'] }, { listPorts: () => Promise.resolve(listed) });
    const only = await simOnly.listPorts({});
    expect(only.ok && only.data.map((p) => p.path)).toEqual(['sim']);
    await simOnly.dispose();
  });

  it("runs the host's protocol over a built-in of the same id, and records who ran and acknowledged it", async () => {
    const copy = clinicCopy();
    expect(copy.hash).not.toBe(builtInProtocol('knee-oa-periosteal')!.protocol.hash);
    const h = serviceHarness({ service: { protocols: [copy], clinician: 'JD' } });
    harnesses.push(h);
    await h.must('connect', { path: 'sim' });
    const { template } = await h.must('screeningForm', { protocolId: 'knee-oa-periosteal' });
    const screened = await h.must('submitScreening', { side: 'left', protocolId: 'knee-oa-periosteal', answers: answersFrom(template, 'PT-0042', { bleedingRisk: true }), acknowledgements: ['bleedingRisk'] });
    expect(screened.status).toBe('cleared');
    expect(h.service.snapshot.protocol).toEqual({ id: 'knee-oa-periosteal', name: 'Knee OA, clinic copy', hash: copy.hash });
    // The copy's maximum, not the built-in's 10 mA, bounds the session.
    expect(await h.call('start', { targetMa: 7 })).toMatchObject({ ok: false, error: { code: 'LIMIT' } });

    const journal = h.service.snapshot.journal!;
    const records = readFileSync(journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
    const start = records.find((r) => r.type === 'session-start')!;
    expect(start.data).toMatchObject({
      clinician: 'JD',
      protocol: { id: 'knee-oa-periosteal', hash: copy.hash },
      screening: { acknowledgements: [expect.objectContaining({ id: 'bleedingRisk', by: 'JD' })] },
    });
  });
});

describe('the pure worker below the controller', () => {
  it('asks the system for PURE_WORKER_NICE for the pure process, and survives a refusal', async () => {
    const { lowerPriority } = await import('../../../src/app/priority.js');
    const { PURE_WORKER_NICE } = await import('../../../src/app/worker-protocol.js');
    const calls: [number, number][] = [];
    expect(lowerPriority(4242, (pid, p) => calls.push([pid, p]))).toBe(true);
    expect(calls).toEqual([[4242, PURE_WORKER_NICE]]);
    expect(PURE_WORKER_NICE).toBeGreaterThan(0);
    expect(lowerPriority(undefined, () => calls.push([0, 0]))).toBe(false);
    expect(
      lowerPriority(1, () => {
        throw new Error('EPERM');
      }),
    ).toBe(false);
    expect(calls).toHaveLength(1);
  });
});
