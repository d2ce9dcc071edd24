/**
 * Issue 13 section 6: a whole session from the keyboard alone. Focus moves only by Tab, controls
 * act only by Enter or Space, the e-stop is Escape; the only other keys are the characters typed
 * into the two text fields and the arrow that picks "No" inside each native radio group. Nothing is clicked and nothing is focused by
 * script: connect, choose a protocol, screen (every answer "No"), start and confirm, titrate,
 * pause and resume, the emergency stop by Escape, acknowledge its alarm, clear it, open the report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { type AppPage, openApp } from './support/app-page.js';
import { UI_WAIT_MS, explained, outputStatus, waitText } from './support/ui.js';

let app: AppPage;
let page: Page;
const MAX_TABS = 250;

/** The focused element: its tag, input type, accessible name (roughly), checked state and group. */
async function focused(p: Page): Promise<{ tag: string; type: string; name: string; checked: boolean; group: string }> {
  return p.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el) return { tag: '', type: '', name: '', checked: false, group: '' };
    const labelled = el.getAttribute('aria-label');
    let name = labelled ?? '';
    if (!name && (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement)) name = [...(el.labels ?? [])].map((l) => l.textContent ?? '').join(' ');
    if (!name) {
      const clone = el.cloneNode(true) as HTMLElement;
      for (const hidden of clone.querySelectorAll('[aria-hidden="true"]')) hidden.remove();
      name = clone.textContent ?? '';
    }
    const input = el instanceof HTMLInputElement ? el : undefined;
    return { tag: el.tagName.toLowerCase(), type: input?.type ?? '', name: name.trim().replace(/\s+/g, ' '), checked: input?.checked ?? false, group: input?.name ?? '' };
  });
}

/** Press Tab until the focused element's name matches; fails naming what was reached. */
async function tabTo(p: Page, name: RegExp): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < MAX_TABS; i++) {
    await p.keyboard.press('Tab');
    const f = await focused(p);
    if (name.test(f.name)) return;
    seen.push(f.name.slice(0, 30));
  }
  throw new Error(`Tab never reached ${String(name)}; reached: ${[...new Set(seen)].join(' | ')}`);
}

beforeAll(async () => {
  app = await openApp({ context: { viewport: { width: 1280, height: 800 }, reducedMotion: 'reduce' } });
  ({ page } = app);
}, 90_000);

afterAll(async () => {
  await app?.close();
}, 60_000);

describe('the whole session from the keyboard: Tab, Enter, Space and Escape (an arrow inside radio groups)', () => {
  it('connects, screens, starts, titrates, pauses, resumes, e-stops by Escape, clears and opens the report', async () => {
    await tabTo(page, /^Connect$/);
    await page.keyboard.press('Enter');
    await page.locator('.device-status', { hasText: /Connected: EDN-SIM/ }).waitFor({ timeout: UI_WAIT_MS });

    await tabTo(page, /^Protocols$/);
    await page.keyboard.press('Enter');
    await page.getByRole('article').first().waitFor({ timeout: UI_WAIT_MS });
    await tabTo(page, /^Use for session/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /^Screening for / }).waitFor({ timeout: UI_WAIT_MS });

    await tabTo(page, /Patient reference \(pseudonymous\)/);
    await page.keyboard.type('PT-0061');
    await tabTo(page, /Clinician/);
    await page.keyboard.type('AB');
    // The treated side is a native radio group too, asked before the questions, nothing chosen:
    // Tab enters it at "Left", the arrow moves to "Right" and chooses it.
    await tabTo(page, /^Left$/);
    expect(await focused(page)).toMatchObject({ type: 'radio', name: 'Left', checked: false });
    await page.keyboard.press('ArrowRight');
    expect(await focused(page)).toMatchObject({ type: 'radio', name: 'Right', checked: true });
    await page.getByRole('heading', { name: /^At the right / }).first().waitFor({ timeout: UI_WAIT_MS });
    // Each question is a native radio group: Tab enters it at "Yes" (the first, none checked) and
    // moves on to the next group, so choosing "No" within a group takes the one key native radio
    // groups use for that, an arrow (WAI-ARIA radio group pattern); then Tab to the next question.
    const questions = await page.locator('fieldset.question').count();
    expect(questions).toBeGreaterThan(0);
    await tabTo(page, /^Yes$/);
    for (let q = 0; q < questions; q++) {
      const here = await focused(page);
      expect(here).toMatchObject({ type: 'radio', name: 'Yes', checked: false });
      await page.keyboard.press('ArrowRight');
      expect(await focused(page)).toMatchObject({ type: 'radio', name: 'No', group: here.group, checked: true });
      if (q < questions - 1) await page.keyboard.press('Tab');
    }
    expect(await page.locator('fieldset.question input[type=radio][value]:checked').count()).toBe(questions);
    await tabTo(page, /^Submit screening$/);
    await page.keyboard.press('Enter');
    await explained(page, 'the electrode check after the screening', () => page.getByRole('heading', { name: 'Electrode check' }).waitFor({ timeout: UI_WAIT_MS }));
    await waitText(page.getByRole('table').getByRole('row', { name: /Channel 1/ }), /OK/);

    await tabTo(page, /^Start$/);
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Start output?' }).waitFor({ timeout: UI_WAIT_MS });
    if (!/^Start output$/.test((await focused(page)).name)) await tabTo(page, /^Start output$/);
    await page.keyboard.press('Enter');
    await waitText(outputStatus(page), /^OUTPUT ON/);

    await page.getByRole('article', { name: /^Channel 1 · right / }).waitFor({ timeout: UI_WAIT_MS });
    const target1 = page.getByRole('article', { name: /Channel 1/ }).locator('.amp-target');
    await waitText(target1, /^1\.0 mA$/);
    await tabTo(page, /^\+0\.1 mA, increase amplitude$/);
    await page.keyboard.press('Space');
    await waitText(target1, /^1\.1 mA$/);
    await tabTo(page, /^Pause$/);
    await page.keyboard.press('Enter');
    await waitText(page.locator('.run-state'), /^Paused$/);
    await tabTo(page, /^Resume$/);
    await page.keyboard.press('Enter');
    await waitText(outputStatus(page), /^OUTPUT ON/);

    await page.keyboard.press('Escape');
    await page.getByRole('heading', { name: 'Emergency stop latched: all output is off' }).waitFor({ timeout: UI_WAIT_MS });
    await waitText(outputStatus(page), /^Output off$/);
    await waitText(page.locator('.ended'), /Session stopped: emergency stop \(keyboard\)\./);
    await tabTo(page, /^Acknowledge alarm: Emergency stop/);
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'High priority alarm' }).waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    await tabTo(page, /^Clear stop$/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /Emergency stop latched/ }).waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    await tabTo(page, /^Open report$/);
    await page.keyboard.press('Enter');
    await page.frameLocator('iframe.report-frame').getByText('PT-0061').first().waitFor({ timeout: UI_WAIT_MS });
  }, 120_000);
});
