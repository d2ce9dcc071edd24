/**
 * Steps through the UI the way a clinician does, by role and accessible name, waiting for
 * specific UI states (never fixed sleeps), and screenshots of the main screens.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Test artifacts (not committed). */
export const SHOTS_DIR = path.join(ROOT, 'test-results', 'screenshots');
/** The README's screenshots (committed). */
export const README_SHOTS_DIR = path.join(ROOT, 'electron', 'renderer', 'screenshots');

/** How long a UI state may take to appear (the page, the host and the simulator share 2 cores). */
export const UI_WAIT_MS = 15_000;

/** Wait until the text of `locator` matches. */
export async function waitText(locator: Locator, pattern: RegExp, timeout = UI_WAIT_MS): Promise<void> {
  await expect.poll(async () => ((await locator.count()) > 0 ? ((await locator.first().textContent()) ?? '') : ''), { timeout, message: `waiting for ${String(pattern)}` }).toMatch(pattern);
}

/**
 * Run a wait; if it fails, fail with what the screen showed at that moment (the visible alerts, the
 * screening result, the device and output status, the current step), so that a wait that times
 * out on a loaded CI machine names the cause instead of only the heading it waited for.
 */
export async function explained<T>(page: Page, what: string, wait: () => Promise<T>): Promise<T> {
  try {
    return await wait();
  } catch (e) {
    const said = await page
      .evaluate(() => {
        const text = (sel: string): string[] => [...document.querySelectorAll(sel)].filter((el) => el.checkVisibility()).map((el) => (el.textContent ?? '').trim().replace(/\s+/g, ' ')).filter((t) => t.length > 0);
        return [
          `alerts: ${JSON.stringify(text('[role=alert]'))}`,
          `status: ${JSON.stringify(text('[role=status]'))}`,
          `device: ${JSON.stringify(text('.device-status'))}`,
          `output: ${JSON.stringify(text('header .output-status'))}`,
          `step: ${JSON.stringify(text('[aria-current=step]'))}`,
          `headings: ${JSON.stringify(text('h2'))}`,
        ].join('\n');
      })
      .catch((err: unknown) => `(the page could not be read: ${String(err)})`);
    throw new Error(`${what}: ${e instanceof Error ? e.message : String(e)}\nThe screen said:\n${said}`, { cause: e });
  }
}

/** The output status in the header ("OUTPUT ON 4.2 mA" / "Output off"). */
export function outputStatus(page: Page): Locator {
  return page.locator('header .output-status');
}

/**
 * The titration buttons' accessible names: the visible step and unit first, then what it does
 * (WCAG 2.5.3 Label in Name; the decreases show a minus sign, U+2212).
 */
export const TITRATE = {
  up: '+0.1 mA, increase amplitude',
  upBig: '+0.5 mA, increase amplitude',
  down: '\u22120.1 mA, decrease amplitude',
  downBig: '\u22120.5 mA, decrease amplitude',
} as const;

export function button(scope: Page | Locator, name: string): Locator {
  return scope.getByRole('button', { name, exact: true });
}

export async function nav(page: Page, screen: 'Device' | 'Protocols' | 'Session' | 'History'): Promise<void> {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('button', { name: screen, exact: true }).click();
}

/**
 * Save a screenshot under test-results/screenshots/. With `readme`, also copy it to
 * electron/renderer/screenshots/ when EDN_README_SCREENSHOTS=1 or when it is not there yet (so an
 * ordinary test run does not rewrite committed images).
 */
export async function screenshot(page: Page, name: string, options: { readme?: string; fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(SHOTS_DIR, { recursive: true });
  const file = path.join(SHOTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: options.fullPage ?? false, animations: 'disabled', caret: 'hide' });
  if (options.readme) {
    const target = path.join(README_SHOTS_DIR, options.readme);
    if (process.env.EDN_README_SCREENSHOTS === '1' || !existsSync(target)) {
      mkdirSync(README_SHOTS_DIR, { recursive: true });
      copyFileSync(file, target);
    }
  }
  return file;
}

