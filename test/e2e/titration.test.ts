/**
 * Issue 16 §4: titration presses that vanished. Keyboard presses of "+0.1 mA" within 400 ms of the
 * last were discarded silently (five Enter presses 100 ms apart applied 2), clicks were not. Now
 * one rule holds for every input: every press is one step. Here, on the simulator, five Enter
 * presses and five Space presses 100 ms apart must each raise the target by 0.5 mA, on the screen,
 * in the controller's snapshot and in the amplitude the device was commanded to; and a key held
 * down repeats exactly as the button held down with the mouse does.
 *
 * The page's clock is Playwright's (page.clock): the 100 ms between presses and the time a key is
 * held are virtual time in the page, so the spacing is exact however slow the machine is. The
 * controller and the simulated device run on real time; every wait is for a state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { type AppPage, openApp } from './support/app-page.js';
import type { TestHost } from './support/web-host.js';
import { TITRATE, UI_WAIT_MS, button, outputStatus, screenAndStart, useForSession, waitText } from './support/ui.js';

const KNEE = 'Periosteal EDN for knee osteoarthritis';

let app: AppPage;
let host: TestHost;
let page: Page;

beforeAll(async () => {
  app = await openApp({ context: { viewport: { width: 1280, height: 800 }, reducedMotion: 'reduce' } });
  ({ host, page } = app);
  // The page's timers and clocks become Playwright's; reload so the app starts under them.
  await page.clock.install();
  await page.reload();
  await page.getByRole('heading', { name: 'Device', level: 1 }).waitFor({ timeout: UI_WAIT_MS });
}, 90_000);

afterAll(async () => {
  await app?.close();
}, 60_000);

/** Every channel's target as the controller holds it, and as the device was last commanded (µA). */
function hostTargets(): { readonly controller: number[]; readonly device: number[] } {
  const sim = host.simulator();
  return {
    controller: host.service.snapshot.channels.map((c) => c.targetMa),
    device: sim ? sim.snapshot().channels.filter((c) => c.state === 'ON').map((c) => c.targetUa) : [],
  };
}

/** Wait until the controller and the device both hold `ma` on every channel (the ramp may take a while). */
async function expectHostAt(ma: number): Promise<void> {
  const ua = Math.round(ma * 1000);
  await expect.poll(() => hostTargets(), { timeout: UI_WAIT_MS, message: `controller and device at ${ma} mA` }).toEqual({ controller: [ma, ma], device: [ua, ua] });
}

/** `n` presses of `key` on the focused control, `spacingMs` of page time apart. */
async function presses(key: 'Enter' | 'Space', n: number, spacingMs: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    if (i > 0) await page.clock.runFor(spacingMs);
    await page.keyboard.press(key);
  }
}

const target = (channel: number) => page.getByRole('article', { name: new RegExp(`^Channel ${channel} · `) }).locator('.amp-target');

describe('H29 titration presses: every press one step, the same for every input', () => {
  it('starts a two-channel session at 1.0 mA', async () => {
    await button(page, 'Connect').click();
    await waitText(page.locator('.device-status'), /Connected: EDN-SIM/);
    await useForSession(page, KNEE);
    await screenAndStart(page, 'PT-0081');
    await waitText(target(1), /^1\.0 mA$/);
    await expectHostAt(1);
  }, 60_000);

  it('H29 five Enter presses 100 ms apart raise the target by 0.5 mA: screen, controller and device', async () => {
    await button(page, TITRATE.up).focus();
    await page.clock.pauseAt(Date.now() + 60_000);
    await presses('Enter', 5, 100);
    await waitText(target(1), /^1\.5 mA$/);
    await waitText(target(2), /^1\.5 mA$/);
    await expectHostAt(1.5);
    await page.getByRole('region', { name: 'Amplitude' }).getByText('Target 1.5 mA on all channels · maximum 10.0 mA').waitFor({ timeout: UI_WAIT_MS });
  }, 45_000);

  it('H29 five Space presses 100 ms apart do the same, and so do five clicks', async () => {
    await presses('Space', 5, 100);
    await waitText(target(1), /^2\.0 mA$/);
    await expectHostAt(2);
    const up = button(page, TITRATE.up);
    for (let i = 0; i < 5; i++) {
      if (i > 0) await page.clock.runFor(100);
      await up.click();
    }
    await waitText(target(1), /^2\.5 mA$/);
    await waitText(target(2), /^2\.5 mA$/);
    await expectHostAt(2.5);
  }, 45_000);

  it('H29 a held key repeats like the held button: a step at once, after 0.6 s, then every 0.4 s; nothing after release', async () => {
    const up = button(page, TITRATE.up);
    /**
     * Hold for 1.5 s of page time in 100 ms ticks (`tick` after each: a key's auto-repeat),
     * waiting at each step's time for that step to reach the screen, so the test never outruns
     * the real-time controller. `from` is the target before the hold, in tenths of a mA.
     */
    const hold = async (from: number, tick: () => Promise<void>) => {
      const expectTarget = (tenths: number) => waitText(target(1), new RegExp(`^${(tenths / 10).toFixed(1).replace('.', '\\.')} mA$`));
      await expectTarget(from + 1); // at once
      let steps = 1;
      for (let t = 100; t <= 1500; t += 100) {
        await page.clock.runFor(100);
        await tick();
        if (t === 600 || t === 1000 || t === 1400) await expectTarget(from + ++steps);
      }
      return steps;
    };
    // The mouse held on the button.
    await up.hover();
    await page.mouse.down();
    expect(await hold(25, () => Promise.resolve())).toBe(4);
    await page.mouse.up();
    // Enter held on the focused button, the keyboard auto-repeating every 100 ms as an operating system does.
    await up.focus();
    await page.keyboard.down('Enter');
    expect(await hold(29, () => page.keyboard.down('Enter'))).toBe(4); // repeats: KeyboardEvent.repeat
    await page.keyboard.up('Enter');
    await expectHostAt(3.3);
    // Let go: nothing more is sent. One press after 2 s of page time must land on 3.4 mA, not above.
    await page.clock.runFor(2000);
    await page.keyboard.press('Enter');
    await waitText(target(1), /^3\.4 mA$/);
    await expectHostAt(3.4);
    expect(await target(2).textContent()).toBe('3.4 mA');
    await page.clock.resume();
  }, 60_000);

  it('states the rule under the buttons', async () => {
    await page.getByText('Every press is one step, by mouse, touch, Enter or Space alike; none is dropped.', { exact: false }).waitFor({ timeout: UI_WAIT_MS });
    await waitText(outputStatus(page), /^OUTPUT ON/);
    expect(app.problems).toEqual([]);
  });
});
