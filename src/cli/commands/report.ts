// `edn report JOURNAL [--format html|md|json] [--out FILE]`: the report of one session journal.
import * as path from 'node:path';
import { writeFileAtomic } from '../../app/store.js';
import { readJournal } from '../../session/journal.js';
import { REPORT_FORMATS, type ReportFormat, buildReport, renderReport } from '../../session/report.js';
import { type CliIO, type Command, EXIT, UsageError, parse, write } from '../command.js';

const usage = `Usage: edn report JOURNAL [--format md|html|json] [--out FILE]

Writes the report of one session journal (a .jsonl file in <data-dir>/sessions/): patient
reference, clinician, protocol with its content hash and sources, device, screening, an
amplitude-over-time chart (HTML), stimulation time, per-channel maximum and mean amplitude and
delivered charge, events, end reason and aftercare advice.

Options:
  --format FMT   md (default), html (self-contained, prints on A4 and Letter) or json
  --out FILE     write the report to FILE (readable by you only, mode 0600) instead of
                 standard output

The journal's hash chain is verified. A journal whose last line was torn by a crash is reported
normally (with a note). A journal with edited, inserted, deleted or moved records, or invalid
lines, is still reported as far as it can be read, with a warning at the top of the report.

Exit codes: 0 the report was written from an intact journal (a torn last line allowed);
1 the journal cannot be read or is not a journal (nothing written), or it is damaged (the
report is written with a warning); 2 usage error.`;

export const reportCommand: Command = {
  name: 'report',
  usage,
  run(argv: readonly string[], io: CliIO): Promise<number> {
    return Promise.resolve(run(argv, io));
  },
};

function run(argv: readonly string[], io: CliIO): number {
  const { values, positionals } = parse(argv, {
    format: { type: 'string' },
    out: { type: 'string' },
  });
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'give the journal file to report on' : 'give exactly one journal file');
  const format = values.format ?? 'md';
  if (!isFormat(format)) throw new UsageError(`--format must be one of ${REPORT_FORMATS.join(', ')}, not '${format}'`);
  const journalPath = path.resolve(io.cwd, positionals[0]!);
  const outPath = values.out === undefined ? undefined : path.resolve(io.cwd, values.out);
  if (outPath !== undefined && outPath === journalPath) throw new UsageError('--out must not be the journal itself');

  const read = readJournal({ path: journalPath });
  const unreadable = read.problems.find((p) => p.kind === 'unreadable' || p.kind === 'internal');
  if (unreadable) {
    write(io.stderr, `edn report: ${unreadable.message}`);
    return EXIT.failed;
  }
  if (read.records.length === 0) {
    const why = read.problems[0]?.message ?? (read.truncatedTail ? 'its only line is torn' : 'the file is empty');
    write(io.stderr, `edn report: ${journalPath} is not a session journal: no valid record could be read (${why})`);
    return EXIT.failed;
  }
  if (!read.records.some((r) => r.type === 'session-start') && read.problems.length > 0) {
    write(io.stderr, `edn report: ${journalPath} is not a session journal: it has no valid session-start record (${read.problems[0]!.message})`);
    return EXIT.failed;
  }

  const report = buildReport(read);
  const text = renderReport(report, format);
  if (outPath === undefined) io.stdout.write(text);
  else {
    try {
      // A report identifies a session of a patient: readable by its owner only (0600), like the
      // journals, also when it replaces an older file with wider permissions (written beside it
      // and renamed over it).
      writeFileAtomic(outPath, text);
    } catch (e) {
      write(io.stderr, `edn report: cannot write ${outPath}: ${e instanceof Error ? e.message : String(e)}`);
      return EXIT.failed;
    }
  }
  for (const notice of report.integrity.notices) write(io.stderr, `edn report: ${report.integrity.damaged ? 'WARNING' : 'note'}: ${notice}`);
  return read.ok ? EXIT.ok : EXIT.failed;
}

function isFormat(value: string): value is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(value);
}
