/**
 * Layout checks run in the page: the running-session elements a clinician must see without
 * scrolling (their boxes inside the viewport, the document not scrollable), and text that does
 * not fit its box. Each returns one line per problem, naming the element, so a failure says what
 * to fix.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';

/**
 * Where the e2e screenshots go: EDN_E2E_ARTIFACTS if set, else a fresh directory under the
 * system temp dir (never the working tree; other engineers run the suite at the same time).
 */
export function artifactsDir(name: string): string {
  const root = process.env.EDN_E2E_ARTIFACTS;
  return root ? path.join(root, name) : mkdtempSync(path.join(tmpdir(), `edn-e2e-${name}-`));
}

/** Wait for two animation frames: resize observers and the chart have laid out. */
export async function settled(page: Page): Promise<void> {
  await page.evaluate(() => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))));
}

/**
 * What the running session must show on one screen (issue 13 section 1): a name and a selector
 * each, per channel card where it says so. Every match must be visible and inside the viewport.
 */
export const RUNNING_ESSENTIALS: readonly { readonly name: string; readonly selector: string; readonly perCard?: true }[] = [
  { name: 'session state', selector: '.run .run-state' },
  { name: 'phase', selector: '.run .phase-line' },
  { name: 'time remaining', selector: '.run .time-big' },
  { name: 'time detail', selector: '.run .time-detail' },
  { name: 'progress bar', selector: '.run progress' },
  { name: 'channel card', selector: '.channel-card', perCard: true },
  { name: 'measured amplitude', selector: '.channel-card .amp-big', perCard: true },
  { name: 'target amplitude', selector: '.channel-card .amp-target', perCard: true },
  { name: 'OUTPUT ON/OFF', selector: '.channel-card .output-badge', perCard: true },
  { name: 'impedance', selector: '.channel-card .impedance', perCard: true },
  { name: 'titration buttons', selector: '.run .titrate' },
  { name: 'dose line', selector: '.run .target-now' },
  { name: 'pause or resume', selector: '.run .run-controls button:not([hidden])' },
  { name: 'e-stop', selector: 'header .estop' },
  { name: 'header output status', selector: 'header .output-status' },
];

/** Problems with the running session fitting the viewport; `channels` is how many cards to expect. */
export async function runningFitProblems(page: Page, channels: number): Promise<string[]> {
  return page.evaluate(
    ({ essentials, channels }) => {
      const problems: string[] = [];
      const vw = document.documentElement.clientWidth;
      const vh = document.documentElement.clientHeight;
      const doc = document.scrollingElement ?? document.documentElement;
      if (doc.scrollHeight > vh + 0.5) problems.push(`the document scrolls: ${doc.scrollHeight} px tall in a ${vh} px viewport`);
      if (doc.scrollWidth > vw + 0.5) problems.push(`the document scrolls sideways: ${doc.scrollWidth} px wide in a ${vw} px viewport`);
      for (const e of essentials) {
        const els = [...document.querySelectorAll(e.selector)].filter((el) => el.closest('[hidden]') === null);
        const expected = e.perCard ? channels : 1;
        if (els.length < expected) problems.push(`${e.name} (${e.selector}): ${els.length} shown, ${expected} expected`);
        for (const [i, el] of els.entries()) {
          const r = el.getBoundingClientRect();
          const where = `${e.name}${els.length > 1 ? ` #${i + 1}` : ''} (${e.selector})`;
          if (r.width < 1 || r.height < 1) problems.push(`${where} has no size`);
          else if (r.left < -0.5 || r.top < -0.5 || r.right > vw + 0.5 || r.bottom > vh + 0.5) {
            problems.push(`${where} is outside the ${vw}x${vh} viewport: x ${Math.round(r.left)}-${Math.round(r.right)}, y ${Math.round(r.top)}-${Math.round(r.bottom)}`);
          }
        }
      }
      return problems;
    },
    { essentials: RUNNING_ESSENTIALS, channels },
  );
}

