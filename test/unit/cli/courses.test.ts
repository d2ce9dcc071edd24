/**
 * `edn patients`, `edn courses` and `edn course-report` on a temp data directory: add patients,
 * start a course from the knee protocol's schedule, run sessions into it (the store API and real
 * journals, as `edn run --course` will), write the report in every format, and survive a damaged
 * store with a clear error and `edn courses rebuild`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { CourseStore, STORE_FILE } from '../../../src/course/index.js';
import { KNEE, writeCourseSession } from '../../fixtures/course/course-session.js';
import { memoryIO } from './memory-io.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'edn-cli-course-'));
  dirs.push(d);
  return d;
}

async function edn(dataDir: string, ...args: string[]) {
  const io = memoryIO(dataDir);
  const code = await main([...args, '--data-dir', dataDir], io);
  return { code, out: io.stdout.text, err: io.stderr.text };
}

/** Sessions of a course, as a session of the course records itself. */
function runSessions(dataDir: string, courseId: string, nprs: readonly [number, number][]): void {
  const opened = CourseStore.open(dataDir);
  if (!opened.ok) throw opened.error;
  try {
    nprs.forEach(([before, after], i) => {
      const sessionId = `S-CLI-${i + 1}`;
      const wallStartMs = Date.UTC(2025, 2, 14 + 4 * i, 9, 30);
      const file = path.join(dataDir, 'sessions', `${new Date(wallStartMs).toISOString().replace(/[-:]/g, '').slice(0, 15)}Z-${sessionId}.jsonl`);
      const began = opened.store.beginSession(courseId, sessionId, file, KNEE);
      if (!began.ok) throw new Error(began.error.message);
      writeCourseSession(dataDir, { sessionId, patientRef: 'PT-0042', course: began.value.record, wallStartMs, nprsBefore: before, nprsAfter: after, adverse: i === 1 ? [{ kind: 'bruising', severity: 'mild' }] : [] });
      if (!opened.store.recordSession(file).ok) throw new Error('record');
    });
  } finally {
    opened.store.close();
  }
}

