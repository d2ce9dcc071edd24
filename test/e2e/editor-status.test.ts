/**
 * Issue 16 section 5 and issue 13 section 7 (last bullet), in Debian's Chromium on the browser host:
 * - a protocol with warnings never reads "Valid: ready to save." like a clean file: the status says
 *   "Valid, 1 warning: <where>: <what>" with a button that takes focus to the field (which sits
 *   thousands of pixels down the form), and the library card shows a warning mark in words;
 * - unsaved edits are never dropped silently: "Close editor", another screen and a reload each ask
 *   (Save / Discard / Keep editing, or the browser's own question on unload), and Escape still
 *   reaches the device as an emergency stop while that question is open;
 * - every control of the editor, the "go to the field" buttons included, is a 44 px target.
 * By role and accessible name, waiting for UI states.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { type AppPage, openApp } from './support/app-page.js';
import type { TestHost } from './support/web-host.js';
import { connectSimulator, UI_WAIT_MS, button, nav, waitText } from './support/ui.js';
import { auditControls } from './support/audit.js';
import { axeAudit } from './support/axe.js';

const DENSE = 'Dense-disperse 2/100 Hz';
const KNEE = 'Periosteal EDN for knee osteoarthritis';
const KNEE_COPY = `${KNEE} (customised)`;

let app: AppPage;
let host: TestHost;
let page: Page;

beforeAll(async () => {
  app = await openApp({ context: { viewport: { width: 1280, height: 800 }, reducedMotion: 'reduce' } });
  ({ host, page } = app);
  // Connected, so that the Escape test below can see the e-stop reach the device.
  await connectSimulator(page);
}, 90_000);

afterAll(async () => {
  await app?.close();
}, 60_000);

const editorHeading = () => page.getByRole('heading', { name: /^Protocol editor/ });
const status = () => page.locator('.editor-bar .validity-text');
const statusBox = () => page.locator('.editor-bar .validity');
const unsavedDialog = () => page.getByRole('dialog', { name: /^Save the changes to/ });
const field = (path: string): Locator => page.locator(`.editor [data-path="${path}"]`);

/** The path of the focused element and whether it lies between the sticky header and the editor's bar. */
async function focusedInView(): Promise<{ path: string | undefined; inView: boolean }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    const r = el?.getBoundingClientRect();
    const top = document.querySelector('header')?.getBoundingClientRect().bottom ?? 0;
    const bottom = document.querySelector('.editor-bar')?.getBoundingClientRect().top ?? window.innerHeight;
    return { path: el?.dataset.path, inView: r !== undefined && r.height > 0 && r.top >= top - 0.5 && r.bottom <= bottom + 0.5 };
  });
}

async function openCopy(name: string): Promise<void> {
  await nav(page, 'Protocols');
  await button(page.getByRole('article', { name }), `Duplicate to customise: ${name}`).click();
  await editorHeading().waitFor({ timeout: UI_WAIT_MS });
  await waitText(status(), /^Valid/);
}

