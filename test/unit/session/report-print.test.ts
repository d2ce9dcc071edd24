/**
 * The HTML report laid out by a real browser (Debian's chromium, headless) in a viewport as wide
 * as the printable width of A4 (210 mm - 2 x 15 mm margins = 180 mm = 680 px at 96 dpi; Letter's
 * is wider): no element may stick out, even with long unbroken words from the journal.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openJournal, readJournal } from '../../../src/session/journal.js';
import { buildReport, renderReport } from '../../../src/session/report.js';
import { ManualClock, sessionStart } from '../../fixtures/journals/helpers.js';
import { writeKneeSession } from '../../fixtures/journals/knee-session.js';

const run = promisify(execFile);
const A4_PRINTABLE_PX = 680;
const CHROMIUM = ['chromium', 'chromium-browser', 'google-chrome'].map((name) => ({ name, at: whichSync(name) })).find((c) => c.at !== undefined);

function whichSync(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Measures layout in the page and leaves the result in an attribute for --dump-dom. */
const PROBE = `<script>
const limit = window.innerWidth;
const over = [];
for (const el of document.querySelectorAll('body *')) {
  const r = el.getBoundingClientRect();
  if (r.width > 0 && (r.right > limit + 0.5 || r.left < -0.5)) over.push(el.tagName + ':' + Math.round(r.left) + '-' + Math.round(r.right));
}
document.body.setAttribute('data-probe', btoa(JSON.stringify({ limit, scrollWidth: document.documentElement.scrollWidth, over: over.slice(0, 10) })));
</script>`;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edn-print-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function layout(html: string, name: string): Promise<{ limit: number; scrollWidth: number; over: string[] }> {
  if (!CHROMIUM) throw new Error('chromium is needed for this test (Debian: apt-get install chromium)');
  const file = path.join(dir, `${name}.html`);
  fs.writeFileSync(file, html.replace('</body>', `${PROBE}</body>`));
  const { stdout } = await run(
    CHROMIUM.at!,
    ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', `--user-data-dir=${path.join(dir, `profile-${name}`)}`, `--window-size=${A4_PRINTABLE_PX},1200`, '--dump-dom', `file://${file}`],
    { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
  );
  const probe = /data-probe="([A-Za-z0-9+/=]+)"/.exec(stdout)?.[1];
  if (!probe) throw new Error(`the page did not report its layout:\n${stdout.slice(0, 500)}`);
  return JSON.parse(Buffer.from(probe, 'base64').toString('utf8')) as { limit: number; scrollWidth: number; over: string[] };
}

describe('HTML report in a browser at the A4 printable width', () => {
  it('the knee session report fits', async () => {
    const { journal } = writeKneeSession(dir);
    const html = renderReport(buildReport(readJournal({ path: journal.path })), 'html');
    const result = await layout(html, 'knee');
    expect(result.limit).toBeLessThanOrEqual(A4_PRINTABLE_PX);
    expect(result.over).toEqual([]);
    expect(result.scrollWidth).toBeLessThanOrEqual(result.limit);
  }, 90_000);

  it('a report full of long unbroken words still fits', async () => {
    const long = 'x'.repeat(400);
    const w = (n: number) => long.slice(0, n);
    const j = openJournal({ dataDir: dir, sessionId: 'LONG-WORDS', clock: new ManualClock() });
    const base = sessionStart({ sessionId: 'LONG-WORDS' });
    const screening = base.screening;
    j.append(
      'session-start',
      sessionStart({
        sessionId: 'LONG-WORDS',
        protocol: {
          ...base.protocol,
          name: w(200),
          indication: w(300),
          aftercare: long,
          sources: [{ key: 'K', citation: long, verified: [w(120)], unverified: [w(120)] }],
          phases: [{ ...base.protocol.phases[0]!, name: w(80) }],
          channels: [{ channel: 1, region: w(40), side: w(20), sites: [w(120)] }],
        },
        screening: {
          ...screening,
          answers: { ...screening.answers, answers: { ...screening.answers.answers, [w(100)]: false } },
          findings: [{ id: 'x', path: w(200), kind: 'relative', message: long, source: w(500) }],
          acknowledgements: [{ id: 'x', by: w(64), at: w(64) }],
        },
      }),
    );
    j.append('note', { text: long });
    j.append('fault', { code: 'OPEN', message: long });
    j.close();
    const result = await layout(renderReport(buildReport(readJournal({ path: j.path })), 'html'), 'long');
    expect(result.over).toEqual([]);
    expect(result.scrollWidth).toBeLessThanOrEqual(result.limit);
  }, 90_000);
});