describe('edn patients', () => {
  it('adds and lists pseudonymous patients; a name is refused with the reason', async () => {
    const dir = tempDir();
    expect(await edn(dir, 'patients', 'add', 'PT-0042', '--label', 'knee')).toMatchObject({ code: 0, out: 'added patient PT-0042 (knee)\n' });
    const refused = await edn(dir, 'patients', 'add', 'Jane');
    expect(refused.code).toBe(1);
    expect(refused.err).toBe('edn patients: "Jane" looks like a name (it has no digit): use a pseudonymous code such as "PT-0042": 3-32 letters, digits and dashes, never a name, e-mail address, phone number or date\n');
    const list = await edn(dir, 'patients', '--json');
    expect(list.out.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([{ ref: 'PT-0042', labels: ['knee'], createdAt: expect.any(String) as unknown, courses: 0 }]);
    expect((await edn(dir, 'patients', 'remove', 'PT-0042')).code).toBe(2);
  });
});

describe('edn courses and edn course-report', () => {
  it('a course from the knee schedule, its sessions, and its report in every format', async () => {
    const dir = tempDir();
    await edn(dir, 'patients', 'add', 'PT-0042');
    const started = await edn(dir, 'courses', 'start', '--patient', 'PT-0042', '--protocol', 'knee-oa-periosteal', '--start', '2025-03-14');
    expect(started.code).toBe(0);
    expect(started.out).toMatch(/^started course C20250314-[0-9A-Z]{6} for PT-0042: Periosteal EDN for knee osteoarthritis, 10 sessions every 4 days from 2025-03-14 \(the protocol's schedule: 10 sessions, every 4 days, over 6 weeks/);
    const id = /course (C\S+)/.exec(started.out)![1]!;
    runSessions(dir, id, [
      [7, 5],
      [6, 4],
      [4, 2],
    ]);
    expect((await edn(dir, 'courses', '--patient', 'PT-0042')).out).toBe(`${id}  PT-0042  knee-oa-periosteal  3/10 sessions every 4 days from 2025-03-14, next due 2025-03-26  active\n`);

    const md = await edn(dir, 'course-report', id);
    expect(md.code).toBe(0);
    expect(md.out).toContain('| 2 | 2025-03-18 09:30 UTC | not recorded | 6 → 4 |');
    expect(md.out).toContain('improved by 3 points (MCID 2: clinically important)');
    for (const format of ['html', 'json', 'csv', 'fhir']) {
      const out = path.join(dir, `report.${format}`);
      const r = await edn(dir, 'course-report', id, '--format', format, '--out', out);
      expect(r, format).toMatchObject({ code: 0, out: '', err: '' });
      const text = fs.readFileSync(out, 'utf8');
      if (format === 'html') expect(text).toMatch(/^<!doctype html>/);
      if (format === 'json') expect((JSON.parse(text) as { sessions: unknown[] }).sessions).toHaveLength(3);
      if (format === 'csv') expect(text.split('\r\n')).toHaveLength(5);
      if (format === 'fhir') expect((JSON.parse(text) as { resourceType: string }).resourceType).toBe('Bundle');
    }
    expect(await edn(dir, 'courses', 'stop', id)).toMatchObject({ code: 2 });
    expect((await edn(dir, 'courses', 'stop', id, '--reason', 'pain resolved')).out).toContain('stopped (pain resolved)');
    expect(await edn(dir, 'course-report', 'C20990101-XXXXXX')).toMatchObject({ code: 1, err: 'edn course-report: no course C20990101-XXXXXX (see edn courses)\n' });
    expect((await edn(dir, 'course-report', id, '--format', 'pdf')).code).toBe(2);
  });

  it('a protocol without a planned schedule needs --planned and --interval-days', async () => {
    const dir = tempDir();
    await edn(dir, 'patients', 'add', 'PT-0042');
    const file = path.join(dir, 'weekly.json');
    const source = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../fixtures/protocols/valid/base.json'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(file, JSON.stringify({ ...source, schedule: 'weekly' }));
    const refused = await edn(dir, 'courses', 'start', '--patient', 'PT-0042', '--protocol', file);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/has no planned schedule: give the planned number of sessions and the interval in days/);
    expect((await edn(dir, 'courses', 'start', '--patient', 'PT-0042', '--protocol', file, '--planned', '6', '--interval-days', '7')).code).toBe(0);
    expect((await edn(dir, 'courses', 'start', '--patient', 'PT-0042', '--protocol', file, '--planned', 'six')).code).toBe(2);
  });

  it('a damaged store: a clear error that names the fix, then rebuild from the journals', async () => {
    const dir = tempDir();
    await edn(dir, 'patients', 'add', 'PT-0042');
    const id = /course (C\S+)/.exec((await edn(dir, 'courses', 'start', '--patient', 'PT-0042', '--protocol', 'knee-oa-periosteal', '--start', '2025-03-14')).out)![1]!;
    runSessions(dir, id, [
      [7, 5],
      [6, 4],
    ]);
    fs.writeFileSync(path.join(dir, STORE_FILE), 'garbage '.repeat(1000));
    const broken = await edn(dir, 'course-report', id);
    expect(broken.code).toBe(1);
    expect(broken.err).toMatch(/is not a readable course store .*Nothing was changed\. The session journals hold every session: rebuild the store from them with "edn courses rebuild"/);
    const rebuilt = await edn(dir, 'courses', 'rebuild');
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.out).toMatch(/moved the old store aside: .*courses\.db\.damaged-\d{8}T\d{6}Z\nrebuilt from 2 journals: 2 course sessions, 1 courses, 1 patients \(0 sessions outside any course\)\n/);
    const md = await edn(dir, 'course-report', id);
    expect(md.code).toBe(0);
    expect(md.out).toContain('| 2 | 2025-03-18 09:30 UTC | not recorded | 6 → 4 |');
  });

  it('every command has --help', async () => {
    for (const name of ['patients', 'courses', 'course-report']) {
      const io = memoryIO(tempDir());
      expect(await main([name, '--help'], io)).toBe(0);
      expect(io.stdout.text).toMatch(new RegExp(`^Usage: edn ${name}`));
      expect(io.stdout.text).toContain('--data-dir DIR');
    }
  });
});
