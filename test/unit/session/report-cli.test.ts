// `edn report JOURNAL [--format html|md|json] [--out FILE]`, run through the CLI dispatcher with
// captured output streams.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../../src/cli/command.js';
import { main } from '../../../src/cli/main.js';
import { writeKneeSession } from '../../fixtures/journals/knee-session.js';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

let dir: string;
let journal: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edn-report-cli-'));
  journal = writeKneeSession(dir).journal.path;
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function edn(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Sink();
  const stderr = new Sink();
  const io: CliIO = { stdout, stderr, cwd: dir, env: {} };
  const code = await main(argv, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

function copyWith(name: string, edit: (text: string) => string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, edit(fs.readFileSync(journal, 'utf8')));
  return file;
}

describe('edn report', () => {
  it('is listed in edn --help and has its own --help', async () => {
    expect((await edn('--help')).stdout).toMatch(/^\s+report\s+write the report of a session journal/m);
    const help = await edn('report', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: edn report JOURNAL [--format md|html|json] [--out FILE]');
  });

  it('writes Markdown to stdout by default (paths relative to the working directory)', async () => {
    const r = await edn('report', path.relative(dir, journal));
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^# Electrical dry needling session\n/);
    expect(r.stdout).toContain('- **Patient reference:** `KNEE-0042`');
  });

  it('writes HTML or JSON to a file with --out', async () => {
    const html = await edn('report', journal, '--format', 'html', '--out', 'knee.html');
    expect(html).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(fs.readFileSync(path.join(dir, 'knee.html'), 'utf8')).toMatch(/^<!doctype html>/);
    const json = await edn('report', journal, '--format', 'json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ format: 'edn-session-report/1', session: { patientRef: 'KNEE-0042' } });
  });

  it('writes --out readable by its owner only (0600, like the journals), also over an older 0644 file', async () => {
    const fresh = await edn('report', journal, '--out', 'private.md');
    expect(fresh.code).toBe(0);
    expect(fs.statSync(path.join(dir, 'private.md')).mode & 0o777).toBe(0o600);
    const older = path.join(dir, 'older.md');
    fs.writeFileSync(older, 'an old report', { mode: 0o644 });
    fs.chmodSync(older, 0o644);
    expect((await edn('report', journal, '--out', 'older.md')).code).toBe(0);
    expect(fs.statSync(older).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(older, 'utf8')).toMatch(/^# Electrical dry needling session/);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('exits 1 with a clear message for a journal it cannot read or that is not a journal', async () => {
    const missing = await edn('report', 'nope.jsonl');
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toMatch(/^edn report: cannot read .*nope\.jsonl: ENOENT/);
    fs.writeFileSync(path.join(dir, 'empty.jsonl'), '');
    expect((await edn('report', 'empty.jsonl')).stderr).toMatch(/empty\.jsonl is not a session journal: no valid record could be read \(the file is empty\)/);
    fs.writeFileSync(path.join(dir, 'other.jsonl'), '{"hello":"world"}\n[1,2]\n');
    const other = await edn('report', 'other.jsonl');
    expect(other).toMatchObject({ code: 1, stdout: '' });
    expect(other.stderr).toMatch(/other\.jsonl is not a session journal: no valid record could be read \(line 1 is not a valid record/);
    expect((await edn('report', dir)).code).toBe(1);
    const named = copyWith('named.jsonl', (t) => t.replace('"patientRef":"KNEE-0042"', '"patientRef":"Jane Doe"'));
    const noStart = await edn('report', named);
    expect(noStart).toMatchObject({ code: 1, stdout: '' });
    expect(noStart.stderr).toMatch(/named\.jsonl is not a session journal: it has no valid session-start record \(line 1 is not a valid record: data\.patientRef: "Jane Doe" is not a pseudonymous reference/);
  });

  it('still renders a broken journal, with the warning in the report and on stderr, and exits 1', async () => {
    const edited = copyWith('edited.jsonl', (t) => t.replace('Patient reported a calf cramp', 'Patient reported nothing'));
    const r = await edn('report', edited);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('> **WARNING: this record is damaged or incomplete.**');
    expect(r.stdout).toContain('Note: Patient reported nothing');
    expect(r.stderr).toMatch(/^edn report: WARNING: The journal's hash chain is broken/);
  });

  it('reports a journal torn by a crash normally (exit 0) with a note', async () => {
    const torn = copyWith('torn.jsonl', (t) => `${t}{"n":1748,"t":73`);
    const r = await edn('report', torn);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('> **Note on this record:**');
    expect(r.stderr).toMatch(/^edn report: note: The journal's last line is torn \(16 bytes\)/);
  });

  it('refuses bad usage with exit 2', async () => {
    expect((await edn('report')).code).toBe(2);
    expect((await edn('report', 'a', 'b')).code).toBe(2);
    const format = await edn('report', journal, '--format', 'pdf');
    expect(format.code).toBe(2);
    expect(format.stderr).toContain("--format must be one of md, html, json, not 'pdf'");
    expect((await edn('report', journal, '--bogus')).code).toBe(2);
    const self = await edn('report', journal, '--out', journal);
    expect(self.code).toBe(2);
    expect(self.stderr).toContain('--out must not be the journal itself');
  });
});
