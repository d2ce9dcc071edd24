// Issue 9 item 13 in the report: only a built-in version's "verified" values carry the ✓ mark;
// any other protocol's (a user's copy, a file that kept a built-in's name) are its author's claim.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JournalReadResult, readJournal } from '../../../src/session/journal.js';
import { buildReport, renderReport } from '../../../src/session/report.js';
import { writeKneeSession } from '../../fixtures/journals/knee-session.js';

let dir: string;
let read: JournalReadResult;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edn-report-verified-'));
  read = readJournal({ path: writeKneeSession(dir).journal.path });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The same journal as if the session had run another version of the protocol (another hash). */
function asOtherVersion(r: JournalReadResult): JournalReadResult {
  const records = r.records.map((rec) => (rec.type === 'session-start' ? { ...rec, data: { ...rec.data, protocol: { ...rec.data.protocol, hash: 'e'.repeat(64) } } } : rec));
  return { ...r, records };
}

describe('the report presents "verified"', () => {
  it('with the verified mark for the built-in version', () => {
    const report = buildReport(read);
    expect(report.protocol?.verification).toBe('library');
    expect(renderReport(report, 'md')).toContain('✓ Indication: verified against DUNNING2018KNEE');
    expect(renderReport(report, 'html')).toContain('<div class="verified">✓ Indication: verified against DUNNING2018KNEE');
  });

  it('as the author\'s claim for any other version, even under the built-in\'s id and name', () => {
    const report = buildReport(asOtherVersion(read));
    expect(report.protocol).toMatchObject({ id: 'knee-oa-periosteal', name: 'Periosteal EDN for knee osteoarthritis', verification: 'author' });
    const md = renderReport(report, 'md');
    const html = renderReport(report, 'html');
    expect(md).toContain("Indication: checked against DUNNING2018KNEE by its author's account (not reviewed for the built-in library)");
    expect(md).not.toMatch(/(?<!not )verified against DUNNING2018KNEE/);
    expect(md).not.toContain('✓');
    expect(html).toContain('<div class="claimed">Indication: checked against DUNNING2018KNEE by its author&#39;s account');
    expect(html).not.toContain('✓');
    expect(JSON.parse(renderReport(report, 'json'))).toMatchObject({ protocol: { verification: 'author' } });
  });
});
