import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JournalReadResult, openJournal, readJournal } from '../../../src/session/journal.js';
import { escapeHtml } from '../../../src/session/report-html.js';
import { escapeMarkdown } from '../../../src/session/report-md.js';
import { type SessionReport, buildReport, formatDuration, formatElapsed, renderReport } from '../../../src/session/report.js';
import { niceStep } from '../../../src/session/svg-chart.js';
import { EXAMPLES, ManualClock, MemoryFs, SESSION_ID, sessionStart } from '../../fixtures/journals/helpers.js';
import { KNEE_NOTE, KNEE_PROTOCOL, type KneeExpected, writeKneeSession } from '../../fixtures/journals/knee-session.js';

const SMALL = path.join(import.meta.dirname, '../../fixtures/journals/small-session.jsonl');

let dir: string;
let kneePath: string;
let expected: KneeExpected;
let knee: JournalReadResult;
let report: SessionReport;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edn-report-'));
  const written = writeKneeSession(dir);
  kneePath = written.journal.path;
  expected = written.expected;
  knee = readJournal({ path: kneePath });
  report = buildReport(knee);
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The journal's lines, changed by `edit`, written to a new file and read back. */
function variant(name: string, edit: (lines: string[]) => string[], tail = ''): JournalReadResult {
  const lines = fs.readFileSync(kneePath, 'utf8').split('\n').slice(0, -1);
  const file = path.join(dir, `${name}.jsonl`);
  fs.writeFileSync(file, edit(lines).map((l) => `${l}\n`).join('') + tail);
  return readJournal({ path: file });
}

