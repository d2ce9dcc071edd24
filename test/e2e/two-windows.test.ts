/**
 * Two windows on one session (issue 9 item 4), in Debian's Chromium against the browser host on
 * the simulator: the window that began the session controls it; the second watches it live with
 * every control that changes it removed (Emergency stop stays, and works); "Take control" asks
 * first, moves control, tells both windows and is written into the session record and its report.
 * Issue 13 section 7: the observer says so and how many windows are connected, shows the notes
 * added in the controlling window live (and after a reload), is offered nothing that begins,
 * changes or ends a session on any screen, and Escape inside a dialog stops the output.
 * Two tabs of one browser context: each tab has its own client id (sessionStorage).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { readJournal } from '../../src/session/journal.js';
import { type AppPage, openApp } from './support/app-page.js';
import type { TestHost } from './support/web-host.js';
import { UI_WAIT_MS, button, outputStatus, screenAndStart, screenshot, TITRATE, useForSession, waitText } from './support/ui.js';

const KNEE = 'Periosteal EDN for knee osteoarthritis';

let app: AppPage;
let host: TestHost;
let first: Page;
let second: Page;
let problems: string[] = [];

/** A window on the app (its errors collected in `problems`), on whatever screen it opens. */
function open(): Promise<Page> {
  return app.openPage((page) => page.getByRole('heading', { name: 'EDN Controller' }).or(page.getByRole('heading', { level: 1 })).first().waitFor({ timeout: 30_000 }));
}

beforeAll(async () => {
  app = await openApp({ context: { viewport: { width: 1280, height: 800 } } });
  ({ host, page: first } = app);
  problems = app.problems;
}, 90_000);

afterAll(async () => {
  await app?.close();
}, 60_000);

/** The controls that change a running session, as a clinician finds them. */
const SESSION_CONTROLS = [TITRATE.up, TITRATE.downBig, 'Pause', 'Stop session', 'Add note'];

async function visibleControls(page: Page): Promise<string[]> {
  const out: string[] = [];
  for (const name of SESSION_CONTROLS) if (await button(page, name).isVisible()) out.push(name);
  return out;
}

/**
 * Every button that begins, changes or ends a session (or what it records), on any screen: the
 * calls src/app/control.ts gives to the controller only, as the screens label them.
 */
const CHANGES_A_SESSION = /^(Connect|Disconnect|Save clinician|Use for session.*|Start session.*|Submit screening|Start|Start output|Check electrodes again|Cancel session|[+\u2212]\d.*|Pause|Resume|Stop session|Add note|Clear stop|Acknowledge.*|New session|Record .*)$/;

/** The visible buttons of `page` that change a session (should be none for an observer). */
async function visibleSessionChangers(page: Page): Promise<string[]> {
  const names = await page.getByRole('button').evaluateAll((els) =>
    els.filter((el) => el instanceof HTMLElement && el.offsetParent !== null).map((el) => (el.getAttribute('aria-label') ?? el.textContent ?? '').trim().replace(/\s+/g, ' ')),
  );
  return names.filter((n) => CHANGES_A_SESSION.test(n));
}

/** Show a screen by its tab (named "Session ● live" while a session is on) and wait until it is the one shown. */
async function screen(page: Page, name: 'Device' | 'Protocols' | 'Session' | 'Patients' | 'History'): Promise<void> {
  const tab = page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: new RegExp(`^${name}`) });
  await tab.click();
  await expect.poll(() => tab.getAttribute('aria-current'), { timeout: UI_WAIT_MS }).toBe('page');
}

