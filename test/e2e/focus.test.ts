/**
 * Issue 16 §3: focus after every action. Each action here is activated from the keyboard (Enter
 * or Space on the focused control), on the simulator, and afterwards `document.activeElement`
 * must be the control a clinician needs next, found by its role and accessible name: Submit
 * screening -> the electrode step's first control; Start output (in the dialog) -> the titration
 * controls; Pause -> Resume and back; the last Acknowledge -> the panel the alarm concerned (the
 * latched stop's Clear stop; a channel's card); Clear stop -> New session. Never <body>.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { type AppPage, openApp } from './support/app-page.js';
import type { TestHost } from './support/web-host.js';
import { TITRATE, UI_WAIT_MS, answerScreening, button, nav, outputStatus, useForSession, waitText } from './support/ui.js';

const KNEE = 'Periosteal EDN for knee osteoarthritis';

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

/** What has focus, in words: its tag and its text or label (for the failure message). */
function describeFocus(p: Page): Promise<string> {
  return p.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return '<body>';
    const name = el.getAttribute('aria-label') ?? (el.getAttribute('aria-labelledby') ? document.getElementById(el.getAttribute('aria-labelledby') ?? '')?.textContent : el.textContent);
    return `<${el.tagName.toLowerCase()}> ${(name ?? '').trim().replace(/\s+/g, ' ').slice(0, 60)}`;
  });
}

/** Wait until `target` (one element, by role and name) is document.activeElement. */
async function expectFocusOn(target: Locator, what: string): Promise<void> {
  await target.waitFor({ timeout: UI_WAIT_MS });
  await expect
    .poll(async () => ((await target.evaluate((el) => el === document.activeElement)) ? what : `focus on ${await describeFocus(page)}`), { timeout: UI_WAIT_MS, message: `focus should be on ${what}` })
    .toBe(what);
}

/** Focus a control (as Tab would) and activate it with a key. */
async function activate(target: Locator, key: 'Enter' | 'Space' = 'Enter'): Promise<void> {
  await target.focus();
  await page.keyboard.press(key);
}

describe('focus lands on the control needed next after each action by the keyboard', () => {
  it('Submit screening -> the electrode step\'s first control, kept there when the results arrive', async () => {
    await button(page, 'Connect').click();
    await waitText(page.locator('.device-status'), /Connected: EDN-SIM/);
    await useForSession(page, KNEE);
    await answerScreening(page, { patientRef: 'PT-0071', clinician: 'AB' });
    await activate(button(page, 'Submit screening'));
    await page.getByRole('heading', { name: 'Electrode check' }).waitFor({ timeout: UI_WAIT_MS });
    // The panel is rebuilt when each channel's result comes: focus must survive that too.
    await waitText(page.getByRole('table').getByRole('row', { name: /Channel 2/ }), /OK/);
    await expectFocusOn(button(page, 'Check electrodes again'), 'Check electrodes again');
  }, 60_000);

  it('Start output in the dialog -> the titration controls (+0.1 mA, increase amplitude)', async () => {
    await activate(button(page, 'Start'));
    const dialog = page.getByRole('dialog', { name: 'Start output?' });
    await dialog.waitFor({ timeout: UI_WAIT_MS });
    await activate(button(dialog, 'Start output'));
    await waitText(outputStatus(page), /^OUTPUT ON/);
    await expectFocusOn(button(page, TITRATE.up), TITRATE.up);
  }, 45_000);

  it('Pause -> Resume, and Resume -> Pause (Enter, then Space)', async () => {
    await activate(button(page, 'Pause'));
    await waitText(page.locator('.run-state'), /^Paused$/);
    await expectFocusOn(button(page, 'Resume'), 'Resume');
    // Already focused: the key alone acts, as a clinician would press it.
    await page.keyboard.press('Space');
    await waitText(page.locator('.run-state'), /^Running$|^Ramping up to the target$/);
    await expectFocusOn(button(page, 'Pause'), 'Pause');
    await page.keyboard.press('Enter');
    await waitText(page.locator('.run-state'), /^Paused$/);
    await expectFocusOn(button(page, 'Resume'), 'Resume');
    await page.keyboard.press('Enter');
    await expectFocusOn(button(page, 'Pause'), 'Pause');
  }, 45_000);

  it('the last Acknowledge of an emergency stop -> Clear stop, the latched stop it reported; Clear stop -> New session', async () => {
    await waitText(outputStatus(page), /^OUTPUT ON/);
    await page.keyboard.press('Escape');
    await page.getByRole('heading', { name: 'Emergency stop latched: all output is off' }).waitFor({ timeout: UI_WAIT_MS });
    const ack = page.getByRole('button', { name: /^Acknowledge alarm: Emergency stop/ });
    await expect.poll(() => ack.count(), { timeout: UI_WAIT_MS }).toBe(1);
    expect(await page.getByRole('button', { name: /^Acknowledge alarm/ }).count()).toBe(1);
    await activate(ack);
    await ack.waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    await expectFocusOn(button(page, 'Clear stop'), 'Clear stop');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /Emergency stop latched/ }).waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    await expectFocusOn(button(page, 'New session'), 'New session');
  }, 45_000);

  it('the last Acknowledge of a channel\'s fault -> that channel\'s card', async () => {
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Choose the protocol' }).waitFor({ timeout: UI_WAIT_MS });
    await nav(page, 'Session');
    await useForSession(page, KNEE);
    await answerScreening(page, { patientRef: 'PT-0072', clinician: 'AB' });
    await activate(button(page, 'Submit screening'));
    await waitText(page.getByRole('table').getByRole('row', { name: /Channel 2/ }), /OK/);
    await activate(button(page, 'Start'));
    await activate(button(page.getByRole('dialog', { name: 'Start output?' }), 'Start output'));
    await waitText(outputStatus(page), /^OUTPUT ON/);
    const sim = host.simulator();
    if (!sim) throw new Error('no simulator behind the connection');
    sim.setLoad(2, 'OPEN');
    await waitText(page.locator('.ended'), /Session aborted/);
    const acks = page.getByRole('button', { name: /^Acknowledge alarm/ });
    await acks.first().waitFor({ timeout: UI_WAIT_MS });
    // Every alarm but the last: focus stays in the alarm list (the next Acknowledge).
    for (let n = await acks.count(); n > 1; n--) {
      await activate(acks.first());
      await expect.poll(() => acks.count(), { timeout: UI_WAIT_MS }).toBe(n - 1);
      await expect.poll(() => acks.first().evaluate((el) => el === document.activeElement), { timeout: UI_WAIT_MS }).toBe(true);
    }
    const last = acks.first();
    const name = (await last.getAttribute('aria-label')) ?? '';
    expect(name).toMatch(/Channel 2/);
    await activate(last);
    await last.waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    await expectFocusOn(page.getByRole('article', { name: /^Channel 2 · / }), 'the card of channel 2');
  }, 60_000);

  it('raised no page error on the way', () => {
    expect(app.problems).toEqual([]);
  });
});
