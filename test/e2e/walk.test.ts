/**
 * Issue 13 section 7, found by a second walk (keyboard, role names), in Debian's Chromium against
 * the browser host on the simulator: every protocol card's buttons and the titration buttons are
 * named with what they show and what they act on; the e-stop's alarm acknowledged and the stop
 * cleared are listed in the report's events; "Use for session" after an ended session goes on to
 * that protocol (and "New session" after a latched stop takes it); Escape pressed inside the
 * session report's frame (History, a session running) stops the output.
 *
 * The steps share one page and run in order: each starts where the previous one left the UI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { readJournal } from '../../src/session/journal.js';
import { type AppPage, openApp } from './support/app-page.js';
import type { TestHost } from './support/web-host.js';
import { auditControls } from './support/audit.js';
import { TITRATE, UI_WAIT_MS, button, nav, outputStatus, screenAndStart, useForSession, waitText } from './support/ui.js';

const KNEE = 'Periosteal EDN for knee osteoarthritis';
const BACK = 'EDN on low back trigger points';
const HEEL = 'EDN for plantar heel pain (8 points)';

let app: AppPage;
let host: TestHost;
let page: Page;
let problems: string[] = [];

beforeAll(async () => {
  app = await openApp({ context: { viewport: { width: 1280, height: 800 } } });
  ({ host, page } = app);
  problems = app.problems;
}, 90_000);

afterAll(async () => {
  await app?.close();
}, 60_000);

/** Every channel of the simulated device is off (what reached the device, not what the page says). */
function deviceOutputsOff(): boolean {
  const sim = host.simulator();
  return sim !== undefined && sim.snapshot().channels.every((c) => c.state !== 'ON' && c.measuredUa === 0);
}

