/**
 * Issue 13 sections 1 and 2: the running session on one screen, and text that fits. In Debian's
 * Chromium against the browser host on the simulator, a session with 1, 2 and 4 channels is
 * started and, while it runs, viewed at a laptop's 1280 x 800 and 1366 x 768: the phase and time
 * remaining with its progress bar, every channel card (measured and target, OUTPUT ON/OFF,
 * impedance), the titration buttons, pause, stop and the e-stop must lie inside the viewport with
 * the document not scrolling, and no text on the session screen may overflow its box or wrap where
 * it must stay on one line. Screenshots of each go to a temp directory (the artifacts); with
 * EDN_README_SCREENSHOTS=1 the 1280 x 800 two-channel one is copied to docs/ for the README.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { type AppPage, openApp } from './support/app-page.js';
import type { TestHost } from './support/web-host.js';
import { connectSimulator, UI_WAIT_MS, answerScreening, button, useForSession, waitText } from './support/ui.js';
import { SESSION_SINGLE_LINE, artifactsDir, pillsOneRow, runningFitProblems, settled, textOverflowProblems } from './support/layout-check.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SIZES = [
  { width: 1280, height: 800 },
  { width: 1366, height: 768 },
] as const;
/** One protocol per channel count: a one-channel copy of the knee protocol, the knee (2), plantar fasciitis (4). */
const ONE = 'Layout check: one knee channel';
const PROTOCOLS = [
  { channels: 1, name: ONE },
  { channels: 2, name: 'Periosteal EDN for knee osteoarthritis' },
  { channels: 4, name: 'EDN for plantar heel pain (8 points)' },
] as const;

let app: AppPage;
let host: TestHost;
let page: Page;
const shots = artifactsDir('layout');
let problems: string[] = [];

beforeAll(async () => {
  app = await openApp({
    context: { viewport: SIZES[0], reducedMotion: 'reduce' },
    beforeOpen: async (h) => {
      host = h;
      // A one-channel protocol as a user would save it: the knee protocol with its first channel only.
      const knee = JSON.parse(readFileSync(path.join(ROOT, 'src/domain/protocols/library/knee-oa-periosteal.json'), 'utf8')) as {
        channels: unknown[];
        sources: { unverified: string[] }[];
      };
      const one = {
        ...knee,
        id: 'layout-one-channel',
        name: ONE,
        channels: knee.channels.slice(0, 1),
        sources: knee.sources.map((s) => ({ ...s, unverified: s.unverified.filter((v) => !v.startsWith('channels[1]')) })),
      };
      const saved = await host.service.saveProtocol({ file: one });
      if (!saved.ok) throw new Error(`the one-channel test protocol is not saved: ${saved.error.message}`);
    },
  });
  ({ host, page } = app);
  problems = app.problems;
  await connectSimulator(page);
}, 90_000);

afterAll(async () => {
  await app?.close();
}, 60_000);

/**
 * Whatever the previous test left (a session running, or stopped by the host: under heavy load the
 * telemetry watchdog may abort one), end it and get back to a state where a new session can start,
 * so one failure does not fail the tests after it.
 */
async function backToStart(page: Page): Promise<void> {
  const stop = button(page, 'Stop session');
  if ((await stop.isVisible()) && (await stop.isEnabled())) {
    await stop.click();
    await page.locator('.ended:not([hidden])').waitFor({ timeout: UI_WAIT_MS });
  }
  const clear = button(page, 'Clear stop');
  if (await clear.isVisible()) {
    await clear.click();
    await clear.waitFor({ state: 'detached', timeout: UI_WAIT_MS });
  }
  const again = button(page, 'New session');
  if ((await again.isVisible()) && (await again.isEnabled())) await again.click();
}

describe('the running session fits one screen, and its text fits its boxes', () => {
  for (const p of PROTOCOLS) {
    it(`${p.channels} channel${p.channels > 1 ? 's' : ''}: at 1280 x 800 and 1366 x 768 everything needed is in view, nothing scrolls, no text overflows`, async () => {
      await page.setViewportSize(SIZES[0]);
      await backToStart(page);
      await useForSession(page, p.name);
      await answerScreening(page, { patientRef: `PT-91${p.channels}`, clinician: 'AB' });
      await button(page, 'Submit screening').click();
      await page.getByRole('heading', { name: 'Electrode check' }).waitFor({ timeout: UI_WAIT_MS }).catch(async (e: unknown) => {
        await page.screenshot({ path: path.join(shots, 'failed-screening.png'), fullPage: true });
        throw e;
      });
      await button(page, 'Start').click();
      await button(page.getByRole('dialog', { name: 'Start output?' }), 'Start output').click();
      await waitText(page.locator('header .output-status'), /^OUTPUT ON/);
      await expect.poll(() => page.locator('.channel-card').count(), { timeout: UI_WAIT_MS }).toBe(p.channels);
      await page.locator('.live-chart canvas').first().waitFor({ timeout: UI_WAIT_MS });
      // The titration row is checked as the clinician sees it: focus on the buttons, not the page.
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      for (const size of SIZES) {
        await page.setViewportSize(size);
        await settled(page);
        const fit = await runningFitProblems(page, p.channels);
        const overflow = await textOverflowProblems(page, 'header, .tabs, .banners, .run', SESSION_SINGLE_LINE);
        const pills = await pillsOneRow(page);
        const file = path.join(shots, `running-${size.width}x${size.height}-${p.channels}ch.png`);
        await page.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
        if (size.width === 1280 && p.channels === 2 && process.env.EDN_README_SCREENSHOTS === '1') copyFileSync(file, path.join(ROOT, 'docs', 'session-running-1280x800.png'));
        expect({ size: `${size.width}x${size.height}`, fit, overflow, pills }).toEqual({ size: `${size.width}x${size.height}`, fit: [], overflow: [], pills: [] });
      }
      // The chart (in the panel that scrolls on a laptop), seen whole on a tall screen.
      await page.setViewportSize({ width: 1280, height: 1400 });
      await settled(page);
      await page.locator('.live-chart').screenshot({ path: path.join(shots, `chart-${p.channels}ch.png`), animations: 'disabled' });
      // Paused: Resume takes Pause's place, and the banner saying so must not push anything out.
      await button(page, 'Pause').click();
      await waitText(page.locator('.run-state'), /^Paused$/);
      for (const size of SIZES) {
        await page.setViewportSize(size);
        await settled(page);
        await page.screenshot({ path: path.join(shots, `paused-${size.width}x${size.height}-${p.channels}ch.png`), animations: 'disabled', caret: 'hide' });
        expect(await runningFitProblems(page, p.channels)).toEqual([]);
        expect(await textOverflowProblems(page, 'header, .tabs, .banners, .run', SESSION_SINGLE_LINE)).toEqual([]);
      }
      await button(page, 'Stop session').click();
      await waitText(page.locator('.ended'), /Session stopped/);
      await button(page, 'New session').click();
      await page.getByRole('heading', { name: 'Choose the protocol' }).waitFor({ timeout: UI_WAIT_MS });
    }, 60_000);
  }

  it('raised no page error, console error or contract mismatch along the way', () => {
    expect(problems).toEqual([]);
    expect(host.logs).toEqual([]);
  });
});
