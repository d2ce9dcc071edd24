/**
 * The app open in Chromium on a test host: the start every end-to-end suite shares. A fresh host
 * (src/web on the simulator, a throw-away data directory), Debian's Chromium, one context with the
 * suite's options, and a page on the Device screen. Page errors and console errors are collected
 * in `problems` (none is expected; the suites that check it assert it is empty).
 */
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { type TestHost, startTestHost } from './web-host.js';

export interface AppPage {
  readonly host: TestHost;
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
  readonly problems: string[];
  /** Another page of the same context, on the app (a second window), its problems collected too. */
  openPage(ready?: (page: Page) => Promise<void>): Promise<Page>;
  close(): Promise<void>;
}

/** Collect a page's errors and console errors into `problems`. */
export function watchProblems(page: Page, problems: string[]): void {
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
}

const onDeviceScreen = (page: Page): Promise<void> => page.getByRole('heading', { name: 'Device', level: 1 }).waitFor({ timeout: 30_000 });

/**
 * `beforeOpen` runs once the host is up and before the browser starts (save a test protocol into
 * its data directory, say).
 */
export async function openApp(options: { readonly context?: BrowserContextOptions; readonly beforeOpen?: (host: TestHost) => void | Promise<void> } = {}): Promise<AppPage> {
  const host = await startTestHost();
  let browser: Browser | undefined;
  try {
    await options.beforeOpen?.(host);
    browser = await launchChromium();
    const context = await browser.newContext(options.context ?? {});
    const problems: string[] = [];
    const openPage = async (ready: (page: Page) => Promise<void> = onDeviceScreen): Promise<Page> => {
      const page = await context.newPage();
      watchProblems(page, problems);
      await page.goto(host.url);
      await ready(page);
      return page;
    };
    const page = await openPage();
    const b = browser;
    return {
      host,
      browser: b,
      context,
      page,
      problems,
      openPage,
      async close() {
        await context.close();
        await b.close();
        await host.close();
      },
    };
  } catch (e) {
    await browser?.close();
    await host.close();
    throw e;
  }
}
