/**
 * axe-core (Deque's accessibility engine, a devDependency) run in the page against WCAG 2.2 A and
 * AA. Its source is injected into every frame (the session report is an iframe) through the
 * DevTools protocol, which the page's Content-Security-Policy does not govern, so the app is
 * audited under its real CSP; the report's iframe is audited as a document of its own. Returns the serious and critical violations, one line each with the
 * rule, its help text and the elements (the state's name first), and how many minor or moderate
 * ones there were.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Frame, Page } from 'playwright-core';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** WCAG 2.0, 2.1 and 2.2, levels A and AA (axe's tags). */
export const WCAG22_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];

interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: readonly { readonly target: readonly unknown[] }[];
}

export interface AxeOutcome {
  /** Serious and critical violations: "state: rule (impact) help: elements". */
  readonly serious: string[];
  /** Minor and moderate violations, by rule id. */
  readonly lesser: string[];
}

async function runAxe(frame: Frame): Promise<AxeViolation[]> {
  if (!(await frame.evaluate(() => 'axe' in window))) await frame.evaluate(AXE_SOURCE);
  return frame.evaluate(async (tags) => {
    const axe = (window as unknown as { axe: { run(ctx: Document, options: object): Promise<{ violations: AxeViolation[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'], iframes: false });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target.map(String) })) }));
  }, WCAG22_AA);
}

export async function axeAudit(page: Page, state: string): Promise<AxeOutcome> {
  const violations: (AxeViolation & { frame: string })[] = [];
  violations.push(...(await runAxe(page.mainFrame())).map((v) => ({ ...v, frame: '' })));
  // The report's iframe is sandboxed without scripts: axe cannot run inside it (its timers never
  // fire there), so its document as it stands is audited in a page of its own, the way the
  // exported report is read.
  for (const frame of page.frames()) {
    if (frame === page.mainFrame() || frame.isDetached()) continue;
    const name = (await frame.frameElement().then((el) => el.getAttribute('class')).catch(() => null)) ?? frame.url();
    const html = await frame.content();
    const alone = await page.context().newPage();
    try {
      await alone.setContent(html);
      violations.push(...(await runAxe(alone.mainFrame())).map((v) => ({ ...v, frame: `frame ${name} > ` })));
    } finally {
      await alone.close();
    }
  }
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  return {
    serious: serious.map((v) => `${state}: ${v.id} (${v.impact ?? ''}) ${v.help}: ${v.nodes.map((n) => v.frame + n.target.join(' > ')).join(', ')}`),
    lesser: violations.filter((v) => !serious.includes(v)).map((v) => `${state}: ${v.frame}${v.id}`),
  };
}
