import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPORT_STYLE_ATTR, reportFileName, splitReportStyles } from '../../../electron/renderer/report-model.js';
import { readJournal } from '../../../src/session/journal.js';
import { buildReport, renderReport } from '../../../src/session/report.js';

const SMALL = path.join(import.meta.dirname, '../../fixtures/journals/small-session.jsonl');

describe('the report inside the page’s CSP', () => {
  it('takes the <style> blocks and style attributes out of the markup, keeping their values', () => {
    const { html, css } = splitReportStyles(
      '<!doctype html><html><head><style>th { background: #f0f0f0; }</style></head><body><td class="num" style="width:18mm">1</td><p>style="not markup" &lt;style&gt;</p><span style=\'color:red\'></span></body></html>',
    );
    expect(css).toBe('th { background: #f0f0f0; }');
    expect(html).toBe(
      `<!doctype html><html><head></head><body><td class="num" ${REPORT_STYLE_ATTR}="width:18mm">1</td><p>style="not markup" &lt;style&gt;</p><span ${REPORT_STYLE_ATTR}='color:red'></span></body></html>`,
    );
  });

  it('leaves no inline style in a real report, and changes nothing else', () => {
    const report = renderReport(buildReport(readJournal({ path: SMALL })), 'html');
    expect(report).toMatch(/<style>/);
    const { html, css } = splitReportStyles(report);
    expect(html).not.toMatch(/<style\b|\sstyle\s*=/i);
    expect(css).toContain('@page');
    expect(html.replaceAll(REPORT_STYLE_ATTR, 'style').length).toBe(report.length - css.length - '<style></style>'.length);
  });

  it('names exported files after the session, safely', () => {
    expect(reportFileName('2025-01-20T135800Z-ab12')).toBe('edn-session-2025-01-20T135800Z-ab12.html');
    expect(reportFileName('../x y')).toBe('edn-session-.._x_y.html');
  });
});
