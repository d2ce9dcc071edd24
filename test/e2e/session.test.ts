/**
 * A whole session through the UI, in Debian's Chromium against the browser host (src/web) on the
 * simulator: connect, author a short protocol in the editor, screen (a pacemaker blocks; fixed,
 * a relative finding needs its acknowledgement), check electrodes, start (confirmed), titrate,
 * pause and resume, emergency stop by the button and by Escape, clear, complete a session in real
 * time, and open, view and export its report. Every control is found by its role and accessible
 * name; every wait is for a specific UI state.
 *
 * The steps share one page and run in order: each starts where the previous one left the UI.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { type AppPage, openApp } from './support/app-page.js';
import type { TestHost } from './support/web-host.js';
import { auditControls } from './support/audit.js';
import { UI_WAIT_MS, answer, answerScreening, button, clearAndNewSession, nav, outputStatus, screenAndStart, screenshot, TITRATE, useForSession, waitText } from './support/ui.js';

const KNEE = 'Periosteal EDN for knee osteoarthritis';
const SHORT = 'Knee OA short rehearsal';
const SHORT_ID = 'knee-oa-short';

let app: AppPage;
let host: TestHost;
let page: Page;
/** Page errors, console errors and CSP violations: none is expected. */
let problems: string[] = [];

beforeAll(async () => {
  app = await openApp({ context: { viewport: { width: 1440, height: 1000 }, acceptDownloads: true, reducedMotion: 'no-preference' } });
  ({ host, page } = app);
  problems = app.problems;
}, 90_000);

afterAll(async () => {
  await app?.close();
}, 60_000);