describe('two windows on one session', () => {
  it('H21 the second window says it observes and how many windows are connected, shows the first window\'s notes live and after a reload, and offers nothing that changes the session on any screen', async () => {
    await button(first, 'Connect').click();
    await waitText(first.locator('.device-status'), /Connected: EDN-SIM/);
    await useForSession(first, KNEE);
    await screenAndStart(first, 'PT-0051');

    second = await open();
    // The second window opens on the running session, told that another window controls it.
    const banner = second.getByRole('region', { name: 'Another window controls this session' });
    await banner.waitFor({ timeout: UI_WAIT_MS });
    await waitText(banner, /Window 1 controls it\. This window shows the session live, read-only; Emergency stop \(or Escape\) works from here\./);
    await waitText(second.getByRole('article', { name: /Channel 1 · left knee/ }).locator('.output-badge'), /^OUTPUT ON/);
    await waitText(outputStatus(second), /^OUTPUT ON/);
    expect(await visibleControls(second)).toEqual([]);
    expect(await button(second, 'Emergency stop').isVisible()).toBe(true);
    await waitText(first.locator('.banner-control'), /This window controls the session; it is also shown in another window, read-only there\./);
    expect(await visibleControls(first)).toEqual(SESSION_CONTROLS);
    await screenshot(second, 'observer');
    await waitText(banner.locator('.control-count'), /^Window 2 is an observer\. 2 windows are connected to the controller\.$/);

    // A note added in the controlling window appears in the other at once, with its time.
    const notes = (page: Page) => page.getByRole('region', { name: 'Notes' }).getByRole('listitem');
    await first.getByRole('textbox', { name: 'Note for the session record' }).fill('strong but comfortable at 1 mA');
    await button(first, 'Add note').click();
    await waitText(notes(first), /^\d+:\d{2} strong but comfortable at 1 mA$/);
    await waitText(notes(second), /^\d+:\d{2} strong but comfortable at 1 mA$/);
    expect(await notes(second).allTextContents()).toEqual(await notes(first).allTextContents());
    await first.getByRole('textbox', { name: 'Note for the session record' }).fill('needle 2 repositioned');
    await button(first, 'Add note').click();
    await expect.poll(() => notes(second).count(), { timeout: UI_WAIT_MS }).toBe(2);
    await waitText(notes(second).nth(1), /needle 2 repositioned$/);
    // Reloaded, the observer still lists both (they were written before it showed the session).
    // Paused first: the host bundles the page for each load, on a machine shared with other work,
    // and a host stalled with output on ends the session (its telemetry watchdog), as it must.
    await button(first, 'Pause').click();
    await waitText(outputStatus(first), /^Output off$/);
    await second.reload();
    await banner.waitFor({ timeout: UI_WAIT_MS });
    await expect.poll(() => notes(second).allTextContents(), { timeout: UI_WAIT_MS }).toEqual(await notes(first).allTextContents());

    // Nothing that begins, changes or ends a session is offered to the observer, on any screen.
    for (const name of ['Device', 'Protocols', 'Patients', 'History', 'Session'] as const) {
      await screen(second, name);
      expect(await visibleSessionChangers(second), name).toEqual([]);
      expect(await button(second, 'Emergency stop').isVisible(), name).toBe(true);
    }
    // The Device screen's Disconnect is there, but not for the window that only watches.
    const disconnect = second.locator('.screen-device button', { hasText: /^Disconnect$/ });
    expect(await disconnect.count()).toBe(1);
    expect(await disconnect.isVisible()).toBe(false);
    // ...while the controlling window is offered them.
    expect(await visibleSessionChangers(first)).toEqual(expect.arrayContaining([TITRATE.up, 'Resume', 'Stop session', 'Add note']));
    await button(first, 'Resume').click();
    await waitText(outputStatus(first), /^OUTPUT ON/);
    await waitText(outputStatus(second), /^OUTPUT ON/);
    expect(problems).toEqual([]);
  }, 90_000);

  it('Take control asks, moves control and tells both; Escape inside a dialog stops the output', async () => {
    const journal = host.service.snapshot.journal!;
    const banner = second.getByRole('region', { name: 'Another window controls this session' });

    // Take control: asked first; Cancel changes nothing.
    await button(banner, 'Take control').click();
    const dialog = second.getByRole('dialog', { name: 'Take control of this session?' });
    await dialog.waitFor();
    await dialog.getByText(/Window 1 can then only watch, and is told at once\. The take-over is written into the session record\./).waitFor();
    await button(dialog, 'Cancel').click();
    await dialog.waitFor({ state: 'detached' });
    expect(await visibleControls(second)).toEqual([]);
    await button(banner, 'Take control').click();
    await button(second.getByRole('dialog', { name: 'Take control of this session?' }), 'Take control').click();

    // Both are told.
    await waitText(second.locator('.notice'), /This window now controls the session \(taken from window 1, which is told and can only watch\)/);
    await banner.waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    await expect.poll(() => visibleControls(second), { timeout: UI_WAIT_MS }).toEqual(SESSION_CONTROLS);
    const told = first.getByRole('region', { name: 'Another window controls this session' });
    await waitText(told, /Window 2 took control of this session at \d{2}:\d{2}:\d{2}\. Window 2 controls it\./);
    await expect.poll(() => visibleControls(first), { timeout: UI_WAIT_MS }).toEqual([]);
    await screenshot(first, 'taken-over');

    // The new controller titrates; the first window sees it live.
    await button(second, TITRATE.upBig).click();
    await waitText(first.getByRole('article', { name: /Channel 1 · left knee/ }).locator('.amp-target'), /^1\.5 mA$/);

    // Emergency stop works from the window that only watches: Escape with its Take control dialog open.
    await waitText(outputStatus(first), /^OUTPUT ON/);
    await button(told, 'Take control').click();
    const asking = first.getByRole('dialog', { name: 'Take control of this session?' });
    await asking.waitFor({ timeout: UI_WAIT_MS });
    expect(await asking.evaluate((d) => d.contains(document.activeElement))).toBe(true);
    await first.keyboard.press('Escape');
    await asking.waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    await first.getByRole('heading', { name: 'Emergency stop latched: all output is off' }).waitFor({ timeout: UI_WAIT_MS });
    await expect.poll(() => host.simulator()?.snapshot().channels.every((c) => c.state !== 'ON' && c.measuredUa === 0) ?? false, { timeout: UI_WAIT_MS }).toBe(true);
    await second.getByRole('heading', { name: 'Emergency stop latched: all output is off' }).waitFor({ timeout: UI_WAIT_MS });
    await waitText(outputStatus(second), /^Output off$/);
    // Clearing the stop is the controller's: not offered to the first window.
    expect(await button(first, 'Clear stop').isVisible()).toBe(false);
    expect(await button(second, 'Clear stop').isVisible()).toBe(true);

    const records = readJournal({ path: journal }).records;
    expect(records.filter((r) => r.type === 'control').map((r) => r.data)).toEqual([{ change: 'take-over', from: 'window 1', to: 'window 2', fromPresent: true }]);
    expect(records.filter((r) => r.type === 'estop').map((r) => (r.data as { source: string }).source)).toContain('keyboard');
    const sessionId = host.service.snapshot.sessionId!;
    const report = await host.service.openReport({ sessionId, format: 'md' });
    expect(report.ok && report.data.content).toContain('Control taken over by window 2 from window 1');
    expect(problems).toEqual([]);
  }, 90_000);
});