describe('the 20-minute knee session (generated with the journal writer)', () => {
  it('reads back intact', () => {
    expect(knee).toMatchObject({ ok: true, chainIntact: true, truncatedTail: null });
    expect(knee.records).toHaveLength(expected.records);
    expect(report.integrity).toMatchObject({ checked: true, records: expected.records, chainIntact: true, complete: true, notices: [], damaged: false });
  });

  it('says who, when and with what', () => {
    expect(report.session).toEqual({
      sessionId: 'S20250314-0930-KNEE',
      patientRef: 'KNEE-0042',
      clinician: 'JD',
      // A journal from before the side was asked (no "side"): it reads back as recorded, and says so.
      treatedSide: null,
      treatedSideText: 'not recorded (this journal is from before the side was asked; its channels read "affected")',
      startedIso: '2025-03-14T09:30:00.000Z',
      endedIso: '2025-03-14T09:51:01.000Z',
      durationS: expected.sessionDurationS,
      appVersion: '0.1.0',
    });
    expect(report.protocol).toMatchObject({ id: KNEE_PROTOCOL.id, name: KNEE_PROTOCOL.name, hash: KNEE_PROTOCOL.hash, electrode: 'needle 0.3 mm x 40 mm inserted' });
    expect(report.protocol!.sources.map((s) => [s.key, s.verified, s.unverified])).toEqual(KNEE_PROTOCOL.sources.map((s) => [s.key, s.verified, s.unverified]));
    expect(report.device).toMatchObject({ model: 'EDN-SIM', serial: 'SIM-000123', firmware: '1.0.0', bootId: '5A3C91F0', transport: 'simulator' });
    expect(report.screening!.status).toBe('cleared');
    expect(report.screening!.acknowledged).toEqual([
      { finding: expect.stringMatching(/^relative contraindication: needling carries a bleeding risk/) as string, by: 'JD', at: '2025-03-14T09:29:41.000Z' },
    ]);
    expect(report.screening!.answers).toContainEqual({ question: 'Does the patient have a bleeding disorder, or take anticoagulant or antithrombotic medication?', answer: 'yes' });
    expect(report.screening!.answers).toContainEqual({ question: 'knee (affected side): Is there an active infection at this site?', answer: 'no' });
    expect(report.electrodeCheck).toEqual([
      { channel: 1, impedanceOhm: 1480, ok: true, reason: null },
      { channel: 2, impedanceOhm: 1620, ok: true, reason: null },
    ]);
    expect(report.aftercare).toBe(KNEE_PROTOCOL.aftercare);
    expect(report.end).toEqual({ reason: 'completed', detail: null, finalState: 'completed' });
  });

  it('computes stimulation time, and per channel output time, max, mean and charge, from the records', () => {
    expect(report.stimulation).toMatchObject({ totalS: 1200, plannedS: 1200, basis: 'session-end' });
    expect(report.stimulation.phases).toEqual([
      { index: 0, name: 'periosteal EDN', plannedS: 1200, stimulationS: 1200, parameters: '2 Hz continuous, 250 µs per phase, biphasic-symmetric, up to 10 mA, ramp 0.5 mA/s' },
    ]);
    for (const ch of [1, 2] as const) {
      const got = report.channels.find((c) => c.channel === ch)!;
      const want = expected.channels[ch];
      expect(got.basis).toBe('measured');
      expect(got.outputS).toBe(want.outputS);
      expect(got.maxMa).toBe(want.maxMa);
      expect(got.chargeUc).toBeCloseTo(want.chargeUc, 6);
      // The mean comes from the 1 s summaries (each rounded to 1 µA), not the raw samples.
      expect(Math.abs(got.meanMa! - want.meanMa)).toBeLessThan(0.001);
      expect(got.region).toBe('knee');
    }
    expect(report.channels.find((c) => c.channel === 1)!.maxMa).toBe(4.5);
    expect(report.channels.find((c) => c.channel === 2)!.maxMa).toBe(4);
  });

  it('lists the events in time order with session-elapsed time, without commands, acks, amplitude steps or telemetry', () => {
    const at = (text: RegExp) => report.events.find((e) => text.test(e.text))?.atS;
    expect(at(/^Running → paused/)).toBe(expected.pauseAtS);
    expect(at(/^Paused → ramping/)).toBe(expected.resumeAtS);
    expect(at(/^Note: /)).toBe(expected.noteAtS);
    expect(report.events.find((e) => e.kind === 'note')!.text).toBe(`Note: ${KNEE_NOTE}`);
    expect(at(/^Titration \+0\.5 mA on channel 1: target 4\.5 mA$/)).toBe(300);
    expect(at(/^Titration -0\.5 mA on channel 2: target 3\.5 mA$/)).toBe(360);
    expect(at(/^Alarm A1 acknowledged by JD/)).toBe(4);
    expect(report.events.filter((e) => e.kind === 'warning')).toHaveLength(1);
    expect(report.events.filter((e) => e.kind === 'alarm')).toHaveLength(1);
    expect(report.events[report.events.length - 1]!.text).toBe('Session ended: completed');
    const times = report.events.map((e) => e.atS);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(report.events.map((e) => e.kind))).not.toContain('command');
    expect(report.events.length).toBeLessThan(30);
  });

  it('charts one line per channel: ramp, titration, a flat 0 through the pause', () => {
    const { chart } = report;
    expect(chart.series.map((s) => s.channel)).toEqual([1, 2]);
    expect(chart.pauses).toEqual([{ fromMin: 10, toMin: 11 }]);
    expect(chart.durationMin).toBeCloseTo(1261 / 60, 3);
    expect(chart.maxMa).toBe(10); // the protocol's maximum, so the headroom shows
    for (const s of chart.series) {
      const xs = s.points.map(([x]) => x);
      expect(xs).toEqual([...xs].sort((a, b) => a - b));
      const inPause = s.points.filter(([x]) => x > 10 && x < 11);
      expect(inPause).toEqual([]);
      expect(s.points.filter(([x]) => x === 10).map(([, y]) => y)).toContain(0);
      expect(Math.max(...s.points.map(([, y]) => y))).toBeLessThanOrEqual(expected.channels[s.channel as 1 | 2].maxMa);
      expect(s.points[s.points.length - 1]).toEqual([chart.durationMin, 0]);
    }
    const ch1 = chart.series[0]!.points;
    expect(ch1.find(([x]) => x > 7 && x < 9)?.[1]).toBe(4.5);
  });

  it('renders every section in Markdown, HTML and JSON', () => {
    const md = renderReport(report, 'md');
    for (const h of ['# Electrical dry needling session', '## Patient and session', '## Protocol', '### Sources', '## Device', '## Screening', '### Electrode check', '## Amplitude over time', '## Stimulation delivered', '### Per channel', '## Events', '## End of session', '## Aftercare']) {
      expect(md).toContain(`\n${h}\n`.slice(h.startsWith('# ') ? 1 : 0));
    }
    expect(md).toContain('- **Patient reference:** `KNEE-0042`');
    expect(md).toContain(`- **Content hash:** \`${KNEE_PROTOCOL.hash}\``);
    // The evidence in words under each source, never the field paths.
    expect(md).toContain('  - ✓ Indication: verified against DUNNING2018KNEE\n');
    expect(md).toContain('  - ⚠ Frequency 2 Hz, pulse width 250 µs per phase, duration 20 min: defaults you confirm; not verified against DUNNING2018KNEE\n');
    // The record keeps no schedule: named, without a value.
    expect(md).toContain('  - ✓ Schedule: verified against NCT05365061\n');
    expect(md).toMatch(/\n- ⚠ Waveform symmetric biphasic, maximum amplitude \d+ mA, .*: defaults you confirm; no source is given for them\n/);
    expect(md.split('## Device')[0]).not.toMatch(/phases\[\d\]|frequencyHz/);
    expect(md).toContain('Total stimulation time **20 min** of 20 min planned.');
    expect(md).toMatch(/\| 1 \| knee \(affected side\): medial tibial plateau \(periosteum\); medial femoral condyle \(periosteum\) \| 20 min \| 4\.5 mA \| 4\.35 mA \| 2607\.4 µC \|/);
    expect(md).toContain('| 10:30 | 09:40:30 | Note: Patient reported a calf cramp; needles checked, all in place. |');
    expect(md).toContain('| 10–11 | 0 | 0 |');
    expect(md).toContain('hash chain intact');

    const html = renderReport(report, 'html');
    for (const h of ['Patient and session', 'Protocol', 'Sources', 'Device', 'Screening', 'Electrode check', 'Amplitude over time', 'Stimulation delivered', 'Per channel', 'Events', 'End of session', 'Aftercare']) {
      expect(html).toMatch(new RegExp(`<h[23]>${h}</h[23]>`));
    }
    expect(html.match(/<polyline /g)).toHaveLength(2);
    expect(html).toContain('amplitude (mA)');
    expect(html).toContain('time since session start (min)');
    expect(html).toContain('4.35 mA');
    expect(html).toContain('2607.4 µC');
    expect(html).toContain('<div class="unverified">⚠ Frequency 2 Hz, pulse width 250 µs per phase, duration 20 min: defaults you confirm; not verified against DUNNING2018KNEE</div>');
    expect(html).toContain('<div class="verified">✓ Indication: verified against DUNNING2018KNEE</div>');
    expect(html).not.toContain('<code>phases[');
    expect(html).not.toContain('role="alert"');

    const json = JSON.parse(renderReport(report, 'json')) as SessionReport;
    expect(json).toEqual(JSON.parse(JSON.stringify(report)));
    expect(json.format).toBe('edn-session-report/1');
  });
});

