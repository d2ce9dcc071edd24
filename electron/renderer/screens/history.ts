/**
 * History: past sessions, and a session's report shown in a sandboxed frame (no scripts), exported
 * as a self-contained HTML file or printed (to paper or PDF) through the browser's print dialog.
 *
 * The page's CSP refuses the report's inline styles, so report-model.ts takes them out of the
 * markup and they are applied after the frame loads through the CSSOM (a constructed style sheet
 * and element.style). The frame is sandboxed without scripts; same-origin only so that this page
 * can apply those styles. The exported file is the report exactly as the core wrote it.
 */
import type { CallOutput } from '../../../src/app/contract.js';
import type { AppContext } from '../context.js';
import { h, replaceChildren, setFlag, svgIcon } from '../dom.js';
import { dateTime, duration } from '../../../src/domain/format.js';
import { downloadText } from '../components/download.js';
import { REPORT_STYLE_ATTR, reportFileName, splitReportStyles } from '../report-model.js';

type SessionSummary = CallOutput<'listSessions'>[number];

export class HistoryScreen {
  readonly el: HTMLElement;
  readonly #ctx: AppContext;
  readonly #table = h('div', { class: 'history-table' });
  readonly #viewer = h('section', { class: 'card report-viewer', hidden: true, 'aria-labelledby': 'report-title', tabindex: '-1' });
  #report: { sessionId: string; html: string; intact: boolean } | undefined;

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
    this.el = h(
      'section',
      { class: 'screen screen-history', 'aria-labelledby': 'history-title' },
      h('div', { class: 'screen-head' }, h('h1', { id: 'history-title' }, 'History'), h('button', { type: 'button', class: 'secondary', onclick: () => void this.refresh() }, 'Refresh')),
      this.#viewer,
      this.#table,
    );
    ctx.reportRequests.on((id) => void this.open(id));
  }

  shown(): void {
    void this.refresh();
  }

  async refresh(): Promise<void> {
    const list = await this.#ctx.call('listSessions', {}, 'List sessions');
    if (!list) return;
    const sorted = [...list].sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? ''));
    replaceChildren(
      this.#table,
      sorted.length === 0
        ? h('p', {}, 'No sessions recorded yet.')
        : h(
            'table',
            { class: 'sessions' },
            h('caption', { class: 'sr-only' }, 'Past sessions, newest first'),
            h(
              'thead',
              {},
              h('tr', {}, ['Started', 'Patient', 'Protocol', 'Ended', 'Stimulation', 'Record', ''].map((t) => h('th', { scope: 'col' }, t === '' ? h('span', { class: 'sr-only' }, 'Actions') : t))),
            ),
            h('tbody', {}, sorted.map((s) => this.#row(s))),
          ),
    );
  }

  #row(s: SessionSummary): HTMLElement {
    return h(
      'tr',
      {},
      h('td', {}, dateTime(s.startedAt)),
      h('td', {}, s.patientRef ?? '—'),
      h('td', {}, s.protocolName ?? s.protocolId ?? '—'),
      h('td', {}, s.endReason ?? 'not ended'),
      h('td', { class: 'num' }, s.stimulationS === null ? '—' : duration(s.stimulationS)),
      h('td', { class: 'status' }, s.intact ? [svgIcon('check'), h('span', {}, 'Intact')] : [svgIcon('warning'), h('span', {}, capitalise(s.integrity))]),
      h('td', {}, h('button', { type: 'button', class: 'secondary', 'aria-label': `Open report of ${s.patientRef ?? 'session'} ${dateTime(s.startedAt)}`, onclick: () => void this.open(s.sessionId) }, 'Open report')),
    );
  }

  async open(sessionId: string): Promise<void> {
    const r = await this.#ctx.call('openReport', { sessionId, format: 'html' }, 'Open report');
    if (!r) return;
    this.#report = { sessionId, html: r.content, intact: r.intact };
    const frame = h('iframe', { class: 'report-frame', title: `Session report ${sessionId}`, sandbox: 'allow-same-origin allow-modals' });
    const { html, css } = splitReportStyles(r.content);
    frame.addEventListener('load', () => applyReportStyles(frame, css), { once: true });
    frame.srcdoc = html;
    replaceChildren(
      this.#viewer,
      h(
        'div',
        { class: 'screen-head' },
        h('h2', { id: 'report-title' }, 'Session report'),
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', class: 'primary', onclick: () => this.#export() }, 'Export report (HTML)'),
          h('button', { type: 'button', class: 'secondary', onclick: () => frame.contentWindow?.print() }, 'Print or save as PDF'),
          h('button', { type: 'button', class: 'secondary', onclick: () => this.#close() }, 'Close report'),
        ),
      ),
      r.intact ? null : h('p', { class: 'field-warning' }, svgIcon('warning'), h('span', {}, 'The session record is damaged or incomplete: the report shows what could be read, and says where the record breaks.')),
      frame,
    );
    setFlag(this.#viewer, 'hidden', false);
    this.#viewer.focus();
    this.#viewer.scrollIntoView({ block: 'start' });
  }

  #export(): void {
    if (!this.#report) return;
    downloadText(reportFileName(this.#report.sessionId), this.#report.html, 'text/html');
  }

  #close(): void {
    this.#report = undefined;
    this.#viewer.replaceChildren();
    setFlag(this.#viewer, 'hidden', true);
  }
}

/** Apply the report's styles through the CSSOM (see the file comment). */
function applyReportStyles(frame: HTMLIFrameElement, css: string): void {
  const doc = frame.contentDocument;
  const win = frame.contentWindow as (Window & typeof globalThis) | null;
  if (!doc || !win) return;
  try {
    const sheet = new win.CSSStyleSheet();
    sheet.replaceSync(css);
    doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
  } catch {
    /* a report without its styles is still readable */
  }
  for (const el of doc.querySelectorAll<HTMLElement | SVGElement>(`[${REPORT_STYLE_ATTR}]`)) el.style.cssText = el.getAttribute(REPORT_STYLE_ATTR) ?? '';
  // Fit the frame to the report so the page scrolls, not a box inside it.
  const height = doc.documentElement.scrollHeight;
  if (height > 0) frame.style.height = `${Math.min(height + 32, 20000)}px`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
