/**
 * Issue 16 §2: alarms that name their cause and stay true, through the UI in Debian's Chromium on
 * the simulator, found by role and accessible name. Each step checks what the screen says AND
 * what the record (journal, report) or the simulated device holds:
 * - an e-stop's alarm names its cause (the Escape key, the button);
 * - after Clear stop nothing says "latched";
 * - two channels over the same limit: the alarm names both channels;
 * - an open circuit on channels 1 and 2 together (the simulator's fault injection): both named,
 *   both journaled and in the report; a device fault after the end record is journaled and listed;
 * - a warning alarm's value follows the output and its comparison is true as displayed;
 * - Escape with nothing on reaches the device and is recorded, with no high alarm to acknowledge
 *   (with no session at all there is no journal to record it in: it is checked at the device only;
 *   at the electrode check, output not yet on, it is in that session's journal).
 *
 * The steps share one page and run in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { readJournal } from '../../src/session/journal.js';
import type { JournalRecord } from '../../src/session/journal-records.js';
import { type AppPage, openApp } from './support/app-page.js';
import type { TestHost } from './support/web-host.js';
import { UI_WAIT_MS, answerScreening, button, clearAndNewSession, nav, outputStatus, useForSession, waitText } from './support/ui.js';

const KNEE = 'Periosteal EDN for knee osteoarthritis';
const DENSE = 'Dense-disperse 2/100 Hz';

let app: AppPage;
let host: TestHost;
let page: Page;

beforeAll(async () => {
  app = await openApp({ context: { viewport: { width: 1280, height: 800 }, reducedMotion: 'reduce' } });
  ({ host, page } = app);
}, 90_000);

afterAll(async () => {
  await app?.close();
}, 60_000);

/** The records of the current (latest) session's journal. */
function journal(): readonly JournalRecord[] {
  const file = host.service.snapshot.journal;
  if (file === undefined) throw new Error('no journal for the latest session');
  return readJournal({ path: file }).records;
}

const highAlarm = (p: Page) => p.getByRole('alert').filter({ hasText: 'High priority alarm' });
const acks = (p: Page) => p.getByRole('button', { name: /^Acknowledge alarm/ });

/** Acknowledge every alarm shown (oldest first), until none is left. */
async function acknowledgeAll(): Promise<void> {
  for (let n = await acks(page).count(); n > 0; n--) {
    await acks(page).first().click();
    await expect.poll(() => acks(page).count(), { timeout: UI_WAIT_MS }).toBe(n - 1);
  }
}

/** The numbers of "X mA/cm²" in an RMS alarm's text, per channel, and its "above T" threshold. */
function rmsFigures(text: string): { threshold: number; byChannel: Map<number, number> } {
  const t = /above ([\d.]+) mA\/cm²/.exec(text);
  if (!t) throw new Error(`no threshold in "${text}"`);
  const byChannel = new Map<number, number>();
  for (const m of text.matchAll(/([\d.]+) mA\/cm² on channel (\d)/g)) byChannel.set(Number(m[2]), Number(m[1]));
  // One channel: "RMS current density 2.004 mA/cm² is above 2 mA/cm² on channel 1".
  const single = /density ([\d.]+) mA\/cm² is above [\d.]+ mA\/cm² on channel (\d)/.exec(text);
  if (single) byChannel.set(Number(single[2]), Number(single[1]));
  return { threshold: Number(t[1]), byChannel };
}

async function startSession(protocol: string, patientRef: string, targetMa?: string): Promise<void> {
  await useForSession(page, protocol);
  await answerScreening(page, { patientRef });
  await button(page, 'Submit screening').click();
  await page.getByRole('heading', { name: 'Electrode check' }).waitFor({ timeout: UI_WAIT_MS });
  await waitText(page.getByRole('table').getByRole('row', { name: /Channel 2/ }), /OK/);
  if (targetMa !== undefined) await page.getByRole('textbox', { name: 'Initial target amplitude' }).fill(targetMa);
  await button(page, 'Start').click();
  await button(page.getByRole('dialog', { name: 'Start output?' }), 'Start output').click();
  await waitText(outputStatus(page), /^OUTPUT ON/);
}