describe('H32 the treated side in the report', () => {
  /** The knee session as if the side had been chosen: `side` added to its session-start record. */
  function withSide(side: 'left' | 'right' | 'bilateral'): SessionReport {
    const read = variant(`side-${side}`, (lines) =>
      lines.map((l, i) => {
        if (i !== 0) return l;
        const rec = JSON.parse(l) as { data: Record<string, unknown> };
        rec.data['side'] = side;
        return JSON.stringify(rec);
      }),
    );
    return buildReport(read);
  }

  it('names the right knee, never "affected": the session, each channel, the site questions, in HTML and Markdown', () => {
    const r = withSide('right');
    expect(r.session).toMatchObject({ treatedSide: 'right', treatedSideText: 'right' });
    expect(r.channels.map((c) => [c.channel, c.region, c.side])).toEqual([
      [1, 'knee', 'right'],
      [2, 'knee', 'right'],
    ]);
    expect(r.screening!.answers).toContainEqual({ question: 'right knee: Is there an active infection at this site?', answer: 'no' });
    const html = renderReport(r, 'html');
    expect(html).toContain('<dt>Treated side</dt><dd>right</dd>');
    expect(html).toContain('right knee: medial tibial plateau (periosteum); medial femoral condyle (periosteum)');
    expect(html).not.toMatch(/affected/);
    const md = renderReport(r, 'md');
    expect(md).toContain('- **Treated side:** right');
    expect(md).toMatch(/\| 2 \| right knee: lateral tibial plateau \(periosteum\); lateral femoral condyle \(periosteum\) \|/);
    expect(md).not.toMatch(/affected/);
  });

  it('bilateral: the first half of the affected channels on the left, the second on the right', () => {
    const r = withSide('bilateral');
    expect(r.session.treatedSideText).toBe('both sides (bilateral)');
    expect(r.channels.map((c) => c.side)).toEqual(['left', 'right']);
    expect(r.screening!.answers).toContainEqual({ question: 'knee (both sides): Is there an active infection at this site?', answer: 'no' });
  });
});