describe('the editor status names every warning, with a way to its field (issue 16 s5)', () => {
  it('the dense-disperse library card shows a warning mark in words', async () => {
    await nav(page, 'Protocols');
    const card = page.getByRole('article', { name: DENSE });
    await waitText(card.locator('.card-warning'), /^Warning: Phase 1 › Maximum amplitude: RMS current density 5\.2 mA\/cm² at 8 mA is above 2 mA\/cm²/);
    // A mark and words, not colour alone; a clean protocol has none.
    expect(await card.locator('.card-warning svg').count()).toBe(1);
    expect(await page.getByRole('article', { name: KNEE }).locator('.card-warning').count()).toBe(0);
  }, 45_000);

  it('a copy of dense-disperse: "Valid, 1 warning: ..." (not "ready to save"), and its button brings the field into view with focus', async () => {
    await openCopy(DENSE);
    await waitText(status(), /^Valid, 1 warning: Phase 1 › Maximum amplitude: RMS current density 5\.2 mA\/cm² at 8 mA is above 2 mA\/cm²: the electrode needs the operator's special attention\.$/);
    expect(await status().textContent()).not.toMatch(/ready to save/);
    // The field is far down the form, out of view, until the button takes the clinician there.
    const before = await field('phases[0].amplitude.maxMa').boundingBox();
    expect(before?.y ?? 0).toBeGreaterThan(800);
    await button(statusBox(), 'Go to Phase 1 › Maximum amplitude').click();
    await expect.poll(focusedInView, { timeout: UI_WAIT_MS }).toEqual({ path: 'phases[0].amplitude.maxMa', inView: true });
    // Its warning is beside it, in full with its source.
    expect(await page.locator('.editor .field-warning').first().textContent()).toMatch(/\[docs\/CLINICAL\.md#rms-current-density\]$/);
    // Nothing was edited: closing asks nothing.
    await button(page, 'Close editor').click();
    await page.getByRole('heading', { name: 'Protocols', level: 1 }).waitFor({ timeout: UI_WAIT_MS });
    expect(await unsavedDialog().count()).toBe(0);
  }, 45_000);

  it('a knee copy with 400 µs pulses: "Valid, 1 warning: ... Shannon k 1.63 ..."; every editor control, its buttons to fields included, is 44 px', async () => {
    await openCopy(KNEE);
    await waitText(status(), /^Valid: ready to save\.$/);
    await field('phases[0].pulseWidthUs').fill('400');
    await waitText(status(), /^Valid, 1 warning: Phase 1 › Maximum amplitude: Shannon k 1\.63 at 10 mA is above 1\.5: the charge density is getting close to the 1\.85 threshold\.$/);
    expect(await auditControls(page)).toEqual([]);
    expect((await axeAudit(page, 'editor with a warning')).serious).toEqual([]);
    // An error too (the format check, so the dose warnings wait): the summary's buttons to the
    // fields are 44 px targets (they were 201 x 32).
    await page.getByRole('textbox', { name: 'Id', exact: true }).fill('Not An Id');
    await waitText(status(), /^One problem to fix before saving\.$/);
    await page.locator('.error-summary button.link').first().waitFor({ timeout: UI_WAIT_MS });
    expect(await auditControls(page)).toEqual([]);
    const box = await page.locator('.error-summary button.link').first().boundingBox();
    expect(box?.height ?? 0).toBeGreaterThanOrEqual(44 - 0.5);
  }, 45_000);
});

describe('unsaved edits are never dropped without asking (issue 16 s5)', () => {
  it('"Close editor" asks Save / Discard / Keep editing; Keep editing keeps every edit', async () => {
    await page.getByRole('textbox', { name: 'Id', exact: true }).fill('knee-oa-periosteal-custom');
    await waitText(status(), /^Valid, 1 warning/);
    await button(page, 'Close editor').click();
    const dialog = unsavedDialog();
    await dialog.waitFor({ timeout: UI_WAIT_MS });
    expect(await dialog.getByRole('button').allTextContents()).toEqual(['Keep editing', 'Discard', 'Save']);
    expect((await axeAudit(page, 'unsaved-edits question')).serious).toEqual([]);
    // The safe answer has focus: Enter by mistake loses nothing.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Keep editing');
    await button(dialog, 'Keep editing').click();
    await dialog.waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    expect(await editorHeading().isVisible()).toBe(true);
    expect(await field('phases[0].pulseWidthUs').inputValue()).toBe('400');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Close editor');
  }, 45_000);

  it('"Close editor", then Save: saved with the edit, and its card carries the warning mark', async () => {
    await button(page, 'Close editor').click();
    await button(unsavedDialog(), 'Save').click();
    await page.getByRole('heading', { name: 'Protocols', level: 1 }).waitFor({ timeout: UI_WAIT_MS });
    const card = page.getByRole('article', { name: KNEE_COPY });
    await waitText(card.locator('.card-warning'), /^Warning: Phase 1 › Maximum amplitude: Shannon k 1\.63/);
    const saved = await host.service.loadProtocol({ id: 'knee-oa-periosteal-custom' });
    expect(saved.ok && (saved.data.file as { phases: { pulseWidthUs: number }[] }).phases[0]?.pulseWidthUs).toBe(400);
  }, 45_000);

  it('another screen with unsaved edits asks too; Discard drops them and goes there', async () => {
    await button(page.getByRole('article', { name: KNEE_COPY }), `Edit: ${KNEE_COPY}`).click();
    await editorHeading().waitFor({ timeout: UI_WAIT_MS });
    await field('name').fill('Knee, renamed and not saved');
    await field('phases[0].pulseWidthUs').fill('300');
    await nav(page, 'Device');
    await button(unsavedDialog(), 'Discard').click();
    await page.getByRole('heading', { name: 'Device', level: 1 }).waitFor({ timeout: UI_WAIT_MS });
    await nav(page, 'Protocols');
    await button(page.getByRole('article', { name: KNEE_COPY }), `Edit: ${KNEE_COPY}`).click();
    await editorHeading().waitFor({ timeout: UI_WAIT_MS });
    expect(await field('name').inputValue()).toBe(KNEE_COPY);
    expect(await field('phases[0].pulseWidthUs').inputValue()).toBe('400');
  }, 45_000);

  it('another screen, then Keep editing: the screen stays and so do the edits; then Save goes there with them saved', async () => {
    await field('phases[0].pulseWidthUs').fill('350');
    await nav(page, 'History');
    await button(unsavedDialog(), 'Keep editing').click();
    await unsavedDialog().waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    expect(await editorHeading().isVisible()).toBe(true);
    expect(await field('phases[0].pulseWidthUs').inputValue()).toBe('350');
    await nav(page, 'History');
    await button(unsavedDialog(), 'Save').click();
    await page.getByRole('heading', { name: 'History', level: 1 }).waitFor({ timeout: UI_WAIT_MS });
    const saved = await host.service.loadProtocol({ id: 'knee-oa-periosteal-custom' });
    expect(saved.ok && (saved.data.file as { phases: { pulseWidthUs: number }[] }).phases[0]?.pulseWidthUs).toBe(350);
  }, 45_000);

  it('reloading or closing the page with unsaved edits: the browser asks first (beforeunload), and staying keeps them', async () => {
    await nav(page, 'Protocols');
    await editorHeading().waitFor({ timeout: UI_WAIT_MS });
    await field('phases[0].pulseWidthUs').click();
    await field('phases[0].pulseWidthUs').fill('360');
    const asked: string[] = [];
    page.once('dialog', (d) => {
      asked.push(d.type());
      void d.dismiss();
    });
    await page.close({ runBeforeUnload: true });
    await expect.poll(() => asked, { timeout: UI_WAIT_MS }).toEqual(['beforeunload']);
    expect(page.isClosed()).toBe(false);
    expect(await field('phases[0].pulseWidthUs').inputValue()).toBe('360');
  }, 45_000);

  it('Escape while the question is open is still the emergency stop: it reaches the device, and the question closes as Keep editing', async () => {
    await button(page, 'Close editor').click();
    await unsavedDialog().waitFor({ timeout: UI_WAIT_MS });
    const estopsBefore = host.device.filter((d) => d.event.event === 'estop').length;
    await page.keyboard.press('Escape');
    await expect.poll(() => host.device.filter((d) => d.event.event === 'estop').length, { timeout: UI_WAIT_MS }).toBe(estopsBefore + 1);
    await unsavedDialog().waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    expect(await editorHeading().isVisible()).toBe(true);
    expect(await field('phases[0].pulseWidthUs').inputValue()).toBe('360');
    expect(app.problems).toEqual([]);
  }, 45_000);
});
