// `edn patients [--find TEXT] [--json]` and `edn patients add REF [--label L]...`: the patients of
// the course store (pseudonymous references only).
import { type Command, EXIT, UsageError, parse, write } from '../command.js';
import { DATA_DIR_HELP, dataDirOf, openStore } from './course-common.js';

const usage = `Usage: edn patients [--find TEXT] [--json] [--data-dir DIR]
       edn patients add REF [--label LABEL]... [--data-dir DIR]

Lists the patients of the course store, with their labels and number of courses; or adds one.
A patient is a pseudonymous reference such as PT-0042 (3-32 letters, digits and dashes with a
digit): never a name, e-mail address, phone number or date. Labels group patients for the
clinic ("knee", "trial-A"); they never identify anyone.

Options:
  --find TEXT      only references containing TEXT (case-insensitive)
  --label LABEL    a label for the new patient (repeatable)
  --json           one JSON object per patient per line
${DATA_DIR_HELP}

Exit codes: 0 done, 1 refused (invalid reference or label, already exists, store locked or
damaged), 2 usage.`;

export const patientsCommand: Command = {
  name: 'patients',
  usage,
  run(argv, io) {
    const { values, positionals } = parse(argv, {
      find: { type: 'string' },
      label: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      'data-dir': { type: 'string' },
    });
    const [verb, ...rest] = positionals;
    if (verb !== undefined && verb !== 'add') throw new UsageError(`unknown action '${verb}' (only 'add REF')`);
    if (verb === 'add' && rest.length !== 1) throw new UsageError('give exactly one patient reference: edn patients add REF');
    if (verb === undefined && values.label) throw new UsageError('--label is for edn patients add');
    const store = openStore('patients', dataDirOf(values['data-dir'], io), io);
    if (!store) return Promise.resolve(EXIT.failed);
    try {
      if (verb === 'add') {
        const added = store.addPatient(rest[0]!, values.label ?? []);
        if (!added.ok) {
          write(io.stderr, `edn patients: ${added.error.message}`);
          return Promise.resolve(EXIT.failed);
        }
        write(io.stdout, values.json ? JSON.stringify(added.value) : `added patient ${added.value.ref}${added.value.labels.length ? ` (${added.value.labels.join(', ')})` : ''}`);
        return Promise.resolve(EXIT.ok);
      }
      const list = store.listPatients(values.find);
      if (values.json) for (const p of list) write(io.stdout, JSON.stringify(p));
      else if (list.length === 0) write(io.stdout, values.find ? `no patient matches '${values.find}'` : 'no patients yet (edn patients add REF)');
      else {
        const width = Math.max(...list.map((p) => p.ref.length), 9);
        write(io.stdout, [`${'reference'.padEnd(width)}  courses  labels`, ...list.map((p) => `${p.ref.padEnd(width)}  ${String(p.courses).padStart(7)}  ${p.labels.join(', ')}`)].join('\n'));
      }
      return Promise.resolve(EXIT.ok);
    } finally {
      store.close();
    }
  },
};