describe('the small hand-written journal', () => {
  const small = buildReport(readJournal({ path: SMALL }));

  it('is intact', () => {
    expect(small.integrity).toMatchObject({ chainIntact: true, records: 17, notices: [] });
  });

  it('gives the numbers worked out by hand', () => {
    // Mean: (1.0 mA x 1 s + 2.0 mA x 29 s + 2.5 mA x 60 s) / 90 s = 209 / 90 = 2.3222 mA.
    expect(small.channels).toEqual([
      { channel: 1, region: 'low-back', side: 'left', sites: ['quadratus lumborum trigger point'], outputS: 90, maxMa: 2.6, meanMa: 2.322, chargeUc: 45, basis: 'measured' },
    ]);
    expect(small.stimulation).toEqual({
      totalS: 90,
      plannedS: 90,
      basis: 'session-end',
      phases: [
        { index: 0, name: 'warm-up', plannedS: 30, stimulationS: 30, parameters: '2 Hz continuous, 250 µs per phase, biphasic-symmetric, up to 5 mA, ramp 1 mA/s' },
        { index: 1, name: 'main', plannedS: 60, stimulationS: 60, parameters: '2/100 Hz dense-disperse, 3 s dwell, 250 µs per phase, biphasic-symmetric, up to 5 mA, ramp 1 mA/s' },
      ],
    });
    expect(small.session.durationS).toBe(91);
    expect(small.chart.phaseMarks).toEqual([{ atMin: 0.5167, name: 'main' }]);
    expect(small.events.map((e) => [formatElapsed(e.atS), e.text])).toEqual([
      ['0:00', 'Session started'],
      ['0:00', 'Screening → checking electrodes'],
      ['0:00', 'Electrode check: channel 1 2.1 kΩ'],
      ['0:01', 'Checking electrodes → ramping'],
      ['0:03', 'Ramping → running'],
      ['0:09', 'Note: Patient comfortable at 2 mA <b>ok</b> | twitch seen'],
      ['0:31', 'Phase 2 "main" began (2/100 Hz dense-disperse, 3 s dwell)'],
      ['0:32', 'Titration +0.5 mA on channel 1: target 2.5 mA'],
      ['1:31', 'Running → ramping down (protocol time elapsed)'],
      ['1:31', 'Ramping down → completed (protocol time elapsed)'],
      ['1:31', 'Session ended: completed'],
    ]);
    expect(small.screening!.acknowledged).toEqual([
      {
        finding: 'relative contraindication: needle phobia; a clinician must acknowledge it before the start [CLINICAL.md: Contraindications; seed article]',
        by: 'S-017',
        at: '2025-01-20T13:58:12.000Z',
      },
    ]);
    expect(small.screening!.answers).toHaveLength(11);
    expect(small.screening!.answers).toContainEqual({ question: 'Is the patient pregnant?', answer: 'no' });
    expect(small.screening!.answers).toContainEqual({ question: 'Does the patient have a needle phobia?', answer: 'yes' });
    expect(small.screening!.answers).toContainEqual({ question: 'left low back: Is there a malignancy at this site?', answer: 'no' });
    expect(renderReport(small, 'md')).toContain('- relative contraindication: needle phobia; a clinician must acknowledge it before the start \\[CLINICAL.md: Contraindications; seed article\\]: acknowledged by S-017 at 2025-01-20 13:58:12 UTC');
  });

  it('escapes journal text in HTML and Markdown', () => {
    const html = renderReport(small, 'html');
    expect(html).toContain('Note: Patient comfortable at 2 mA &lt;b&gt;ok&lt;/b&gt; | twitch seen');
    expect(html).not.toContain('<b>ok');
    expect(html).toContain('Avoid intense activity today.\nNo heat for 30 minutes.</div>');
    const md = renderReport(small, 'md');
    expect(md).toContain('Note: Patient comfortable at 2 mA &lt;b&gt;ok&lt;/b&gt; \\| twitch seen');
    expect(md).toContain('Avoid intense activity today. No heat for 30 minutes.');
  });
});

