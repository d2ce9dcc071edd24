/**
 * Two windows on one session (issue 9 item 4), in Debian's Chromium against the browser host on
 * the simulator: the window that began the session controls it; the second watches it live with
 * every control that changes it removed (Emergency stop stays, and works); "Take control" asks
 * first, moves control, tells both windows and is written into the session record and its report.
 * Two tabs of one browser context: each tab has its own client id (sessionStorage).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { readJournal } from '../../src/session/journal.js';
import { type AppPage, openApp } from './support/app-page.js';
import type { TestHost } from './support/web-host.js';
import { UI_WAIT_MS, button, outputStatus, screenAndStart, screenshot, useForSession, waitText } from './support/ui.js';

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
const SESSION_CONTROLS = ['Increase amplitude', 'Decrease amplitude by 0.5 mA', 'Pause', 'Stop session', 'Add note'];

async function visibleControls(page: Page): Promise<string[]> {
  const out: string[] = [];
  for (const name of SESSION_CONTROLS) if (await button(page, name).isVisible()) out.push(name);
  return out;
}

describe('two windows on one session', () => {
  it('the second window watches read-only, with Emergency stop; Take control asks, moves control and tells both', async () => {
    await button(first, 'Connect').click();
    await waitText(first.locator('.device-status'), /Connected: EDN-SIM/);
    await useForSession(first, KNEE);
    await screenAndStart(first, 'PT-0051');
    const journal = host.service.snapshot.journal!;

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
    await button(second, 'Increase amplitude by 0.5 mA').click();
    await waitText(first.getByRole('article', { name: /Channel 1 · left knee/ }).locator('.amp-target'), /^1\.5 mA$/);

    // Emergency stop works from the window that only watches.
    await first.keyboard.press('Escape');
    await first.getByRole('heading', { name: 'Emergency stop latched: all output is off' }).waitFor({ timeout: UI_WAIT_MS });
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
