/**
 * Issue 16 section 6 and issue 13 section 2 (the chart), in Debian's Chromium on the browser host
 * and the simulator: a running knee session (two channels) is paused, left paused for a while,
 * and resumed; the series the live chart plotted (its `data-plotted`, what uPlot was given) is
 * read around the pause. Telemetry stops while output is off, and the measured line spans gaps, so
 * without the off marks the last sample before the pause would be joined to the first after it: a
 * diagonal ramp, a dose never delivered. Here every plotted point from the pause to the resume
 * must read exactly 0 mA (not a gap the line would span), the pause must be marked (a band, and in
 * the caption's words), and the y axis title must be page text that fits its box.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { type AppPage, openApp } from './support/app-page.js';
import type { TestHost } from './support/web-host.js';
import { connectSimulator, UI_WAIT_MS, button, outputStatus, screenAndStart, useForSession, waitText } from './support/ui.js';
import { settled, textOverflowProblems } from './support/layout-check.js';

const KNEE = 'Periosteal EDN for knee osteoarthritis';

let app: AppPage;
let host: TestHost;
let page: Page;

interface Plotted {
  readonly columns: (number | null)[][];
  readonly marks: { pauses: { from: number; to?: number }[]; phases: { t: number; label: string }[] };
}

async function plotted(): Promise<Plotted> {
  return page.evaluate(() => {
    const plot = document.querySelector<HTMLElement>('.live-chart .plot');
    return {
      columns: JSON.parse(plot?.dataset.plotted ?? '[[]]') as (number | null)[][],
      marks: JSON.parse(plot?.dataset.marks ?? '{"pauses":[],"phases":[]}') as Plotted['marks'],
    };
  });
}

/** Rows whose measured amplitude on every channel is above 0 (the output is on and delivering). */
function deliveringTimes(p: Plotted): number[] {
  const [x = [], ...rest] = p.columns;
  const measured = rest.filter((_c, i) => i % 2 === 0);
  return x.flatMap((t, i) => (t !== null && measured.length > 0 && measured.every((m) => (m[i] ?? 0) > 0) ? [t] : []));
}

beforeAll(async () => {
  app = await openApp({ context: { viewport: { width: 1280, height: 800 }, reducedMotion: 'reduce' } });
  ({ host, page } = app);
  await connectSimulator(page);
}, 90_000);

afterAll(async () => {
  await app?.close();
}, 60_000);

