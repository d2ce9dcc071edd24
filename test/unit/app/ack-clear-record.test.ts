/**
 * Issue 13 section 7: acknowledging an alarm (the e-stop's high alarm included, after the session
 * has ended) and clearing a latched stop are each written into the session's journal (which alarm
 * and its cause, who; the record's timestamp says when), and the report's events list both.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readJournal } from '../../../src/session/journal.js';
import { WALL_BASE, answersFrom, serviceHarness, type ServiceHarness } from './service-harness.js';

let h: ServiceHarness | undefined;
afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

/** A knee session on the simulator, running, then e-stopped by the Escape key. */
async function stoppedSession(clinician: string): Promise<ServiceHarness> {
  const x = serviceHarness();
  await x.must('connect', { path: 'sim' });
  await x.must('setSettings', { clinician });
  const { template } = await x.must('screeningForm', { protocolId: 'knee-oa-periosteal' });
  await x.must('submitScreening', { side: 'left', protocolId: 'knee-oa-periosteal', answers: answersFrom(template, 'PT-0042'), acknowledgements: [] });
  await x.must('checkElectrodes', {});
  await x.must('start', { targetMa: 2 });
  await x.until(() => x.service.snapshot.state === 'running', 20_000, 'running');
  await x.must('estop', { source: 'keyboard' });
  return x;
}

describe('alarm acknowledgements and cleared stops are recorded', () => {
  it('the e-stop alarm acknowledged after the stop, then Clear stop: both in the journal, after session-end, and in the report', async () => {
    h = await stoppedSession('JD');
    const journal = h.service.snapshot.journal!;
    const alarm = h.service.snapshot.alarms.find((a) => a.priority === 'high')!;
    expect(alarm.cause).toBe('Emergency stop by the Escape key: all output is off and latched');
    await h.run(1500);
    await h.must('acknowledgeAlarm', { id: alarm.id });
    await h.run(1500);
    await h.must('clear', {});

    const records = readJournal({ path: journal }).records;
    const types = records.map((r) => r.type).filter((t) => ['session-end', 'alarm-ack', 'stop-cleared'].includes(t));
    expect(types).toEqual(['session-end', 'alarm-ack', 'stop-cleared']);
    const ack = records.find((r) => r.type === 'alarm-ack')!;
    const cleared = records.find((r) => r.type === 'stop-cleared')!;
    expect(ack.data).toEqual({ alarmId: alarm.id, by: 'JD', cause: alarm.cause });
    expect(cleared.data).toEqual({ by: 'JD' });
    // When: stamped with the wall clock at the time of each (1.5 s apart on virtual time).
    expect(Date.parse(cleared.ts) - Date.parse(ack.ts)).toBeGreaterThanOrEqual(1500);
    expect(Date.parse(ack.ts)).toBeGreaterThan(WALL_BASE);

    const sessionId = h.service.snapshot.sessionId!;
    const md = await h.must('openReport', { sessionId, format: 'md' });
    expect(md.content).toContain(`Alarm ${alarm.id} acknowledged by JD (Emergency stop by the Escape key: all output is off and latched)`);
    expect(md.content).toContain('Emergency stop cleared by JD (output stays off)');
    const html = await h.must('openReport', { sessionId, format: 'html' });
    expect(html.content).toContain(`Alarm ${alarm.id} acknowledged by JD`);
    expect(html.content).toContain('Emergency stop cleared by JD (output stays off)');
    // Still intact: the records after the end are counted when the journal closes.
    await h.must('newSession', {});
    expect((await h.must('listSessions', {})).find((s) => s.sessionId === sessionId)?.intact).toBe(true);
  }, 60_000);

  it('with no clinician set, the clear is recorded as by "clinician"', async () => {
    h = await stoppedSession('');
    const journal = h.service.snapshot.journal!;
    await h.must('clear', {});
    expect(readJournal({ path: journal }).records.filter((r) => r.type === 'stop-cleared').map((r) => r.data)).toEqual([{ by: 'clinician' }]);
  }, 60_000);
});
