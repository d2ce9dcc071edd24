/**
 * A frozen page stops the output (issue 9 item 3), in Debian's Chromium against the browser host
 * on the simulator: a session is started through the UI, the page's JavaScript is then stopped for
 * real (CDP `Debugger.pause`: the renderer process lives and its socket stays open, so the browser
 * still answers WebSocket pings; only the page's own code is stopped), and the test waits for the
 * simulated device to report its output off, then reads why in the session's journal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CDPSession, Page } from 'playwright-core';
import { UI_LIVENESS_MS, UI_PING_MS } from '../../src/app/ui-timing.js';
import { readJournal } from '../../src/session/journal.js';
import { type AppPage, openApp } from './support/app-page.js';
import { type DeviceEvent, type TestHost } from './support/web-host.js';
import { UI_WAIT_MS, button, outputStatus, screenAndStart, useForSession, waitText } from './support/ui.js';

const KNEE = 'Periosteal EDN for knee osteoarthritis';

let app: AppPage;
let host: TestHost;
let page: Page;

beforeAll(async () => {
  app = await openApp({ context: { viewport: { width: 1280, height: 800 } } });
  ({ host, page } = app);
}, 90_000);

afterAll(async () => {
  await app?.close();
}, 60_000);

/** Wait (polling, 20 ms) until `predicate` holds, at most `timeoutMs` of real time. */
async function until(predicate: () => boolean, what: string, timeoutMs = UI_WAIT_MS): Promise<void> {
  await expect.poll(predicate, { timeout: timeoutMs, interval: 20, message: `waiting for ${what}` }).toBe(true);
}

/** The device's channels with output on, from its own reports. */
function channelsOn(events: readonly DeviceEvent[]): Set<number> {
  const on = new Set<number>();
  for (const { event } of events) {
    if (event.event === 'output') {
      if (event.on) on.add(event.channel);
      else on.delete(event.channel);
    } else if (event.event === 'estop') on.clear();
  }
  return on;
}

describe('a frozen page', () => {
  it('a live page keeps the session; once its code is stopped, the device switches output off and the journal names the cause', async ({ annotate }) => {
    await button(page, 'Connect').click();
    await waitText(page.locator('.device-status'), /Connected: EDN-SIM/);
    await useForSession(page, KNEE);
    await screenAndStart(page, 'PT-0050');
    await until(() => channelsOn(host.device).size === 2, 'both channels on at the device');
    const journal = host.service.snapshot.journal;
    expect(journal).toBeDefined();

    // Alive: the page answers its pings (8 of them, 4 s), and the output stays on.
    const pingsBefore = host.liveness().pings;
    await until(() => host.liveness().pings >= pingsBefore + 8, '8 pings answered', 20_000);
    expect(channelsOn(host.device).size).toBe(2);
    expect(host.liveness().unresponsiveStops).toBe(0);
    await waitText(outputStatus(page), /^OUTPUT ON/);

    // Freeze the page's JavaScript for real.
    const cdp: CDPSession = await app.context.newCDPSession(page);
    await cdp.send('Debugger.enable');
    const paused = new Promise<number>((resolve) => cdp.once('Debugger.paused', () => resolve(performance.now())));
    await cdp.send('Debugger.pause');
    const frozenAt = await paused;
    const seen = host.device.length;
    await until(() => channelsOn(host.device).size === 0, 'the device to switch output off', UI_LIVENESS_MS + 10_000);
    const off = host.device.slice(seen).find((e) => e.event.event === 'estop') ?? host.device.slice(seen).find((e) => e.event.event === 'output' && !e.event.on);
    const ms = off!.atMs - frozenAt;
    await annotate(`output off at the device ${Math.round(ms)} ms after the page froze (liveness window ${UI_LIVENESS_MS} ms, ping every ${UI_PING_MS} ms)`);
    // The last answer came at most one ping period before the freeze; the deadline is the window after it.
    expect(ms).toBeGreaterThanOrEqual(UI_LIVENESS_MS - UI_PING_MS - 100);
    expect(ms).toBeLessThan(UI_LIVENESS_MS + 2000);
    expect(host.device.slice(seen).some((e) => e.event.event === 'estop')).toBe(true);
    expect(host.liveness().unresponsiveStops).toBe(1);

    // The record says why.
    const records = readJournal({ path: journal! }).records;
    expect(records.filter((r) => r.type === 'estop').map((r) => r.data)).toEqual([
      { source: 'ui-unresponsive', acked: false },
      { source: 'ui-unresponsive', acked: true },
    ]);
    expect(records.at(-1)).toMatchObject({ type: 'session-end', data: { reason: 'stopped', detail: 'emergency stop (ui-unresponsive)' } });
    expect(host.logs).toContain(`window 1, which controls the session, gave no sign of life for ${UI_LIVENESS_MS} ms with output on: emergency stop`);

    // Thawed, the page shows the latched stop and why.
    await cdp.send('Debugger.resume');
    await cdp.detach();
    await page.getByRole('heading', { name: 'Emergency stop latched: all output is off' }).waitFor({ timeout: UI_WAIT_MS });
    await waitText(page.locator('.ended'), /Session stopped: emergency stop \(ui-unresponsive\)\./);
    await waitText(outputStatus(page), /^Output off$/);
  }, 90_000);
});
