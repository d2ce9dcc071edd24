// Privacy where data enters the app (issue 9 item 11): the clinic's patient reference rule in the
// settings, identifying notes refused before they reach the journal, unknown screening fields
// dropped (with a warning) before they reach it.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readSettingsFile } from '../../../src/app/settings.js';
import { answersFrom, serviceHarness, type ServiceHarness } from './service-harness.js';

const open: ServiceHarness[] = [];
function make(...args: Parameters<typeof serviceHarness>): ServiceHarness {
  const h = serviceHarness(...args);
  open.push(h);
  return h;
}
afterEach(async () => {
  for (const h of open.splice(0)) await h.dispose();
});

const KNEE = 'knee-oa-periosteal';

function journalLines(h: ServiceHarness): { type: string; data: Record<string, unknown> }[] {
  const dir = path.join(h.dataDir, 'sessions');
  const [file] = readdirSync(dir);
  return readFileSync(path.join(dir, file!), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
}

describe('patient references', () => {
  it('refuses the references of the issue by default, naming the field', async () => {
    const h = make();
    const { template } = await h.must('screeningForm', { protocolId: KNEE });
    for (const ref of ['JohnSmith1', 'Smith-1955-03-12', 'MaryJones-DOB19800101', 'tel-07700900123']) {
      const r = await h.call('submitScreening', { side: 'left', protocolId: KNEE, answers: answersFrom(template, ref), acknowledgements: [] });
      expect(r, ref).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', details: [{ path: 'patientRef' }] } });
    }
  });

  it('follows the clinic rule set in the settings (and refuses an unusable one, naming why)', async () => {
    const h = make();
    const bad = await h.call('setSettings', { patientRef: { pattern: '^[A-Za-z]+[0-9]+$', example: 'abc1' } });
    expect(bad).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', details: [{ path: 'patientRef', message: expect.stringContaining('looks like a name') as unknown }] } });
    expect(await h.must('setSettings', { patientRef: { pattern: '^KNEE-[0-9]{4}$', example: 'KNEE-0042' } })).toMatchObject({ patientRef: { pattern: '^KNEE-[0-9]{4}$' } });
    const { template } = await h.must('screeningForm', { protocolId: KNEE });
    const refused = await h.call('submitScreening', { side: 'left', protocolId: KNEE, answers: answersFrom(template, 'PT-0042'), acknowledgements: [] });
    expect(refused).toMatchObject({ ok: false, error: { details: [{ path: 'patientRef', message: expect.stringContaining('such as "KNEE-0042"') as unknown }] } });
    // The rule is kept in settings.json, where `edn run --data-dir` finds it too.
    expect(readSettingsFile(h.dataDir).settings.patientRef).toEqual({ pattern: '^KNEE-[0-9]{4}$', example: 'KNEE-0042' });
    expect(await h.must('setSettings', { patientRef: null })).not.toHaveProperty('patientRef');
  });

  it('reads a settings file whose rule cannot be used as invalid (the defaults apply)', () => {
    const h = make();
    writeFileSync(path.join(h.dataDir, 'settings.json'), JSON.stringify({ clinician: '', usbIds: [], patientRef: { pattern: '^(a+)+1$', example: 'aa1' } }));
    const read = readSettingsFile(h.dataDir);
    expect(read.problem).toMatch(/patientRef: .*repeats a group that itself repeats/);
    expect(read.settings).not.toHaveProperty('patientRef');
  });
});

describe('what reaches the journal', () => {
  async function cleared(h: ServiceHarness, extra: Record<string, unknown> = {}) {
    await h.must('connect', { path: 'sim' });
    const { template } = await h.must('screeningForm', { protocolId: KNEE });
    const answers = { ...(answersFrom(template, 'PT-0042') as Record<string, unknown>), ...extra };
    return h.must('submitScreening', { side: 'left', protocolId: KNEE, answers, acknowledgements: [] });
  }

  it('drops unknown screening fields with a warning, and never records $schema', async () => {
    const h = make();
    const r = await cleared(h, { $schema: 'x'.repeat(200_000), patientName: 'John Smith' });
    expect(r.status).toBe('cleared');
    expect(r.warnings).toEqual([{ path: 'patientName', message: 'unknown field "patientName" was dropped: it is not part of edn-screening/1 and is not recorded' }]);
    const start = journalLines(h).find((l) => l.type === 'session-start')!;
    const text = JSON.stringify(start);
    expect(text).not.toContain('John Smith');
    expect(text).not.toContain('xxxxxxxxxx');
    expect(text.length).toBeLessThan(20_000);
  });

  it('refuses a note with a phone number or a name and records nothing of it; a clinical note is recorded', async () => {
    const h = make();
    await cleared(h);
    const phone = await h.call('addNote', { text: 'daughter: 07700 900123' });
    expect(phone).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', message: expect.stringContaining('a phone number, "07700 900123" at character 11') as unknown } });
    const name = await h.call('addNote', { text: 'Mrs Jones tolerated it well' });
    expect(name).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', message: expect.stringContaining('a name, "Mrs Jones"') as unknown } });
    expect(await h.must('addNote', { text: 'strong but comfortable at 1.5 mA' })).toBeNull();
    const notes = journalLines(h).filter((l) => l.type === 'note').map((l) => l.data.text);
    expect(notes).toEqual(['strong but comfortable at 1.5 mA']);
  });
});
