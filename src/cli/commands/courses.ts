// `edn courses ...`: list courses, start one from a protocol's schedule, complete or stop one,
// add a note, and rebuild the course store from the session journals.
import { rebuildFromJournals, type CourseDetail } from '../../course/index.js';
import { describeSchedule } from '../../domain/protocols/index.js';
import { type Command, EXIT, UsageError, parse, write } from '../command.js';
import { DATA_DIR_HELP, dataDirOf, openStore, resolveProtocol } from './course-common.js';

const usage = `Usage: edn courses [--patient REF] [--json] [--data-dir DIR]
       edn courses start --patient REF --protocol ID|FILE [--planned N] [--interval-days N]
                         [--start YYYY-MM-DD] [--indication TEXT] [--note TEXT] [--data-dir DIR]
       edn courses complete COURSE [--data-dir DIR]
       edn courses stop COURSE --reason TEXT [--data-dir DIR]
       edn courses note COURSE --text TEXT [--data-dir DIR]
       edn courses rebuild [--data-dir DIR]

Treatment courses: a patient, an indication, a protocol, the planned number of sessions and the
days between them (from the protocol's schedule unless given), a start date, and a status
(planned, active, completed, stopped with a reason).

  (no action)  the courses, newest first: sessions done of planned, next due date, status
  start        start a course (the patient must exist: edn patients add REF)
  complete     mark a course completed
  stop         stop a course, saying why
  note         add a clinician's note to a course
  rebuild      rebuild the course store from the session journals (after a damaged store): the
               old file is moved aside, never deleted

Options:
  --patient REF        the patient (pseudonymous reference)
  --protocol ID|FILE   a built-in protocol, one of yours (DIR/protocols/ID.json) or a file
  --planned N          planned number of sessions (default: the protocol's schedule)
  --interval-days N    days from one session to the next (default: the protocol's schedule)
  --start YYYY-MM-DD   start date (default: today, UTC)
  --json               JSON instead of text (one object per line)
${DATA_DIR_HELP}

Exit codes: 0 done, 1 refused (unknown patient or course, no planned schedule, invalid value,
store locked or damaged), 2 usage.`;

function line(c: CourseDetail): string {
  const next = c.nextDue ? `, next due ${c.nextDue}` : '';
  const why = c.statusReason ? ` (${c.statusReason})` : '';
  return `${c.id}  ${c.patientRef}  ${c.protocol.id}  ${c.sessionsDone}/${c.plannedSessions} sessions every ${c.intervalDays} days from ${c.startDate}${next}  ${c.status}${why}`;
}

export const coursesCommand: Command = {
  name: 'courses',
  usage,
  async run(argv, io) {
    const { values, positionals } = parse(argv, {
      patient: { type: 'string' },
      protocol: { type: 'string' },
      planned: { type: 'string' },
      'interval-days': { type: 'string' },
      start: { type: 'string' },
      indication: { type: 'string' },
      note: { type: 'string' },
      reason: { type: 'string' },
      text: { type: 'string' },
      json: { type: 'boolean' },
      'data-dir': { type: 'string' },
    });
    const dataDir = dataDirOf(values['data-dir'], io);
    const [action, ...rest] = positionals;
    const out = (value: unknown, text: string) => write(io.stdout, values.json ? JSON.stringify(value) : text);
    const refuse = (message: string) => {
      write(io.stderr, `edn courses: ${message}`);
      return EXIT.failed;
    };

    if (action === 'rebuild') {
      if (rest.length > 0) throw new UsageError('edn courses rebuild takes no argument');
      const r = rebuildFromJournals(dataDir);
      if (!r.ok) return refuse(r.error.message);
      r.store.close();
      const rep = r.report;
      out(rep, [
        ...rep.movedAside.map((f) => `moved the old store aside: ${f}`),
        `rebuilt from ${rep.journals} journals: ${rep.sessions} course sessions, ${rep.courses} courses, ${rep.patients} patients (${rep.withoutCourse} sessions outside any course)`,
        ...rep.skipped.map((s) => `skipped ${s.file}: ${s.reason}`),
      ].join('\n'));
      return rep.skipped.length > 0 ? EXIT.failed : EXIT.ok;
    }

    if (action === 'start') {
      if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
      if (!values.patient) throw new UsageError('--patient REF is required');
      if (!values.protocol) throw new UsageError('--protocol ID|FILE is required');
      const planned = wholeNumber(values.planned, '--planned');
      const interval = wholeNumber(values['interval-days'], '--interval-days');
      const protocol = await resolveProtocol('courses', values.protocol, dataDir, io);
      if (!protocol) return EXIT.failed;
      const store = openStore('courses', dataDir, io);
      if (!store) return EXIT.failed;
      try {
        const r = store.startCourse({
          patientRef: values.patient,
          protocol,
          ...(planned === undefined ? {} : { plannedSessions: planned }),
          ...(interval === undefined ? {} : { intervalDays: interval }),
          ...(values.start === undefined ? {} : { startDate: values.start }),
          ...(values.indication === undefined ? {} : { indication: values.indication }),
          ...(values.note === undefined ? {} : { note: values.note }),
        });
        if (!r.ok) return refuse(r.error.message);
        const from = planned === undefined && interval === undefined && protocol.schedule ? ` (the protocol's schedule: ${describeSchedule(protocol.schedule)})` : '';
        out(r.value, `started course ${r.value.id} for ${r.value.patientRef}: ${protocol.name}, ${r.value.plannedSessions} sessions every ${r.value.intervalDays} days from ${r.value.startDate}${from}`);
        return EXIT.ok;
      } finally {
        store.close();
      }
    }

    if (action === 'complete' || action === 'stop' || action === 'note') {
      if (rest.length !== 1) throw new UsageError(`give the course: edn courses ${action} COURSE`);
      if (action === 'stop' && !values.reason) throw new UsageError('--reason TEXT is required: say why the course is stopped');
      if (action === 'note' && !values.text) throw new UsageError('--text TEXT is required');
      const store = openStore('courses', dataDir, io);
      if (!store) return EXIT.failed;
      try {
        const r = action === 'note' ? store.addNote(rest[0]!, values.text!) : store.setStatus(rest[0]!, action === 'stop' ? 'stopped' : 'completed', values.reason);
        if (!r.ok) return refuse(r.error.message);
        out(r.value, line(r.value));
        return EXIT.ok;
      } finally {
        store.close();
      }
    }

    if (action !== undefined) throw new UsageError(`unknown action '${action}' (start, complete, stop, note, rebuild)`);
    const store = openStore('courses', dataDir, io);
    if (!store) return EXIT.failed;
    try {
      if (values.patient !== undefined && !store.getPatient(values.patient)) return refuse(`no patient ${values.patient}`);
      const list = store.listCourses(values.patient);
      if (values.json) for (const c of list) write(io.stdout, JSON.stringify(c));
      else write(io.stdout, list.length === 0 ? 'no courses yet (edn courses start --patient REF --protocol ID)' : list.map(line).join('\n'));
      return EXIT.ok;
    } finally {
      store.close();
    }
  },
};

function wholeNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value)) throw new UsageError(`${flag} must be a whole number, not '${value}'`);
  return Number(value);
}