describe('alarms name their cause and stay true (issue 16 §2)', () => {
  it('H5 H17 Escape with output off reaches the device, with no high alarm to acknowledge: with no session at all, and at the electrode check (recorded in its journal)', async () => {
    await button(page, 'Connect').click();
    await waitText(page.locator('.device-status'), /Connected: EDN-SIM/);
    await waitText(outputStatus(page), /^Output off$/);
    let seen = host.device.length;
    await page.keyboard.press('Escape');
    await expect.poll(() => host.device.slice(seen).some((e) => e.event.event === 'estop'), { timeout: UI_WAIT_MS, message: 'the simulator saw ESTOP' }).toBe(true);
    expect(await highAlarm(page).count()).toBe(0);
    expect(await acks(page).count()).toBe(0);
    // The stop is latched and says so (its Clear stop), but there is nothing to acknowledge.
    await button(page, 'Clear stop').click();
    await button(page, 'Clear stop').waitFor({ state: 'detached', timeout: UI_WAIT_MS });

    // A session prepared, output not yet on: the stop is in its journal, still no alarm.
    await useForSession(page, KNEE);
    await answerScreening(page, { patientRef: 'PT-0080' });
    await button(page, 'Submit screening').click();
    await page.getByRole('heading', { name: 'Electrode check' }).waitFor({ timeout: UI_WAIT_MS });
    await waitText(page.getByRole('table').getByRole('row', { name: /Channel 2/ }), /OK/);
    seen = host.device.length;
    await page.keyboard.press('Escape');
    await expect.poll(() => host.device.slice(seen).some((e) => e.event.event === 'estop'), { timeout: UI_WAIT_MS, message: 'the simulator saw ESTOP' }).toBe(true);
    await expect.poll(() => journal().filter((r) => r.type === 'estop').map((r) => r.data), { timeout: UI_WAIT_MS }).toEqual([
      { source: 'keyboard', acked: false },
      { source: 'keyboard', acked: true },
    ]);
    expect(journal().filter((r) => r.type === 'alarm')).toEqual([]);
    expect(await highAlarm(page).count()).toBe(0);
    expect(await acks(page).count()).toBe(0);
    expect(host.device.every((e) => e.event.event !== 'output' || !e.event.on)).toBe(true);
  }, 60_000);

  it('H5 H17 an e-stop\'s alarm names its cause: Escape -> the Escape key, the button -> the Emergency stop button; journaled with that source', async () => {
    await clearAndNewSession(page);
    await nav(page, 'Session');
    await startSession(KNEE, 'PT-0081');
    await page.keyboard.press('Escape');
    await waitText(highAlarm(page), /Emergency stop by the Escape key: all output is off and latched/);
    await waitText(page.locator('.ended'), /emergency stop \(keyboard\)/);
    expect(journal().filter((r) => r.type === 'estop').map((r) => (r.data as { source: string }).source)).toEqual(['keyboard', 'keyboard']);
    await acknowledgeAll();
    await clearAndNewSession(page);

    await nav(page, 'Session');
    await startSession(KNEE, 'PT-0082');
    await button(page, 'Emergency stop').click();
    await waitText(highAlarm(page), /Emergency stop by the Emergency stop button: all output is off and latched/);
    expect(await highAlarm(page).innerText()).not.toMatch(/Escape/);
    await waitText(page.locator('.ended'), /emergency stop \(button\)/);
    expect(journal().filter((r) => r.type === 'estop').map((r) => (r.data as { source: string }).source)).toEqual(['button', 'button']);
  }, 90_000);

  it('H17 after Clear stop no alarm (nor anything on the page) says "latched"; the clear is recorded', async () => {
    await button(page, 'Clear stop').click();
    await page.getByRole('heading', { name: /Emergency stop latched/ }).waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    await waitText(highAlarm(page), /Emergency stop by the Emergency stop button: all output is off \(the stop is cleared\)/);
    expect(await highAlarm(page).innerText()).not.toMatch(/latched|clear the stop/i);
    expect(await page.locator('body').innerText()).not.toMatch(/latched/i);
    await expect.poll(() => journal().filter((r) => r.type === 'stop-cleared').map((r) => r.data), { timeout: UI_WAIT_MS }).toEqual([{ by: 'clinician' }]);
    await acknowledgeAll();
    await button(page, 'New session').click();
    await page.getByRole('heading', { name: 'Choose the protocol' }).waitFor({ timeout: UI_WAIT_MS });
  }, 45_000);

  /** The RMS alarm as it read when it first named both channels (the next step compares with it). */
  let tripped: ReturnType<typeof rmsFigures> | undefined;
  const rms = () => page.getByRole('alert').filter({ hasText: 'RMS current density' });

  it('H17 two channels over the same limit (dense-disperse at 5.0 mA on both): one alarm naming both, each channel journaled', async () => {
    await nav(page, 'Session');
    await startSession(DENSE, 'PT-0083', '5.0');
    await waitText(rms(), /channels 1 and 2/, 30_000);
    tripped = rmsFigures(await rms().first().innerText());
    expect([...tripped.byChannel.keys()].sort()).toEqual([1, 2]);
    expect(await rms().count()).toBe(1);
    const warned = journal().filter((r) => r.type === 'warning').map((r) => r.data as { channel: number; limit: string });
    expect(warned.filter((w) => w.limit === 'rmsDensityWarnMaPerCm2').map((w) => w.channel).sort()).toEqual([1, 2]);
  }, 60_000);

  it('H17 a warning alarm\'s values follow the output (not frozen at the trip value) and are above the limit as displayed', async () => {
    const first = tripped;
    if (!first) throw new Error('the previous step did not see the alarm');
    for (const v of first.byChannel.values()) expect(v).toBeGreaterThan(first.threshold);
    // Both channels reach 5.0 mA (0.5 mA/s ramp).
    for (const ch of [1, 2]) await waitText(page.getByRole('article', { name: new RegExp(`^Channel ${ch} · `) }).locator('.amp-big'), /^5\.0 mA$/, 30_000);
    // The value follows the output: at 5.0 mA it is well above what it was when the alarm tripped.
    await expect
      .poll(async () => {
        const now = rmsFigures(await rms().first().innerText());
        return [1, 2].every((ch) => (now.byChannel.get(ch) ?? 0) > (first.byChannel.get(ch) ?? Infinity) + 0.5);
      }, { timeout: UI_WAIT_MS, message: `RMS values should rise with the output from ${JSON.stringify([...first.byChannel])}` })
      .toBe(true);
    const shown = rmsFigures(await rms().first().innerText());
    expect([...shown.byChannel.keys()].sort()).toEqual([1, 2]);
    // True at its displayed precision: every shown value is above the shown threshold.
    for (const v of shown.byChannel.values()) expect(v).toBeGreaterThan(shown.threshold);
    expect(await rms().count()).toBe(1);
    await button(page, 'Emergency stop').click();
    await page.getByRole('heading', { name: 'Emergency stop latched: all output is off' }).waitFor({ timeout: UI_WAIT_MS });
    await acknowledgeAll();
    await clearAndNewSession(page);
  }, 90_000);

  it('H13 H30 open circuit on channels 1 and 2 together: both named, both faults journaled and in the report; a fault after the end record is journaled and listed', async () => {
    await nav(page, 'Session');
    await startSession(KNEE, 'PT-0084');
    const sim = host.simulator();
    if (!sim) throw new Error('no simulator behind the connection');
    sim.setLoad(1, 'OPEN');
    sim.setLoad(2, 'OPEN');
    // The abort names its cause (the first fault); the alarms below name each channel's own.
    await waitText(page.locator('.ended'), /Session aborted: Channel 1 open circuit/);
    await waitText(outputStatus(page), /^Output off$/);
    const alarms = page.getByRole('alert');
    await expect.poll(async () => (await alarms.allInnerTexts()).join('\n'), { timeout: UI_WAIT_MS }).toMatch(/Channel 1 open circuit/);
    await expect.poll(async () => (await alarms.allInnerTexts()).join('\n'), { timeout: UI_WAIT_MS }).toMatch(/Channel 2 open circuit/);
    await expect.poll(() => journal().filter((r) => r.type === 'fault').map((r) => r.data), { timeout: UI_WAIT_MS }).toEqual([
      expect.objectContaining({ code: 'OPEN', channel: 1 }),
      expect.objectContaining({ code: 'OPEN', channel: 2 }),
    ]);
    const end = journal().findIndex((r) => r.type === 'session-end');
    expect(end).toBeGreaterThan(-1);

    // After the end record: a device fault (internal, every channel) is journaled and alarmed.
    sim.internalFault();
    await expect.poll(() => journal().filter((r) => r.type === 'fault').length, { timeout: UI_WAIT_MS }).toBe(3);
    const records = journal();
    expect(records.findLastIndex((r) => r.type === 'fault')).toBeGreaterThan(records.findIndex((r) => r.type === 'session-end'));
    expect(records.filter((r) => r.type === 'fault').at(-1)?.data).toMatchObject({ code: 'INTERNAL' });
    await expect.poll(async () => (await alarms.allInnerTexts()).join('\n'), { timeout: UI_WAIT_MS }).toMatch(/Device internal fault/);

    await button(page.locator('.ended'), 'Open report').click();
    const frame = page.frameLocator('iframe.report-frame');
    await frame.getByText('PT-0084').first().waitFor({ timeout: UI_WAIT_MS });
    const report = await frame.locator('body').innerText();
    expect(report).toMatch(/Fault OPEN, channel 1/);
    expect(report).toMatch(/Fault OPEN, channel 2/);
    expect(report).toMatch(/Fault INTERNAL/);
  }, 90_000);

  it('raised no page error or contract mismatch', () => {
    expect(app.problems).toEqual([]);
    expect(host.logs).toEqual([]);
  });
});
