// `edn`: the command line. Dispatches to one subcommand; every subcommand accepts --help.
import { type CliIO, type Command, EXIT, write } from './command.js';
import { courseReportCommand } from './commands/course-report.js';
import { coursesCommand } from './commands/courses.js';
import { patientsCommand } from './commands/patients.js';
import { portsCommand } from './commands/ports.js';
import { runCommand } from './commands/run.js';
import { protocolsCommand } from './commands/protocols.js';
import { reportCommand } from './commands/report.js';
import { schemaCommand } from './commands/schema.js';
import { screeningTemplateCommand } from './commands/screening-template.js';
import { simulateCommand } from './commands/simulate.js';
import { validateCommand } from './commands/validate.js';
import { webCommand } from './commands/web.js';

/** Every subcommand, in the order `edn --help` lists them. */
export const COMMANDS: readonly Command[] = [
  portsCommand(),
  runCommand,
  simulateCommand(),
  validateCommand,
  protocolsCommand,
  schemaCommand,
  screeningTemplateCommand,
  reportCommand,
  patientsCommand,
  coursesCommand,
  courseReportCommand,
  webCommand,
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
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    write(io.stderr, `edn: unknown command '${name}'. Run 'edn --help' for the list.`);
    return EXIT.usage;
  }
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
