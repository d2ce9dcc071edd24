// `edn course-report COURSE [--format html|md|json|csv|fhir] [--out FILE]`: the report of a course
// (from the course store and the session journals), or its CSV or FHIR R4 export.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  COURSE_REPORT_FORMATS,
  type CourseReportFormat,
  buildCourseReport,
  loadInstruments,
  renderCourseCsv,
  renderCourseFhir,
  renderCourseHtml,
  renderCourseJson,
  renderCourseMarkdown,
} from '../../course/index.js';
import { type Command, EXIT, UsageError, parse, write } from '../command.js';
import { DATA_DIR_HELP, dataDirOf, openStore } from './course-common.js';

const usage = `Usage: edn course-report COURSE [--format md|html|json|csv|fhir] [--out FILE] [--data-dir DIR]

The report of a treatment course, made from the course store and the session journals alone (so it
can be made again at any time): the course summary (patient reference, indication, protocol and its
content hash, sessions done of planned, next due date), each session's line (date, NPRS before and
after, maximum amplitude and delivered charge per channel, adverse effects, stops and alarms), the
outcome changes against their MCID, the adverse events and the aftercare advice. Every journal is
read again and checked; a missing, changed or damaged journal is said at the top.

Options:
  --format FMT   md (default), html (self-contained, prints on A4 and Letter; PDF from the
                 browser's print), json (the report model), csv (one row per session, for
                 spreadsheets) or fhir (a FHIR R4 Bundle, JSON)
  --out FILE     write to FILE instead of standard output
${DATA_DIR_HELP}

Exit codes: 0 written; 1 no such course, store locked or damaged, or written with a notice (a
journal missing, changed or damaged); 2 usage.`;

export const courseReportCommand: Command = {
  name: 'course-report',
  usage,
  run(argv, io) {
    const { values, positionals } = parse(argv, { format: { type: 'string' }, out: { type: 'string' }, 'data-dir': { type: 'string' } });
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'give the course id (see edn courses)' : 'give exactly one course');
    const format = values.format ?? 'md';
    if (!(COURSE_REPORT_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${COURSE_REPORT_FORMATS.join(', ')}, not '${format}'`);
    const dataDir = dataDirOf(values['data-dir'], io);
    const store = openStore('course-report', dataDir, io);
    if (!store) return Promise.resolve(EXIT.failed);
    let text: string;
    let notices: readonly string[];
    try {
      const course = store.getCourse(positionals[0]!);
      if (!course) {
        write(io.stderr, `edn course-report: no course ${positionals[0]!} (see edn courses)`);
        return Promise.resolve(EXIT.failed);
      }
      const instruments = loadInstruments(dataDir);
      for (const p of instruments.problems) write(io.stderr, `edn course-report: instrument file skipped:\n  ${p.errors.join('\n  ')}`);
      const report = buildCourseReport(dataDir, course, instruments);
      notices = report.notices;
      const f = format as CourseReportFormat;
      text =
        f === 'html'
          ? renderCourseHtml(report)
          : f === 'json'
            ? renderCourseJson(report)
            : f === 'csv'
              ? renderCourseCsv(report)
              : f === 'fhir'
                ? `${JSON.stringify(renderCourseFhir(report, instruments), null, 2)}\n`
                : renderCourseMarkdown(report);
    } finally {
      store.close();
    }
    if (values.out === undefined) io.stdout.write(text);
    else {
      const out = path.resolve(io.cwd, values.out);
      try {
        fs.writeFileSync(out, text, 'utf8');
      } catch (e) {
        write(io.stderr, `edn course-report: cannot write ${out}: ${e instanceof Error ? e.message : String(e)}`);
        return Promise.resolve(EXIT.failed);
      }
    }
    for (const n of notices) write(io.stderr, `edn course-report: note: ${n}`);
    return Promise.resolve(notices.length > 0 ? EXIT.failed : EXIT.ok);
  },
};