describe('HTML safety and print layout', () => {
  const hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>&amp;\'"';

  let made = 0;
  function hostileReport(): SessionReport {
    const sessionId = `HOSTILE-${++made}`;
    const j = openJournal({ dataDir: dir, sessionId, clock: new ManualClock() });
    j.append(
      'session-start',
      sessionStart({
        sessionId,
        protocol: { ...sessionStart().protocol, name: hostile, indication: hostile, aftercare: hostile, phases: [{ ...sessionStart().protocol.phases[0]!, name: hostile }] },
      }),
    );
    j.append('note', { text: hostile });
    j.append('fault', { code: 'OPEN', message: hostile, channel: 1 });
    j.append('phase', { index: 1, name: hostile, atS: 1 });
    j.close();
    return buildReport(readJournal({ path: j.path }));
  }

  it('escapes every string from the journal: a note containing <script> stays text', () => {
    const html = renderReport(hostileReport(), 'html');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<[^>]*onerror/);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&amp;amp;&#39;&quot;');
    expect(escapeHtml('<a href="x">&\'')).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;');
  });

  it('escapes every string from the journal in Markdown', () => {
    const md = renderReport(hostileReport(), 'md');
    // Every <, > and & from the journal is an entity, so no raw HTML tag can start in any flavour.
    expect(md).not.toMatch(/<(script|img|\/script)/i);
    expect(md).toContain('Note: &lt;script&gt;alert("x")&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&amp;amp;\'"');
    expect(escapeMarkdown('*a* _b_ [c](d) <e> `f` | # & ~')).toBe('\\*a\\* \\_b\\_ \\[c\\](d) &lt;e&gt; \\`f\\` \\| \\# &amp; \\~');
    expect(escapeMarkdown('- item', true)).toBe('\\- item');
    expect(escapeMarkdown('1. item', true)).toBe('1\\. item');
    expect(escapeMarkdown('line\nbreak')).toBe('line break');
  });

  // Issue 9 item 12: `\<img ...>` is inert only in CommonMark; Markdown.pl and Python-Markdown keep
  // the backslash and pass the tag on as HTML. So no <, > or & from the journal may reach the
  // Markdown as itself: the only '>' left is the renderer's own blockquote marker.
  it('writes no raw <, > or & from a protocol name, a site or a note into the Markdown', () => {
    const hostileTag = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    const sessionId = `HOSTILE-MD-${++made}`;
    const base = sessionStart().protocol;
    const j = openJournal({ dataDir: dir, sessionId, clock: new ManualClock() });
    j.append('session-start', sessionStart({ sessionId, protocol: { ...base, name: `Knee ${hostileTag}`, channels: [{ ...base.channels[0]!, sites: [`medial joint line ${hostileTag} & more`] }] } }));
    j.append('note', { text: `twitch ${hostileTag}` });
    j.close();
    const md = renderReport(buildReport(readJournal({ path: j.path })), 'md');
    expect(md).not.toContain('<');
    expect(md).not.toMatch(/&(?!lt;|gt;|amp;)/);
    for (const l of md.split('\n')) expect(l.replace(/^> /, '')).not.toContain('>');
    const inert = '&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;';
    expect(md).toContain(`- **Name:** Knee ${inert}`);
    expect(md).toContain(`medial joint line ${inert} &amp; more`);
    expect(md).toContain(`Note: twitch ${inert}`);
  });

  it('is self-contained: no scripts, no external resources, no links', () => {
    const html = renderReport(report, 'html');
    expect(html).not.toMatch(/<script|<link|<iframe|<object|<embed|<img|@import|url\(|\bsrc=|\bhref=|https?:|javascript:/i);
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(html).toContain('<meta charset="utf-8">');
  });

  it('is laid out for A4 and Letter: page margins, nothing wider than the A4 printable width', () => {
    const html = renderReport(report, 'html');
    expect(html).toContain('@page { size: auto; margin: 15mm; }');
    expect(html).toContain('body { max-width: 180mm;');
    const widths = [...html.matchAll(/width:\s*(\d+(?:\.\d+)?)mm/g)].map((m) => Number(m[1]));
    expect(widths.length).toBeGreaterThan(0);
    for (const w of widths) expect(w).toBeLessThanOrEqual(180);
    expect(html).not.toMatch(/width:\s*\d+px/);
    expect(html).toMatch(/<svg viewBox="0 0 \d+ \d+" width="100%"/);
    expect(html).toContain('table-layout: fixed');
  });
});

