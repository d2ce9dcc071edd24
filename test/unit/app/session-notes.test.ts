/**
 * Issue 13 section 7: a note added in one window appears in every other. The service pushes each
 * journaled note to every UI (`note` event, checked against the contract by the harness) and
 * lists the session's notes for a window that opens or reloads during it; a refused note is
 * neither pushed nor listed, and a new session starts with none.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readJournal } from '../../../src/session/journal.js';
import { answersFrom, serviceHarness, type ServiceHarness } from './service-harness.js';

let h: ServiceHarness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

async function running(): Promise<ServiceHarness> {
  const x = serviceHarness();
  await x.must('connect', { path: 'sim' });
  const { template } = await x.must('screeningForm', { protocolId: 'knee-oa-periosteal' });
  await x.must('submitScreening', { side: 'left', protocolId: 'knee-oa-periosteal', answers: answersFrom(template, 'PT-0077'), acknowledgements: [] });
  await x.must('checkElectrodes', {});
  await x.must('start', { targetMa: 1 });
  await x.until(() => x.service.snapshot.state === 'running', 20_000, 'running');
  return x;
}

describe('session notes reach every UI', () => {
  it('each journaled note is pushed as a `note` event and listed, numbered, with its session time; a refused one is neither', async () => {
    h = await running();
    const sessionId = h.service.snapshot.sessionId!;
    expect(await h.must('listNotes', {})).toEqual([]);
    await h.run(3000);
    const at1 = h.service.snapshot.elapsedS;
    await h.must('addNote', { text: '  strong but comfortable  ' });
    await h.run(2000);
    const refused = await h.call('addNote', { text: 'Mrs Jones tolerated it well' });
    expect(refused.ok).toBe(false);
    const at2 = h.service.snapshot.elapsedS;
    await h.must('addNote', { text: 'needle 2 repositioned' });

    const pushed = h.events.filter((e) => e.event === 'note').map((e) => e.data);
    expect(pushed).toEqual([
      { sessionId, seq: 1, atS: at1, text: 'strong but comfortable' },
      { sessionId, seq: 2, atS: at2, text: 'needle 2 repositioned' },
    ]);
    expect(at2).toBeGreaterThan(at1);
    expect(await h.must('listNotes', {})).toEqual(pushed);
    expect(h.invalidEvents).toEqual([]);
    // The journal has the same notes (it is the record; the list is its view).
    const journaled = readJournal({ path: h.service.snapshot.journal! }).records.filter((r) => r.type === 'note').map((r) => r.data.text);
    expect(journaled).toEqual(['strong but comfortable', 'needle 2 repositioned']);

    // Still listed after the session ends (the ended screen shows them); a new session has none.
    await h.must('stop', {});
    await h.until(() => h!.service.snapshot.state === 'stopped', 20_000, 'stopped');
    expect((await h.must('listNotes', {})).map((n) => n.seq)).toEqual([1, 2]);
    await h.must('newSession', {});
    expect(await h.must('listNotes', {})).toEqual([]);
  }, 60_000);
});