export interface ScreeningAnswers {
  readonly patientRef: string;
  readonly clinician?: string;
  /** Questions (by a pattern of their text) answered "Yes"; every other question "No". */
  readonly yes?: readonly RegExp[];
  /** The "Treated side" to choose when the protocol asks (its channels are on the affected side). Default "Left". */
  readonly side?: 'Left' | 'Right' | 'Bilateral (both sides)';
}

/** Fill in the whole questionnaire shown on the Session screen. */
export async function answerScreening(page: Page, answers: ScreeningAnswers): Promise<void> {
  await page.getByRole('textbox', { name: 'Patient reference (pseudonymous)' }).fill(answers.patientRef);
  if (answers.clinician !== undefined) await page.getByRole('textbox', { name: 'Clinician (initials or staff id)' }).fill(answers.clinician);
  const questions = page.locator('fieldset.question');
  await questions.first().waitFor({ timeout: UI_WAIT_MS });
  // The side is asked by the same form (a protocol with fixed sides shows no such group).
  const side = page.getByRole('group', { name: 'Treated side', exact: true });
  if ((await side.count()) > 0) await side.getByRole('radio', { name: answers.side ?? 'Left', exact: true }).check();
  const n = await questions.count();
  for (let i = 0; i < n; i++) {
    const q = questions.nth(i);
    const text = (await q.locator('legend').textContent()) ?? '';
    const yes = answers.yes?.some((re) => re.test(text)) ?? false;
    await q.getByRole('radio', { name: yes ? 'Yes' : 'No', exact: true }).check();
  }
}

/** Answer one question (found by its text) on the screening form. */
export async function answer(page: Page, question: RegExp, value: 'Yes' | 'No'): Promise<void> {
  await page.getByRole('group', { name: question }).getByRole('radio', { name: value, exact: true }).check();
}

/** On the Device screen: Connect, and wait until the simulated stimulator is connected. */
export async function connectSimulator(page: Page): Promise<void> {
  await button(page, 'Connect').click();
  await page.locator('.device-status', { hasText: /Connected: EDN-SIM/ }).waitFor({ timeout: UI_WAIT_MS });
}

/** From the library: "Use for session" on a protocol card, and wait for its questionnaire. */
export async function useForSession(page: Page, protocolName: string): Promise<void> {
  await nav(page, 'Protocols');
  await button(page.getByRole('article', { name: protocolName }), `Use for session: ${protocolName}`).click();
  await page.getByRole('heading', { name: `Screening for ${protocolName}` }).waitFor({ timeout: UI_WAIT_MS });
}

/** Screen with every answer "No" (and the side, when asked: left by default), wait for the electrode check, start at the default target and confirm. */
export async function screenAndStart(page: Page, patientRef: string, side?: ScreeningAnswers['side']): Promise<void> {
  await answerScreening(page, { patientRef, ...(side === undefined ? {} : { side }) });
  await button(page, 'Submit screening').click();
  await explained(page, 'the electrode check after the screening', () => page.getByRole('heading', { name: 'Electrode check' }).waitFor({ timeout: UI_WAIT_MS }));
  await button(page, 'Start').click();
  await button(page.getByRole('dialog', { name: 'Start output?' }), 'Start output').click();
  await waitText(outputStatus(page), /^OUTPUT ON/);
}

/** After a stop: clear the latch and begin a new session; waits for the protocol step. */
export async function clearAndNewSession(page: Page): Promise<void> {
  await button(page, 'Clear stop').click();
  await page.getByRole('heading', { name: /Emergency stop latched/ }).waitFor({ state: 'detached', timeout: UI_WAIT_MS });
  await button(page, 'New session').click();
  await page.getByRole('heading', { name: 'Choose the protocol' }).waitFor({ timeout: UI_WAIT_MS });
}