describe('a damaged or incomplete journal', () => {
  it('says at the top when the chain is broken, and still shows what it could read', () => {
    let at = -1;
    const read = variant('edited', (lines) => {
      at = lines.findIndex((l) => l.includes('"type":"ack"'));
      return lines.map((l, i) => (i === at ? l.replace('"ok":true', '"ok":false') : l));
    });
    expect(at).toBeGreaterThan(0);
    expect(read.chainIntact).toBe(false);
    const r = buildReport(read);
    expect(r.integrity.damaged).toBe(true);
    expect(r.integrity.notices[0]).toMatch(new RegExp(`^The journal's hash chain is broken \\(1 place\\).*First at line ${at + 1}: line ${at + 1} was changed after it was written`));
    const md = renderReport(r, 'md');
    expect(md.split('\n').slice(0, 8).join('\n')).toContain('> **WARNING: this record is damaged or incomplete.**');
    expect(md).toContain('hash chain BROKEN');
    const html = renderReport(r, 'html');
    expect(html.indexOf('role="alert"')).toBeLessThan(html.indexOf('<h2>Patient and session</h2>'));
    expect(r.stimulation.totalS).toBe(1200);
  });

  it('says when the last line was torn, without calling the record damaged', () => {
    const read = variant('torn', (lines) => lines, '{"n":99999,"t":1');
    const r = buildReport(read);
    expect(r.integrity).toMatchObject({ damaged: false, truncatedTail: { bytes: 16, recovered: false } });
    expect(r.integrity.notices).toEqual([expect.stringMatching(/last line is torn \(16 bytes\)/) as string]);
    expect(renderReport(r, 'md')).toContain('> **Note on this record:**');
  });

  it('computes stimulation time from the state changes when the session never ended (a crash at the pause)', () => {
    const read = variant('crashed', (lines) => lines.slice(0, lines.findIndex((l) => l.includes('"to":"paused"')) + 1));
    const r = buildReport(read);
    expect(r.end).toBeNull();
    expect(r.integrity.complete).toBe(false);
    expect(r.integrity.notices.join(' ')).toMatch(/no session-end record/);
    expect(r.stimulation).toMatchObject({ basis: 'computed', totalS: 599 });
    expect(r.stimulation.phases[0]!.stimulationS).toBe(599);
    expect(renderReport(r, 'md')).toContain('**No end record**: the session did not end normally.');
  });

  it('says when it was built from bare records (nothing to verify the chain with)', () => {
    const r = buildReport(knee.records);
    expect(r.integrity).toMatchObject({ checked: false, chainIntact: null, path: null });
    expect(r.integrity.notices[0]).toMatch(/not checked/);
    expect(r.channels).toEqual(report.channels);
  });

  it('reports a journal without a session-start as far as it goes', () => {
    const j = openJournal({ dataDir: dir, sessionId: SESSION_ID, clock: new ManualClock() });
    j.append('amplitude', { channel: 3, targetMa: 2, commandedMa: 2, cause: 'ramp' });
    j.append('note', { text: 'orphan' });
    j.close();
    const r = buildReport(readJournal({ path: j.path }));
    expect(r.protocol).toBeNull();
    expect(r.integrity.damaged).toBe(true);
    expect(r.channels).toEqual([{ channel: 3, region: null, side: null, sites: [], outputS: 0, maxMa: 2, meanMa: 2, chargeUc: null, basis: 'commanded' }]);
    for (const format of ['md', 'html', 'json'] as const) expect(renderReport(r, format).length).toBeGreaterThan(100);
  });
});