describe('the live chart draws a pause as off, and marks it (issue 16 s6)', () => {
  it('paused and resumed: every plotted point of the pause is 0 mA on both channels, the pause is a band and in the caption', async () => {
    await useForSession(page, KNEE);
    await screenAndStart(page, 'PT-0042');
    // Delivering for a while first, so that the line has somewhere to drop from.
    await expect.poll(async () => deliveringTimes(await plotted()).length, { timeout: UI_WAIT_MS }).toBeGreaterThanOrEqual(5);

    await button(page, 'Pause').click();
    await waitText(page.locator('.run-state'), /^Paused$/);
    await expect.poll(async () => (await plotted()).marks.pauses, { timeout: UI_WAIT_MS }).toHaveLength(1);
    // Paused for a few of the controller's pings to the page (no telemetry comes meanwhile), so
    // the gap is many sample periods long.
    const pings = host.liveness().pings;
    await expect.poll(() => host.liveness().pings, { timeout: UI_WAIT_MS }).toBeGreaterThanOrEqual(pings + 3);

    await button(page, 'Resume').click();
    await waitText(outputStatus(page), /^OUTPUT ON/);
    // Delivering again after the resume.
    await expect
      .poll(
        async () => {
          const p = await plotted();
          const to = p.marks.pauses[0]?.to;
          return to === undefined ? 0 : deliveringTimes(p).filter((t) => t > to).length;
        },
        { timeout: UI_WAIT_MS },
      )
      .toBeGreaterThanOrEqual(3);

    const p = await plotted();
    const band = p.marks.pauses[0];
    expect(band?.to).toBeDefined();
    const from = band?.from ?? 0;
    const to = band?.to ?? 0;
    expect(to - from).toBeGreaterThan(0.5);
    const [x = [], ...rest] = p.columns;
    for (const [c, measured] of rest.entries()) {
      if (c % 2 !== 0) continue;
      const channel = c / 2 + 1;
      const delivered = x.flatMap((t, i) => (t !== null && (measured[i] ?? 0) > 0 ? [i] : []));
      const lastBefore = delivered.filter((i) => (x[i] ?? 0) < from).at(-1) ?? -1;
      const firstAfter = delivered.find((i) => (x[i] ?? 0) > to) ?? -1;
      expect({ channel, lastBefore: lastBefore >= 0, firstAfter: firstAfter >= 0 }).toEqual({ channel, lastBefore: true, firstAfter: true });
      // The line drops where the pause begins: the last delivered value is within a sample period
      // or two of it (a diagonal would start from the last sample however long ago it came).
      expect(x[lastBefore] ?? 0).toBeGreaterThanOrEqual(from - 0.5);
      // Between the last delivered sample before the pause and the first one after it, the line
      // reads 0 wherever it has a value.
      const between = x.flatMap((_t, i) => (i > lastBefore && i < firstAfter ? [i] : []));
      expect({ channel, values: between.map((i) => measured[i]).filter((v) => v !== null) }).toEqual({ channel, values: between.filter((i) => measured[i] !== null).map(() => 0) });
      // The output's off and on are points of their own (0 mA, no target: no sample came), and
      // from the off to the on every point has its 0: a null there would be spanned by the line,
      // the diagonal. (Around them a row holding only the other channel's sample is spanned
      // while this channel is on: the drop or the rise itself.)
      const target = rest[c + 1] ?? [];
      const marks = between.filter((i) => measured[i] === 0 && target[i] === null);
      const off = marks[0] ?? -1;
      const on = marks.at(-1) ?? -1;
      expect(marks.length).toBeGreaterThanOrEqual(2);
      expect({ channel, offToOn: between.filter((i) => i >= off && i <= on).map((i) => measured[i]) }).toEqual({ channel, offToOn: between.filter((i) => i >= off && i <= on).map(() => 0) });
      // They bracket the pause, and the drop to the off is steep.
      expect(x[off] ?? Number.NaN).toBeLessThanOrEqual(from + 0.2);
      expect((x[off] ?? Number.NaN) - (x[lastBefore] ?? Number.NaN)).toBeLessThanOrEqual(0.5);
      expect(x[on] ?? Number.NaN).toBeGreaterThanOrEqual(to - 0.2);
    }
    // In words too: the chart is an image to a screen reader.
    await waitText(page.locator('.live-chart .chart-marks'), /^Marked: paused [0-9.]+–[0-9.]+ s \(output off\)\.$/);
  }, 90_000);

  it('the y axis title is page text that fits its box (it was cut when drawn on the canvas)', async () => {
    const chart = page.locator('.live-chart');
    await chart.scrollIntoViewIfNeeded();
    await settled(page);
    expect(await chart.locator('.axis-title').allTextContents()).toEqual(['Amplitude (mA)']);
    expect(await textOverflowProblems(page, '.live-chart', ['.axis-title'])).toEqual([]);
    // The y title sits over the plot's left edge, above it, inside the chart's box.
    const boxes = await page.evaluate(() => {
      const r = (sel: string) => document.querySelector(sel)?.getBoundingClientRect().toJSON() as DOMRect | undefined;
      return { title: r('.live-chart .axis-title-y'), plot: r('.live-chart .plot'), fig: r('.live-chart') };
    });
    expect(boxes.title && boxes.plot && boxes.fig).toBeTruthy();
    if (boxes.title && boxes.plot && boxes.fig) {
      expect(boxes.title.bottom).toBeLessThanOrEqual(boxes.plot.top + 0.5);
      expect(boxes.title.left).toBeGreaterThanOrEqual(boxes.fig.left - 0.5);
      expect(boxes.title.right).toBeLessThanOrEqual(boxes.fig.right + 0.5);
    }
    await button(page, 'Stop session').click();
    await waitText(page.locator('.ended'), /Session stopped/);
    expect(app.problems).toEqual([]);
    expect(host.logs).toEqual([]);
  }, 45_000);
});