/**
 * Text that does not fit its box, within `root` (a selector): every visible element that holds
 * text of its own is checked in the nearest box that lays it out (itself, or its block ancestor
 * for inline elements): wider content than the box (scrollWidth > clientWidth) fails, and so does
 * taller content than the box where the box clips (overflow not visible). Elements that must stay
 * on one line (`singleLine` selectors: pills, amplitudes, button labels) fail when their text
 * wraps onto a second line.
 */
export async function textOverflowProblems(page: Page, root: string, singleLine: readonly string[]): Promise<string[]> {
  return page.evaluate(
    ({ root, singleLine }) => {
      const problems: string[] = [];
      const describe = (el: Element) => {
        const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
        return `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${cls} "${(el.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 50)}"`;
      };
      const shown = (el: Element) => {
        if (el.closest('[hidden], .sr-only, [aria-hidden="true"] .sr-only') !== null) return false;
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
      };
      const layoutBox = (el: Element): Element => {
        let box: Element | null = el;
        while (box && getComputedStyle(box).display.startsWith('inline') && !getComputedStyle(box).display.startsWith('inline-')) box = box.parentElement;
        return box ?? el;
      };
      const checked = new Set<Element>();
      for (const scope of document.querySelectorAll(root)) {
        for (const el of [scope, ...scope.querySelectorAll('*')]) {
          if (!shown(el)) continue;
          const ownText = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && (n.textContent ?? '').trim() !== '');
          if (!ownText) continue;
          const box = layoutBox(el);
          if (checked.has(box)) continue;
          checked.add(box);
          const style = getComputedStyle(box);
          if (box.scrollWidth > box.clientWidth + 1) problems.push(`text wider than its box (${box.scrollWidth} > ${box.clientWidth} px): ${describe(box)}`);
          if (style.overflowY !== 'visible' && box.scrollHeight > box.clientHeight + 1) problems.push(`text taller than its box (${box.scrollHeight} > ${box.clientHeight} px): ${describe(box)}`);
          // A box that fits its text can still stick out of its container (a grid too wide for
          // its card): each ancestor up to the first that clips or scrolls must hold it sideways.
          const r = box.getBoundingClientRect();
          for (let a = box.parentElement; a && a !== document.body; a = a.parentElement) {
            const as = getComputedStyle(a);
            if (as.display === 'contents') continue;
            const ar = a.getBoundingClientRect();
            if (r.right > ar.right + 1 || r.left < ar.left - 1) {
              problems.push(`text sticks out of ${describe(a).split(' ')[0]} (x ${Math.round(r.left)}-${Math.round(r.right)} outside ${Math.round(ar.left)}-${Math.round(ar.right)}): ${describe(box)}`);
              break;
            }
            if (as.overflowX !== 'visible') break;
          }
        }
        for (const selector of singleLine) {
          for (const el of scope.querySelectorAll(selector)) {
            if (!shown(el)) continue;
            const range = document.createRange();
            range.selectNodeContents(el);
            const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top + r.height / 2)));
            // Rects of one line share a middle within a pixel or two (icons and text of other sizes).
            const lines = [...tops].sort((a, b) => a - b).filter((t, i, all) => i === 0 || t - all[i - 1]! > 8).length;
            if (lines > 1) problems.push(`text wraps onto ${lines} lines, one expected (${selector}): ${describe(el)}`);
          }
        }
      }
      return problems;
    },
    { root, singleLine },
  );
}

/** The session screen's elements that must keep their text on one line (the chart's axis titles are page text for this). */
export const SESSION_SINGLE_LINE: readonly string[] = ['.pill', '.output-status', '.estop-label', '.tab', '.run-state', '.time-big', '.amp-big', '.amp-target', '.output-badge', '.titrate-big', '.run-controls button', '.amp-label', '.live-chart .axis-title'];

/** Do the header's status pills sit on one row? Returns a problem or nothing. */
export async function pillsOneRow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const pills = [...document.querySelectorAll('header .pill')].filter((p) => p.getBoundingClientRect().width > 0);
    const tops = new Set(pills.map((p) => Math.round(p.getBoundingClientRect().top)));
    return tops.size > 1 ? [`the header's status pills wrap onto ${tops.size} rows: ${pills.map((p) => `"${p.textContent ?? ''}"`).join(', ')}`] : [];
  });
}