describe('a whole session through the UI', () => {
  it('lists the simulator first (no hardware here), connects, and shows the identity and limits with units', async () => {
    const ports = page.getByRole('group', { name: 'Port' }).getByRole('radio');
    await ports.first().waitFor({ timeout: UI_WAIT_MS });
    expect(await page.locator('.port-list label').first().textContent()).toMatch(/Simulated stimulator/);
    expect(await ports.first().isChecked()).toBe(true);
    await button(page, 'Connect').click();
    await waitText(page.locator('.device-status'), /Connected: EDN-SIM/);
    for (const text of ['1–150 Hz', '50–600 µs', '0–20 mA', '1000 ms']) await page.getByText(text, { exact: true }).waitFor();
    await waitText(outputStatus(page), /^Output off$/);
    // The emergency stop is in the header, the same place on every screen.
    expect(await button(page, 'Emergency stop').getAttribute('aria-keyshortcuts')).toBe('Escape');
    await screenshot(page, 'device');
    expect(await auditControls(page)).toEqual([]);
  }, 30_000);

  it('edits a copy of the knee protocol as a form: validation as you type, figures, preview; saves, exports and imports it', async () => {
    await nav(page, 'Protocols');
    const knee = page.getByRole('article', { name: KNEE });
    await knee.getByText('Built-in').waitFor({ timeout: UI_WAIT_MS });
    await knee.getByText(/Sources: 2 \(4 verified, 12 unverified values\)/).click();
    // Each value in words with its unit and status, never a field path.
    await knee.getByText(/^Frequency 2 Hz, pulse width 250 µs per phase, duration 20 min, .*: defaults you confirm; not verified against DUNNING2018KNEE\.$/).waitFor();
    await knee.getByText('Indication: verified against DUNNING2018KNEE.', { exact: true }).waitFor();
    await knee.getByText(/^Planned sessions 10, course length 6 weeks, schedule as the source words it “1-2 sessions a week for 6 weeks, up to 10 sessions”: verified against NCT05365061\.$/).waitFor();
    expect(await knee.locator('details.sources').innerText()).not.toMatch(/phases\[|frequencyHz|pulseWidthUs|durationMin/);
    await button(knee, `Duplicate to customise: ${KNEE}`).click();
    await page.getByRole('heading', { name: `Protocol editor: ${KNEE} (customised)` }).waitFor({ timeout: UI_WAIT_MS });

    await page.getByRole('textbox', { name: 'Id', exact: true }).fill(SHORT_ID);
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill(SHORT);
    const maxMa = page.getByRole('textbox', { name: 'Maximum amplitude', exact: true });
    // Out of range: the reason in words beside the field, the field marked invalid.
    await maxMa.fill('25');
    const ampError = page.getByText('25 mA is above the 20 mA ceiling for needle electrodes');
    await ampError.first().waitFor({ timeout: UI_WAIT_MS });
    expect(await maxMa.getAttribute('aria-invalid')).toBe('true');
    await waitText(page.locator('.validity'), /One problem to fix before saving/);
    await page.getByRole('button', { name: 'Phase 1 › Maximum amplitude' }).waitFor();
    // Steppers step within the allowed range shown beside the field.
    await maxMa.fill('10');
    await button(page, 'Increase maximum amplitude').click();
    expect(await maxMa.inputValue()).toBe('10.5');
    await button(page, 'Decrease maximum amplitude').click();
    expect(await maxMa.inputValue()).toBe('10');
    await page.getByText('Allowed: above 0, up to 20 mA').waitFor();
    await page.getByRole('textbox', { name: 'Duration', exact: true }).fill('0.25');
    await waitText(page.locator('.validity'), /Valid: ready to save/);
    // The editor says how the values read to the clinician, as they change.
    await waitText(page.getByRole('group', { name: 'How the values read to the clinician' }), /duration 0\.25 min, .*: defaults you confirm; not verified against DUNNING2018KNEE/);
    expect(await maxMa.getAttribute('aria-invalid')).toBeNull();
    // The computed figures against their limits, and the waveform preview (uPlot).
    const shannon = page.getByRole('row', { name: /Shannon k/ });
    await waitText(shannon, /Within limit \(< 1\.85, warning above 1\.5\)/);
    await page.getByRole('row', { name: /^Charge per phase/ }).getByText('2.5 µC').waitFor();
    await page.getByRole('row', { name: /RMS current density/ }).waitFor();
    await waitText(page.locator('.pulse-preview figcaption'), /One symmetric biphasic pulse at 10 mA: 250 µs per phase, 2\.5 µC each way/);
    expect(await page.locator('.pulse-preview canvas').count()).toBeGreaterThan(0);
    await page.getByRole('combobox', { name: 'Waveform' }).selectOption('biphasic-asymmetric');
    await waitText(page.locator('.pulse-preview figcaption'), /asymmetric biphasic pulse/);
    await page.getByRole('combobox', { name: 'Waveform' }).selectOption('biphasic-symmetric');
    await waitText(page.locator('.validity'), /Valid: ready to save/);
    // Sites are a choice from the region's list; free text is only a note beside one, and a note
    // naming a forbidden area is refused with the reason. A knee channel has no midline side.
    const channel1 = page.getByRole('group', { name: /^Channel entry 1/ });
    expect(await channel1.getByRole('combobox', { name: 'Side' }).locator('option').allTextContents()).not.toContain('midline');
    expect(await channel1.getByRole('combobox', { name: 'Site 1' }).locator('option').allTextContents()).toContain('medial joint line');
    const note = channel1.getByRole('textbox', { name: 'Note beside site 1 (optional)' });
    await note.fill('angled towards the chest');
    await channel1.getByText(/"angled towards the chest" names the chest or heart/).waitFor({ timeout: UI_WAIT_MS });
    await waitText(page.locator('.validity'), /One problem to fix before saving/);
    await note.fill('');
    await waitText(page.locator('.validity'), /Valid: ready to save/);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.getByRole('group', { name: /^Phase 1/ }).evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await screenshot(page, 'protocol-editor', { readme: 'protocol-editor.png' });
    expect(await auditControls(page)).toEqual([]);

    await button(page, 'Save protocol').click();
    await waitText(page.locator('.notice'), new RegExp(`Saved “${SHORT}” as ${SHORT_ID}`));
    await waitText(page.locator('.validity'), /Valid and saved/);

    const [download] = await Promise.all([page.waitForEvent('download'), button(page, 'Export file').click()]);
    expect(download.suggestedFilename()).toBe(`${SHORT_ID}.edn-protocol.json`);
    const exported = JSON.parse(readFileSync(await download.path(), 'utf8')) as { id: string; phases: { durationMin: number }[] };
    expect(exported.id).toBe(SHORT_ID);
    expect(exported.phases[0]!.durationMin).toBe(0.25);

    await button(page, 'Close editor').click();
    const mine = page.getByRole('article', { name: SHORT });
    await mine.getByText('Your protocol').waitFor({ timeout: UI_WAIT_MS });
    await mine.getByText(/^0\.25 min/).waitFor();

    // Importing a file opens it in the editor, unsaved.
    await page.locator('#import-file').setInputFiles({ name: 'from-a-colleague.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ ...exported, id: 'knee-oa-imported', name: 'Imported knee' })) });
    await page.getByText(/Imported from from-a-colleague\.json: not saved yet/).waitFor({ timeout: UI_WAIT_MS });
    await waitText(page.locator('.validity'), /Valid: ready to save/);
    await button(page, 'Close editor').click();
    await page.getByRole('article', { name: 'Imported knee' }).waitFor({ state: 'detached' });
  }, 60_000);

  it('H32 asks the treated side before the electrode check: nothing chosen, the screening is not submitted; "Right" names the right knee', async () => {
    await useForSession(page, KNEE);
    const side = page.getByRole('group', { name: 'Treated side', exact: true });
    await side.waitFor({ timeout: UI_WAIT_MS });
    // Nothing is preset: a side is never assumed.
    expect(await side.getByRole('radio').evaluateAll((radios) => radios.map((r) => [(r as HTMLInputElement).value, (r as HTMLInputElement).checked]))).toEqual([
      ['left', false],
      ['right', false],
    ]);
    await button(page, 'Submit screening').click();
    await waitText(page.locator('.screening-result'), /^Not submitted: choose the treated side \(left, right\) before the electrode check$/);
    await side.getByText(/choose the treated side/).waitFor();
    await side.getByRole('radio', { name: 'Right', exact: true }).check();
    await page.getByRole('heading', { name: 'At the right knee' }).waitFor();
    // Refused before anything reached the controller: no session was prepared.
    await waitText(page.locator('header .state-pill'), /^Session: Ready$/);
  }, 45_000);

  it('screens for the knee protocol: a pacemaker blocks with the reason; fixed, a relative finding needs its acknowledgement', async () => {
    await answerScreening(page, { patientRef: 'PT-0042', clinician: 'AB', yes: [/implanted electronic device/], side: 'Right' });
    await button(page, 'Submit screening').click();
    const result = page.locator('.screening-result');
    await waitText(result, /Session blocked: an absolute contraindication\. Stimulation must not be given\./);
    await waitText(result, /stimulation currents can interfere with implanted or wearable electronic devices/);
    await page.getByRole('group', { name: /implanted electronic device/ }).getByText(/Blocks the session/).waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'screening-blocked');
    expect(await auditControls(page)).toEqual([]);
    await waitText(outputStatus(page), /^Output off$/);

    await answer(page, /implanted electronic device/, 'No');
    await answer(page, /bleeding disorder/, 'Yes');
    await button(page, 'Submit screening').click();
    await waitText(result, /A relative contraindication needs your explicit acknowledgement/);
    await page.getByRole('checkbox', { name: /I acknowledge: relative contraindication: needling carries a bleeding risk/ }).check();
    await button(page, 'Submit screening').click();
    await page.getByRole('heading', { name: 'Electrode check' }).waitFor({ timeout: UI_WAIT_MS });
  }, 45_000);

  it('checks the electrodes per channel, and starts output only after the confirmation (the e-stop stays reachable)', async () => {
    const table = page.getByRole('table');
    await waitText(table.getByRole('row', { name: /Channel 1/ }), /right knee.*kΩ.*OK/);
    await waitText(table.getByRole('row', { name: /Channel 2/ }), /OK/);
    expect(await page.getByRole('textbox', { name: 'Initial target amplitude' }).inputValue()).toBe('1.0');
    await page.getByText('Allowed: 0–10 mA').waitFor();

    await button(page, 'Start').click();
    const dialog = page.getByRole('dialog', { name: 'Start output?' });
    await dialog.waitFor();
    await dialog.getByText(/ramping from 0 to 1\.0 mA at 0\.5 mA\/s/).waitFor();
    await waitText(dialog, /channel 1 \(right knee\) and channel 2 \(right knee\)/);
    // What the values rest on, in words: the defaults the clinician confirms before output.
    await dialog.getByText(/^Frequency 2 Hz, pulse width 250 µs per phase, duration 20 min, .*: defaults you confirm; not verified against DUNNING2018KNEE\.$/).waitFor();
    expect(await dialog.innerText()).not.toMatch(/phases\[|frequencyHz|pulseWidthUs|durationMin/);
    // Not behind the dialog: the emergency stop is not inert and is the topmost element at its centre.
    const estopReachable = await button(page, 'Emergency stop').evaluate((el) => {
      const r = el.getBoundingClientRect();
      return el.closest('[inert]') === null && el.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2));
    });
    expect(estopReachable).toBe(true);
    await button(dialog, 'Cancel').click();
    await dialog.waitFor({ state: 'detached' });
    await waitText(outputStatus(page), /^Output off$/);

    await button(page, 'Start').click();
    await button(page.getByRole('dialog', { name: 'Start output?' }), 'Start output').click();
    await waitText(outputStatus(page), /^OUTPUT ON \d+\.\d mA/);
    await waitText(page.getByRole('article', { name: /Channel 1/ }).locator('.output-badge'), /^OUTPUT ON \d+\.\d mA$/);
  }, 30_000);

  it('H29 titrates in 0.1 and 0.5 mA steps (all channels or one), the dose line naming every target and each refused channel; pauses and resumes', async () => {
    const ch1 = page.getByRole('article', { name: /Channel 1 · right knee/ });
    const ch2 = page.getByRole('article', { name: /Channel 2 · right knee/ });
    const target1 = ch1.locator('.amp-target');
    const target2 = ch2.locator('.amp-target');
    await waitText(target1, /^1\.0 mA$/);
    await button(page, TITRATE.up).click();
    await waitText(target1, /^1\.1 mA$/);
    await button(page, TITRATE.upBig).click();
    await waitText(target1, /^1\.6 mA$/);
    await button(page, TITRATE.down).click();
    await waitText(target1, /^1\.5 mA$/);
    await button(page, TITRATE.downBig).click();
    await waitText(target1, /^1\.0 mA$/);
    await waitText(target2, /^1\.0 mA$/);
    await page.getByRole('radio', { name: 'Channel 2', exact: true }).check();
    await button(page, TITRATE.upBig).click();
    await waitText(target2, /^1\.5 mA$/);
    expect(await target1.textContent()).toBe('1.0 mA');
    await page.getByRole('radio', { name: 'All channels' }).check();
    // H29: targets that differ are both on the dose line, not the first channel's.
    const amplitude = page.getByRole('region', { name: 'Amplitude' });
    await amplitude.getByText('Targets 1.0 / 1.5 mA on channels 1 / 2 · maximum 10.0 mA').waitFor({ timeout: UI_WAIT_MS });
    // A step one channel cannot take: which channel and why, in words, once, in a polite status.
    await button(page, TITRATE.downBig).click();
    await waitText(target1, /^0\.5 mA$/);
    await button(page, TITRATE.downBig).click();
    await waitText(target1, /^0\.0 mA$/);
    await button(page, TITRATE.downBig).click();
    await waitText(target2, /^0\.0 mA$/);
    const refused = amplitude.getByRole('status').filter({ hasText: 'not changed' });
    await waitText(refused, /^Channel 1 not changed: channel 1 is already at 0 mA\.$/);
    expect(await refused.getAttribute('aria-live')).toBe('polite');
    expect(await refused.count()).toBe(1);
    await button(page, TITRATE.upBig).click();
    await button(page, TITRATE.upBig).click();
    await waitText(target1, /^1\.0 mA$/);
    await waitText(target2, /^1\.0 mA$/);
    expect(await amplitude.getByText(/not changed/).count()).toBe(0);
    await page.getByRole('radio', { name: 'Channel 2', exact: true }).check();
    await button(page, TITRATE.upBig).click();
    await waitText(target2, /^1\.5 mA$/);
    await page.getByRole('radio', { name: 'All channels' }).check();
    await button(page, TITRATE.upBig).click();
    await waitText(target1, /^1\.5 mA$/);
    await amplitude.getByText('Targets 1.5 / 2.0 mA on channels 1 / 2 · maximum 10.0 mA').waitFor({ timeout: UI_WAIT_MS });
    // From the keyboard: Enter on a focused titration button acts once.
    await button(page, TITRATE.up).focus();
    await page.keyboard.press('Enter');
    await waitText(target1, /^1\.6 mA$/);
    await button(page, TITRATE.down).focus();
    await page.keyboard.press('Enter');
    await waitText(target1, /^1\.5 mA$/);
    // Measured follows the target (slew-limited), shown in large type and in the header.
    await waitText(ch1.locator('.amp-big'), /^1\.5 mA$/);
    await waitText(outputStatus(page), /^OUTPUT ON 2\.0 mA/);
    await waitText(page.locator('.run-state'), /^Running$/);
    await page.locator('.live-chart canvas').first().waitFor();
    await page.evaluate(() => {
      (document.activeElement as HTMLElement | null)?.blur();
      window.scrollTo(0, 0);
    });
    await screenshot(page, 'session-running', { readme: 'session.png', fullPage: true });
    expect(await auditControls(page)).toEqual([]);

    await button(page, 'Pause').click();
    await waitText(page.locator('.run-state'), /^Paused$/);
    await waitText(outputStatus(page), /^Output off$/);
    await waitText(ch1.locator('.output-badge'), /^Output off$/);
    await page.getByText(/Paused: output off\./).waitFor();
    expect(await button(page, TITRATE.up).isDisabled()).toBe(true);
    await button(page, 'Resume').click();
    await waitText(outputStatus(page), /^OUTPUT ON/);
    await waitText(page.locator('.run-state'), /^Running$|^Ramping up to the target$/);

    await page.getByRole('textbox', { name: 'Note for the session record' }).fill('Strong but comfortable at 1.5 mA');
    await button(page, 'Add note').click();
    await waitText(page.locator('.notes-list'), /Strong but comfortable at 1\.5 mA/);
  }, 45_000);

  it('the Emergency stop button latches: says so and what clears it; the alarm flashes (not under reduced motion) until acknowledged', async () => {
    await button(page, 'Emergency stop').click();
    await page.getByRole('heading', { name: 'Emergency stop latched: all output is off' }).waitFor({ timeout: UI_WAIT_MS });
    await waitText(outputStatus(page), /^Output off$/);
    await page.getByText(/Clearing does not restart output/).waitFor();
    await waitText(page.locator('.ended'), /Session stopped: emergency stop \(button\)\./);
    expect(await button(page, 'New session').isDisabled()).toBe(true);

    const alarm = page.getByRole('alert').filter({ hasText: 'High priority alarm' });
    await waitText(alarm, /High priority alarm.*Emergency stop by the Emergency stop button: all output is off and latched.*Next: /);
    const animation = () => alarm.locator('.alarm-indicator').evaluate((el) => getComputedStyle(el).animationName + ' ' + getComputedStyle(el).animationDuration);
    expect(await animation()).toBe('flash-high 0.5s');
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'estop-latched');
    expect(await auditControls(page)).toEqual([]);
    await page.emulateMedia({ reducedMotion: 'reduce' });
    expect(await animation()).toMatch(/^none /);
    await page.emulateMedia({ reducedMotion: 'no-preference' });

    await page.getByRole('button', { name: /^Acknowledge alarm: Emergency stop/ }).click();
    await alarm.waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    await clearAndNewSession(page);
  }, 30_000);

  it('Escape is the emergency stop too, from anywhere on the page', async () => {
    // After "New session" the Session screen asks for the protocol first.
    await page.getByRole('radio', { name: new RegExp(`^${SHORT}`) }).check();
    await button(page, 'Continue to screening').click();
    await page.getByRole('heading', { name: `Screening for ${SHORT}` }).waitFor({ timeout: UI_WAIT_MS });
    await screenAndStart(page, 'PT-0043');
    await page.getByRole('textbox', { name: 'Note for the session record' }).focus();
    await page.keyboard.press('Escape');
    await page.getByRole('heading', { name: 'Emergency stop latched: all output is off' }).waitFor({ timeout: UI_WAIT_MS });
    await waitText(outputStatus(page), /^Output off$/);
    await waitText(page.locator('.ended'), /Session stopped: emergency stop \(keyboard\)\./);
    // The alarm names its source; once the stop is cleared nothing on the page says "latched".
    const alarm = page.getByRole('alert').filter({ hasText: 'High priority alarm' });
    await waitText(alarm, /Emergency stop by the Escape key: all output is off and latched/);
    await button(page, 'Clear stop').click();
    await page.getByRole('heading', { name: /Emergency stop latched/ }).waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    await waitText(alarm, /Emergency stop by the Escape key: all output is off \(the stop is cleared\)/);
    expect(await page.locator('body').innerText()).not.toMatch(/latched/i);
    await button(page, 'New session').click();
    await page.getByRole('heading', { name: 'Choose the protocol' }).waitFor({ timeout: UI_WAIT_MS });
  }, 45_000);

  it('completes a session in real time and opens, shows and exports its report', async () => {
    await useForSession(page, SHORT);
    await screenAndStart(page, 'PT-0044', 'Right');
    await waitText(page.locator('.time-detail'), /remaining of 0:15/);
    await waitText(page.locator('.ended'), /Session completed/, 60_000);
    await waitText(outputStatus(page), /^Output off$/);

    await button(page.locator('.ended'), 'Open report').click();
    const frame = page.frameLocator('iframe.report-frame');
    await frame.getByText('PT-0044').first().waitFor({ timeout: UI_WAIT_MS });
    await frame.getByText(SHORT).first().waitFor();
    // H32 the report names the side treated, not "affected".
    await waitText(frame.locator('dl > div', { hasText: 'Treated side' }).locator('dd'), /^right$/);
    await frame.getByText(/right knee/).first().waitFor();
    expect(await frame.locator('body').innerText()).not.toMatch(/affected/);
    // The report's own styles apply although the page's CSP forbids inline styles.
    const thBackground = await frame.locator('th').first().evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(thBackground).toBe('rgb(240, 240, 240)');
    expect(await page.locator('iframe.report-frame').getAttribute('sandbox')).toBe('allow-same-origin allow-modals');
    await page.getByRole('heading', { name: 'Session report' }).scrollIntoViewIfNeeded();
    await screenshot(page, 'report');
    expect(await auditControls(page)).toEqual([]);

    const [download] = await Promise.all([page.waitForEvent('download'), button(page, 'Export report (HTML)').click()]);
    expect(download.suggestedFilename()).toMatch(/^edn-session-.+\.html$/);
    const html = readFileSync(await download.path(), 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('PT-0044');

    // The history lists all three sessions.
    await button(page, 'Refresh').click();
    for (const ref of ['PT-0042', 'PT-0043', 'PT-0044']) await page.getByRole('cell', { name: ref, exact: true }).waitFor({ timeout: UI_WAIT_MS });
    await page.getByRole('button', { name: /^Open report of PT-0042/ }).click();
    await frame.getByText('PT-0042').first().waitFor({ timeout: UI_WAIT_MS });
  }, 90_000);

  it('raised no page error, console error or contract mismatch along the way', () => {
    expect(problems).toEqual([]);
    expect(host.logs).toEqual([]);
  });
});
