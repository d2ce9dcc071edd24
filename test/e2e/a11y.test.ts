/**
 * Issue 13 section 6: axe-core (WCAG 2.2 A and AA) on every state of the session flow, not only
 * the top-level screens: screening with errors, the electrode check failed, the start
 * confirmation, running, paused, the e-stop latched with its high-priority alarm shown, latched
 * after the alarm is acknowledged, and the session report (an iframe, audited too). No serious or
 * critical violation is allowed; the states go through the UI on the simulator, a failed electrode
 * made by opening the simulated channel's load.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { type AppPage, openApp } from './support/app-page.js';
import type { TestHost } from './support/web-host.js';
import { connectSimulator, UI_WAIT_MS, answer, answerScreening, button, outputStatus, useForSession, waitText } from './support/ui.js';
import { axeAudit } from './support/axe.js';

const KNEE = 'Periosteal EDN for knee osteoarthritis';

let app: AppPage;
let host: TestHost;
let page: Page;
const lesser: string[] = [];

async function audit(state: string): Promise<string[]> {
  const r = await axeAudit(page, state);
  lesser.push(...r.lesser);
  return r.serious;
}

beforeAll(async () => {
  app = await openApp({ context: { viewport: { width: 1280, height: 800 }, reducedMotion: 'reduce' } });
  ({ host, page } = app);
  await connectSimulator(page);
}, 90_000);

afterAll(async () => {
  await app?.close();
}, 60_000);

describe('axe-core, WCAG 2.2 A and AA, on every state of the session flow: no serious or critical violation', () => {
  it('screening with errors (a patient reference refused, an absolute contraindication)', async () => {
    await useForSession(page, KNEE);
    await answerScreening(page, { patientRef: 'PT-L4', clinician: 'AB', yes: [/implanted electronic device/] });
    await button(page, 'Submit screening').click();
    await page.getByText(/does not follow the patient reference rule/).first().waitFor({ timeout: UI_WAIT_MS });
    expect(await audit('screening with errors')).toEqual([]);
  }, 45_000);

  it('the electrode check failed (channel 1 open), then the start confirmation', async () => {
    await page.getByRole('textbox', { name: 'Patient reference (pseudonymous)' }).fill('PT-0051');
    await answer(page, /implanted electronic device/, 'No');
    const sim = host.simulator();
    if (!sim) throw new Error('no simulator behind the connection');
    sim.setLoad(1, 'OPEN');
    await button(page, 'Submit screening').click();
    await page.getByRole('heading', { name: 'Electrode check' }).waitFor({ timeout: UI_WAIT_MS });
    await page.locator('table.electrodes tr.bad').first().waitFor({ timeout: UI_WAIT_MS });
    expect(await button(page, 'Start').isDisabled()).toBe(true);
    expect(await audit('electrode check failed')).toEqual([]);

    sim.setLoad(1, 1500);
    await button(page, 'Check electrodes again').click();
    await page.locator('table.electrodes tr.bad').first().waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    await button(page, 'Start').click();
    await page.getByRole('dialog', { name: 'Start output?' }).waitFor({ timeout: UI_WAIT_MS });
    expect(await audit('start confirmation')).toEqual([]);
  }, 45_000);

  it('running, then paused', async () => {
    await button(page.getByRole('dialog', { name: 'Start output?' }), 'Start output').click();
    await waitText(outputStatus(page), /^OUTPUT ON/);
    await page.locator('.live-chart canvas').first().waitFor({ timeout: UI_WAIT_MS });
    expect(await audit('running')).toEqual([]);
    await button(page, 'Pause').click();
    await waitText(page.locator('.run-state'), /^Paused$/);
    expect(await audit('paused')).toEqual([]);
    await button(page, 'Resume').click();
    await waitText(outputStatus(page), /^OUTPUT ON/);
  }, 45_000);

  it('the e-stop latched with its high-priority alarm shown, then with the alarm acknowledged', async () => {
    await button(page, 'Emergency stop').click();
    await page.getByRole('heading', { name: 'Emergency stop latched: all output is off' }).waitFor({ timeout: UI_WAIT_MS });
    await page.getByRole('alert').filter({ hasText: 'High priority alarm' }).waitFor({ timeout: UI_WAIT_MS });
    expect(await audit('e-stop latched, alarm shown')).toEqual([]);
    await page.getByRole('button', { name: /^Acknowledge alarm: Emergency stop/ }).click();
    await page.getByRole('alert').filter({ hasText: 'High priority alarm' }).waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    expect(await audit('e-stop latched, alarm acknowledged')).toEqual([]);
  }, 45_000);

  it('the session report (the page and its iframe)', async () => {
    await button(page, 'Clear stop').click();
    await page.getByRole('heading', { name: /Emergency stop latched/ }).waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    await button(page.locator('.ended'), 'Open report').click();
    await page.frameLocator('iframe.report-frame').getByText('PT-0051').first().waitFor({ timeout: UI_WAIT_MS });
    expect(await audit('report')).toEqual([]);
    expect(lesser).toEqual([]);
  }, 45_000);

  it('the audit itself finds a violation planted in the page and one in the report iframe (it can fail)', async () => {
    const plant = () => {
      const b = document.createElement('button');
      b.id = 'planted-unnamed';
      document.body.append(b);
    };
    await page.evaluate(plant);
    const report = page.frames().find((f) => f !== page.mainFrame());
    if (!report) throw new Error('the report iframe is not open');
    await report.evaluate(plant);
    const found = await audit('planted');
    expect(found.filter((l) => l.includes('button-name'))).toEqual([
      'planted: button-name (critical) Buttons must have discernible text: #planted-unnamed',
      'planted: button-name (critical) Buttons must have discernible text: frame report-frame > #planted-unnamed',
    ]);
  }, 45_000);
});
