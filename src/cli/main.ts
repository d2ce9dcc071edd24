// `edn`: the command line. Dispatches to one subcommand; every subcommand accepts --help.
import { type CliIO, type Command, EXIT, write } from './command.js';
/**
 * A subcommand as `edn --help` lists it. Its module is loaded only when it runs or shows its
 * usage: loading all of them (the protocol schemas, rxjs, the report renderers, the course store)
 * was over half of a warm `edn --help` (issue 10 section 6). In the CLI's bundle each `import()`
 * below is a lazily initialised module, so nothing but this table runs at start.
 */
export interface CommandEntry {
  readonly name: string;
  /** One line, shown in `edn --help`. */
  readonly summary: string;
  load(): Promise<Command>;
}

/** Every subcommand, in the order `edn --help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'ports', summary: 'list serial ports (likely stimulators marked) and the simulator', load: async () => (await import('./commands/ports.js')).portsCommand() },
  { name: 'run', summary: 'run a whole session headless on a port or the simulator', load: async () => (await import('./commands/run.js')).runCommand },
  { name: 'simulate', summary: 'run the simulated stimulator on a pseudo-terminal (socat) for a host to open', load: async () => (await import('./commands/simulate.js')).simulateCommand() },
  { name: 'validate', summary: 'check protocol files against the format and the safety limits', load: async () => (await import('./commands/validate.js')).validateCommand },
  { name: 'protocols', summary: 'list the built-in protocols, or show one with its computed charge figures', load: async () => (await import('./commands/protocols.js')).protocolsCommand },
  { name: 'schema', summary: 'print the JSON Schema of protocol files (or --screening answers files)', load: async () => (await import('./commands/schema.js')).schemaCommand },
  { name: 'screening-template', summary: 'print a screening answers file with every answer null', load: async () => (await import('./commands/screening-template.js')).screeningTemplateCommand },
  { name: 'report', summary: 'write the report of a session journal (md, html or json)', load: async () => (await import('./commands/report.js')).reportCommand },
  { name: 'patients', summary: 'list the patients of the course store, or add one (pseudonymous references)', load: async () => (await import('./commands/patients.js')).patientsCommand },
  { name: 'courses', summary: 'list, start, complete or stop treatment courses; rebuild the course store', load: async () => (await import('./commands/courses.js')).coursesCommand },
  { name: 'course-report', summary: 'the report of a treatment course (md, html, json), or its CSV or FHIR R4 export', load: async () => (await import('./commands/course-report.js')).courseReportCommand },
  { name: 'web', summary: 'serve the app to a browser on 127.0.0.1 (simulator only unless --allow-hardware)', load: async () => (await import('./commands/web.js')).webCommand },
];

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 8);
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'edn: EDN Controller command line',
    '',
    'Usage: edn <command> [options]     (edn <command> --help for details)',
    '',
    'Commands:',
    ...lines,
    '',
  ].join('\n');
}

export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    write(io.stdout, helpText());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version') {
    write(io.stdout, '0.1.0');
    return EXIT.ok;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    write(io.stderr, `edn: unknown command '${name}'. Run 'edn --help' for the list.`);
    return EXIT.usage;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    write(io.stdout, command.usage);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (isUsageError(err)) {
      write(io.stderr, `edn ${name}: ${err.message}\n\n${command.usage}`);
      return EXIT.usage;
    }
    throw err;
  }
}

/** parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for unknown or malformed options. */
function isUsageError(err: unknown): err is Error {
  if (!(err instanceof Error)) return false;
  const code: unknown = (err as Error & { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

export { UsageError, parse } from './command.js';

function processIO(): CliIO {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env, signals: controller.signal };
}
