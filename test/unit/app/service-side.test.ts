/**
 * Issue 16 §7, the treated side at the service boundary (every UI and `edn run` go through it):
 * asked for a protocol with "affected" channels before the electrode check, refused when missing
 * or not one the protocol can treat, and carried into the cards, the journal and its report.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { builtInProtocol } from '../../../src/domain/protocols/library/index.js';
import { readJournal } from '../../../src/session/journal.js';
import { answersFrom, serviceHarness, type ServiceHarness } from './service-harness.js';

let open: ServiceHarness[] = [];
function make(): ServiceHarness {
  const h = serviceHarness();
  open.push(h);
  return h;
}
afterEach(async () => {
  for (const h of open) {
    expect(h.invalidOutputs).toEqual([]);
    expect(h.invalidEvents).toEqual([]);
    await h.dispose();
  }
  open = [];
});

const KNEE = 'knee-oa-periosteal';
type Channel = { channel: number; region: string; side: string; sites: unknown[] };
const kneeFile = () => structuredClone(builtInProtocol(KNEE)!.source) as Record<string, unknown> & { channels: Channel[] };

/** The session-start record of the open session's journal. */
function sessionStart(h: ServiceHarness): Record<string, unknown> {
  const file = h.service.snapshot.journal;
  expect(typeof file).toBe('string');
  const read = readJournal({ path: file! });
  const start = read.records.find((r) => r.type === 'session-start');
  return start!.data;
}

function journals(h: ServiceHarness): string[] {
  try {
    return readdirSync(path.join(h.dataDir, 'sessions'));
  } catch {
    return [];
  }
}

describe('H32 the treated side at submitScreening', () => {
  it('offers left or right for a built-in; without a side: SIDE_REQUIRED naming the field, nothing prepared, no journal', async () => {
    const h = make();
    const form = await h.must('screeningForm', { protocolId: KNEE });
    expect(form.sideChoices).toEqual(['left', 'right']);
    await h.must('connect', { path: 'sim' });
    const answers = answersFrom(form.template, 'PT-0042');
    const refused = await h.call('submitScreening', { protocolId: KNEE, answers, acknowledgements: [] });
    expect(refused).toEqual({
      ok: false,
      error: {
        code: 'SIDE_REQUIRED',
        message: 'protocol "knee-oa-periosteal" treats the affected side: choose the treated side (left or right) before the electrode check',
        details: [{ path: 'side', message: expect.stringMatching(/^protocol "knee-oa-periosteal" treats the affected side/) as unknown }],
      },
    });
    expect(h.service.snapshot.state).toBe('ready');
    expect(journals(h)).toEqual([]);

    const bilateral = await h.call('submitScreening', { protocolId: KNEE, answers, acknowledgements: [], side: 'bilateral' });
    expect(bilateral).toMatchObject({ ok: false, error: { code: 'SIDE_NOT_ALLOWED', message: expect.stringMatching(/does not allow bilateral treatment .*choose left or right$/) as unknown } });
    expect(h.service.snapshot.state).toBe('ready');
    expect(journals(h)).toEqual([]);
  });

  it('"right": every channel on the right knee on the cards, and "side":"right" in the journal (the protocol record keeps "affected")', async () => {
    const h = make();
    const { template } = await h.must('screeningForm', { protocolId: KNEE });
    await h.must('connect', { path: 'sim' });
    const screened = await h.must('submitScreening', { protocolId: KNEE, answers: answersFrom(template, 'PT-0042'), acknowledgements: [], side: 'right' });
    expect(screened.status).toBe('cleared');
    expect(h.service.snapshot.channels.map((c) => [c.channel, c.region, c.side])).toEqual([
      [1, 'knee', 'right'],
      [2, 'knee', 'right'],
    ]);
    const start = sessionStart(h);
    expect(start['side']).toBe('right');
    expect((start['protocol'] as { channels: Channel[] }).channels.map((c) => c.side)).toEqual(['affected', 'affected']);
    const report = await h.must('openReport', { sessionId: h.service.snapshot.sessionId!, format: 'md' });
    expect(report.content).toContain('- **Treated side:** right');
  });

  it('a protocol whose sides are fixed offers no choice and refuses one (SIDE_NOT_ALLOWED); it runs without', async () => {
    const h = make();
    const file = kneeFile();
    file.channels = file.channels.map((c) => ({ ...c, side: 'left' }));
    await h.must('saveProtocol', { file: { ...file, id: 'left-knee-fixed', name: 'Left knee, fixed' } });
    const form = await h.must('screeningForm', { protocolId: 'left-knee-fixed' });
    expect(form.sideChoices).toEqual([]);
    await h.must('connect', { path: 'sim' });
    const answers = answersFrom(form.template, 'PT-0042');
    const refused = await h.call('submitScreening', { protocolId: 'left-knee-fixed', answers, acknowledgements: [], side: 'right' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'SIDE_NOT_ALLOWED', message: expect.stringMatching(/has no channel on the affected side \(its sides are fixed\)/) as unknown } });
    expect(journals(h)).toEqual([]);
    expect((await h.must('submitScreening', { protocolId: 'left-knee-fixed', answers, acknowledgements: [] })).status).toBe('cleared');
    expect(sessionStart(h)['side']).toBeUndefined();
  });

  it('bilateral where the protocol allows it: the first half of the affected channels on the left, the second half on the right', async () => {
    const h = make();
    const file = kneeFile();
    const first = file.channels[0]!;
    file.channels = [first, { ...structuredClone(first), channel: 2 }];
    await h.must('saveProtocol', { file: { ...file, id: 'knee-both', name: 'Both knees', bilateral: true } });
    const form = await h.must('screeningForm', { protocolId: 'knee-both' });
    expect(form.sideChoices).toEqual(['left', 'right', 'bilateral']);
    await h.must('connect', { path: 'sim' });
    const screened = await h.must('submitScreening', { protocolId: 'knee-both', answers: answersFrom(form.template, 'PT-0042'), acknowledgements: [], side: 'bilateral' });
    expect(screened.status).toBe('cleared');
    expect(h.service.snapshot.channels.map((c) => c.side)).toEqual(['left', 'right']);
    expect(sessionStart(h)['side']).toBe('bilateral');
    const html = await h.must('openReport', { sessionId: h.service.snapshot.sessionId!, format: 'html' });
    expect(html.content).toContain('<dt>Treated side</dt><dd>both sides (bilateral)</dd>');
    expect(readFileSync(h.service.snapshot.journal!, 'utf8')).toContain('"side":"bilateral"');
  });
});
