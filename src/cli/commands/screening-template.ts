// `edn screening-template [--protocol ID|FILE]`: prints a screening answers file with every answer
// null. Null means unanswered, and an unanswered question blocks the start.
import { PATIENT_QUESTIONS, PREGNANCY_QUESTION, PREGNANCY_REGIONS, SITE_QUESTIONS, type Question, screeningTemplate } from '../../domain/index.js';
import { type Command, EXIT, UsageError, parse, write } from '../command.js';
import { humanReport, loadProtocolArg } from './validate.js';

function questionLines(questions: Readonly<Record<string, Question>>): string[] {
  return Object.entries(questions).map(([id, q]) => `  ${id.padEnd(26)} ${q.severity.padEnd(8)} ${q.text}`);
}

const USAGE = [
  'Usage: edn screening-template [--protocol ID|FILE]',
  '',
  'Prints a screening answers file (edn-screening/1) with every answer null. Fill in true or',
  'false for each; null means unanswered and blocks the start. With --protocol the file names the',
  'protocol and lists its treated sites (region and side), each with its own questions.',
  '',
  'absolute: a "true" blocks the start. relative: a "true" needs a clinician\'s acknowledgement.',
  '',
  'answers (once per patient):',
  ...questionLines(PATIENT_QUESTIONS),
  `  ${'pregnancy'.padEnd(26)} ${PREGNANCY_QUESTION.severity.padEnd(8)} ${PREGNANCY_QUESTION.text} (asked when a site is on the ${PREGNANCY_REGIONS.join(', ')})`,
  'sites[] (once per treated site):',
  ...questionLines(SITE_QUESTIONS),
  '',
  'patientRef is pseudonymous: a code such as "PT-0042" (by default 1-4 capital letters, a dash and',
  '1-6 digits; a clinic may set its own rule, "patientRef" in <data-dir>/settings.json), never a name,',
  'e-mail, phone number or date. notes must not hold any of those either. Fields that are not part of',
  'the format are dropped with a warning and never recorded.',
].join('\n');

export const screeningTemplateCommand: Command = {
  name: 'screening-template',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parse(argv, { protocol: { type: 'string' } });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (values.protocol === undefined) {
      write(io.stdout, JSON.stringify(screeningTemplate(), null, 2));
      return EXIT.ok;
    }
    const loaded = await loadProtocolArg(values.protocol, io);
    if ('unknown' in loaded) {
      write(io.stderr, `edn screening-template: no built-in protocol "${values.protocol}" (see edn protocols)`);
      return EXIT.failed;
    }
    if (!loaded.result.ok) {
      write(io.stderr, humanReport(loaded).join('\n'));
      return EXIT.failed;
    }
    write(io.stdout, JSON.stringify(screeningTemplate(loaded.result.protocol), null, 2));
    return EXIT.ok;
  },
};