describe('a session stopped by an e-stop', () => {
  it('ends output time and the chart line at the e-stop, and shows the stop as an alarm', () => {
    const clock = new ManualClock(0);
    const j = openJournal({ dataDir: dir, sessionId: 'ESTOP-1', clock });
    j.append('session-start', sessionStart({ sessionId: 'ESTOP-1' }));
    j.append('state', { from: 'checking-electrodes', to: 'ramping' });
    clock.advance(1000);
    j.append('amplitude', { channel: 1, targetMa: 2, commandedMa: 2, cause: 'ramp' });
    clock.advance(4000);
    j.append('estop', { source: 'keyboard', acked: false });
    j.append('state', { from: 'ramping', to: 'stopped', reason: 'emergency stop (keyboard)' });
    j.append('session-end', { reason: 'stopped', detail: 'emergency stop (keyboard)', finalState: 'stopped', stimulationS: 5, phases: [{ index: 0, stimulationS: 5 }] });
    clock.advance(2000);
    j.append('estop', { source: 'keyboard', acked: true });
    j.close();
    const r = buildReport(readJournal({ path: j.path }));
    expect(r.channels[0]).toMatchObject({ channel: 1, outputS: 4, maxMa: 2, meanMa: 2, chargeUc: null, basis: 'commanded' });
    expect(r.chart.series[0]!.points).toEqual([
      [0, 0],
      [0.0167, 0],
      [0.0167, 2],
      [0.0833, 2],
      [0.0833, 0],
      [0.1167, 0],
    ]);
    expect(r.events.filter((e) => e.severity === 'alarm').map((e) => e.text)).toEqual([
      'Emergency stop (keyboard)',
      'Ramping → stopped (emergency stop (keyboard))',
      'Session ended: stopped (emergency stop (keyboard))',
      'Emergency stop confirmed by the device (keyboard)',
    ]);
    expect(r.end).toEqual({ reason: 'stopped', detail: 'emergency stop (keyboard)', finalState: 'stopped' });
    expect(renderReport(r, 'html')).toContain('<tr class="sev-alarm"><td class="mono">0:05</td><td class="mono">09:30:05</td><td>Emergency stop (keyboard)</td></tr>');
  });
});

describe('any valid journal', () => {
  it('builds and renders in every format without throwing, and never lets journal text become HTML', () => {
    const types = Object.keys(EXAMPLES) as (keyof typeof EXAMPLES)[];
    const step = fc.record({
      type: fc.constantFrom(...types),
      dt: fc.nat({ max: 90_000 }),
      text: fc.string({ minLength: 1, maxLength: 40 }),
      ma: fc.double({ min: 0, max: 25, noNaN: true }),
      channel: fc.integer({ min: 1, max: 8 }),
    });
    let run = 0;
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.boolean(), (steps, withStart) => {
        const memory = new MemoryFs();
        const clock = new ManualClock();
        const j = openJournal({ dataDir: '/d', sessionId: `ANY-${++run}`, clock, fs: memory });
        if (withStart) j.append('session-start', sessionStart({ sessionId: `ANY-${run}` }));
        for (const s of steps) {
          clock.advance(s.dt);
          const data =
            s.type === 'note'
              ? { text: `<script>${s.text}` }
              : s.type === 'amplitude'
                ? { channel: s.channel, targetMa: s.ma, commandedMa: s.ma, cause: 'titration' }
                : s.type === 'telemetry'
                  ? { fromT: clock.t - 1000 < 0 ? 0 : clock.t - 1000, toT: clock.t, channels: [{ channel: s.channel, meanMa: s.ma, maxMa: s.ma, impedanceOhm: null, chargeUc: s.ma }] }
                  : s.type === 'fault'
                    ? { code: 'OPEN', message: `<img src=x>${s.text}` }
                    : s.type === 'session-start'
                      ? { text: s.text }
                      : EXAMPLES[s.type];
          if (s.type === 'session-start') j.append('note', data);
          else j.append(s.type, data);
        }
        j.close();
        const r = buildReport(readJournal({ text: memory.text(j.path) }));
        const html = renderReport(r, 'html');
        expect(html).not.toMatch(/<script|<img/i);
        expect(renderReport(r, 'md')).not.toMatch(/<(script|img)/i);
        expect(() => JSON.parse(renderReport(r, 'json')) as unknown).not.toThrow();
        for (const c of r.channels) if (c.maxMa !== null && c.meanMa !== null) expect(c.meanMa).toBeLessThanOrEqual(c.maxMa + 1e-9);
      }),
      { numRuns: 150 },
    );
  });
});

describe('formatting helpers', () => {
  it('formats durations, elapsed times and chart steps', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(1200)).toBe('20 min');
    expect(formatDuration(1261)).toBe('21 min 1 s');
    expect(formatDuration(3725)).toBe('1 h 2 min 5 s');
    expect(formatElapsed(630)).toBe('10:30');
    expect(formatElapsed(3725)).toBe('1:02:05');
    expect([niceStep(21, 10), niceStep(1.5, 10), niceStep(10, 5), niceStep(0, 5)]).toEqual([5, 0.2, 2, 1]);
  });
});