describe('issue 13 section 7: the second walk', () => {
  it('names each protocol card button with its protocol, and each titration button with its visible step (WCAG 2.5.3)', async () => {
    await button(page, 'Connect').click();
    await waitText(page.locator('.device-status'), /Connected: EDN-SIM/);
    await nav(page, 'Protocols');
    const cards = page.getByRole('article');
    await cards.first().waitFor({ timeout: UI_WAIT_MS });
    const names = (await page.locator('.protocol-card h2').allTextContents()).map((t) => t.trim());
    expect(names).toEqual(expect.arrayContaining([KNEE, BACK, HEEL]));
    for (const name of names) {
      const card = page.getByRole('article', { name, exact: true });
      for (const label of ['Use for session', 'Duplicate to customise', 'Export file']) {
        const b = button(card, `${label}: ${name}`);
        expect(await b.count(), `${label} on ${name}`).toBe(1);
        expect((await b.innerText()).trim()).toBe(label);
      }
    }
    // No button on the screen is named only "Use for session" (four of them, which is which?).
    expect(await button(page, 'Use for session').count()).toBe(0);
    expect(await auditControls(page)).toEqual([]);

    await useForSession(page, KNEE);
    await screenAndStart(page, 'PT-0101');
    for (const name of Object.values(TITRATE)) await button(page, name).waitFor({ timeout: UI_WAIT_MS });
    // The old names, which hid the visible "+0.1 mA", are gone; the audit checks label in name.
    expect(await page.getByRole('button', { name: /^Increase amplitude/ }).count()).toBe(0);
    expect(await auditControls(page)).toEqual([]);
  }, 90_000);

  it('lists the e-stop alarm acknowledged and the stop cleared in the report of the session', async () => {
    await page.keyboard.press('Escape');
    await page.getByRole('heading', { name: 'Emergency stop latched: all output is off' }).waitFor({ timeout: UI_WAIT_MS });
    await page.getByRole('button', { name: /^Acknowledge alarm: Emergency stop/ }).click();
    await page.getByRole('alert').filter({ hasText: 'High priority alarm' }).waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    await button(page, 'Clear stop').click();
    await page.getByRole('heading', { name: /Emergency stop latched/ }).waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    await button(page, 'Open report').click();
    const report = page.frameLocator('iframe.report-frame');
    await report.getByText('PT-0101').first().waitFor({ timeout: UI_WAIT_MS });
    await report.getByText(/Alarm \S+ acknowledged by clinician \(Emergency stop by the Escape key: all output is off and latched\)/).waitFor({ timeout: UI_WAIT_MS });
    await report.getByText('Emergency stop cleared by clinician (output stays off)').waitFor({ timeout: UI_WAIT_MS });
    const records = readJournal({ path: host.service.snapshot.journal! }).records.map((r) => r.type);
    expect(records.filter((t) => t === 'alarm-ack' || t === 'stop-cleared')).toEqual(['alarm-ack', 'stop-cleared']);
  }, 60_000);

  it('after an ended session, "Use for session" on another protocol goes on to its screening, and Change protocol keeps it chosen', async () => {
    expect(host.service.snapshot.state).toBe('stopped');
    await useForSession(page, BACK);
    // Not the old session's screen: the knee session's end is gone, a new session is on its way.
    expect(await page.getByRole('heading', { name: /^Session stopped/ }).count()).toBe(0);
    await button(page, 'Change protocol').click();
    await page.getByRole('heading', { name: 'Choose the protocol' }).waitFor({ timeout: UI_WAIT_MS });
    expect(await page.getByRole('radio', { name: new RegExp(`^${BACK}`) }).isChecked()).toBe(true);
    expect(await page.getByRole('radio', { name: new RegExp(`^${KNEE}`) }).isChecked()).toBe(false);
    await button(page, 'Continue to screening').click();
    await page.getByRole('heading', { name: `Screening for ${BACK}` }).waitFor({ timeout: UI_WAIT_MS });
  }, 60_000);

  it('Escape pressed inside the session report frame (History, a session running) stops the output at the device', async () => {
    await screenAndStart(page, 'PT-0102');
    await expect.poll(() => host.simulator()?.snapshot().channels.some((c) => c.state === 'ON') ?? false, { timeout: UI_WAIT_MS }).toBe(true);
    await nav(page, 'History');
    await page.getByRole('button', { name: /^Open report of PT-0101/ }).click();
    const report = page.frameLocator('iframe.report-frame');
    await report.getByText('PT-0101').first().click();
    // Focus is inside the frame's document, where the page's own key listener never hears a key.
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('IFRAME');
    expect(await page.locator('iframe.report-frame').evaluate((f: HTMLIFrameElement) => f.contentDocument?.hasFocus() ?? false)).toBe(true);
    await waitText(outputStatus(page), /^OUTPUT ON/);
    const seen = host.device.length;
    await page.keyboard.press('Escape');
    await waitText(outputStatus(page), /^Output off$/);
    await page.getByRole('heading', { name: 'Emergency stop latched: all output is off' }).waitFor({ timeout: UI_WAIT_MS });
    await expect.poll(deviceOutputsOff, { timeout: UI_WAIT_MS }).toBe(true);
    expect(host.device.slice(seen).some((d) => d.event.event === 'estop')).toBe(true);
    expect(host.simulator()?.snapshot().latched).toBe(true);
    const estops = readJournal({ path: host.service.snapshot.journal! }).records.filter((r) => r.type === 'estop');
    // Written when sent and again when the device confirmed it: from the key, and confirmed.
    expect(estops.map((r) => r.data)).toEqual([
      { source: 'keyboard', acked: false },
      { source: 'keyboard', acked: true },
    ]);
  }, 90_000);

  it('"Use for session" while the stop is latched says what comes next; New session after the clear goes on to that protocol', async () => {
    await nav(page, 'Protocols');
    await button(page.getByRole('article', { name: HEEL }), `Use for session: ${HEEL}`).click();
    // The stop must be cleared first: the ended session stays, with the protocol chosen next.
    const next = page.getByRole('status').filter({ hasText: /^Next session:/ });
    await waitText(next, new RegExp(`^Next session: ${HEEL.replace(/[()]/g, '\\$&')}\\. Clear the stop \\(above\\), then New session goes on to its screening\\.$`));
    await button(page, 'Clear stop').click();
    await page.getByRole('heading', { name: /Emergency stop latched/ }).waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    await button(page, 'New session').click();
    await page.getByRole('heading', { name: `Screening for ${HEEL}` }).waitFor({ timeout: UI_WAIT_MS });
    await next.waitFor({ state: 'hidden', timeout: UI_WAIT_MS });
    expect(problems).toEqual([]);
  }, 60_000);
});
