/**
 * Doyensec Electronegativity (@doyensec/electronegativity), the Electron security scanner, over
 * electron/, offline. `npm run electronegativity` prints every finding and exits 1 when any is
 * HIGH; test/unit/electron/electronegativity.test.ts runs the same scan.
 *
 *   npm run electronegativity              scan electron/
 *   npm run electronegativity -- DIR       scan another directory
 *
 * Offline on purpose: the scanner's two network features (downloading translations of its
 * messages, and the list of Electron releases for AVAILABLE_SECURITY_FIXES_GLOBAL_CHECK) are not
 * part of the analysis, and a security check in CI must not depend on, or reach, the network. The
 * HTTP client it would use is replaced by one that fails at once (its messages stay in English),
 * that one check is left out, and the Electron version is the installed `electron` package's (the
 * scanner looks for it in a package.json under the scanned directory and would guess v0.1.0).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Finding {
  readonly id: string;
  readonly severity: 'HIGH' | 'MEDIUM' | 'LOW' | 'INFORMATIONAL';
  readonly confidence: string;
  /** Relative to the scanned directory. */
  readonly file: string;
  readonly line: number;
  readonly description: string;
}

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Checks left out, with the reason (see above). */
export const EXCLUDED_CHECKS: readonly string[] = ['AvailableSecurityFixesGlobalCheck'];

interface RawIssue {
  readonly id: string;
  readonly file: string;
  readonly location: { readonly line: number };
  readonly severity: { readonly name: Finding['severity'] };
  readonly confidence: { readonly name: string };
  readonly description: string;
}
type Run = (options: Record<string, unknown>) => Promise<{ readonly issues: readonly RawIssue[]; readonly errors: readonly { readonly file: string; readonly message: string; readonly tolerable: boolean }[] }>;

const require = createRequire(import.meta.url);
let loaded: Run | undefined;

function scanner(): Run {
  if (loaded) return loaded;
  const entry = require.resolve('@doyensec/electronegativity');
  const gotPath = require.resolve('got', { paths: [path.dirname(entry)] });
  const offline = Object.assign(() => Promise.reject(new Error('electronegativity runs offline here')), {
    head: () => Promise.reject(new Error('electronegativity runs offline here')),
  });
  require.cache[gotPath] = { id: gotPath, filename: gotPath, loaded: true, exports: offline } as unknown as NodeJS.Module;
  const mod = require(entry) as { default?: Run } & Run;
  loaded = mod.default ?? mod;
  return loaded;
}

function electronVersion(): string {
  const pkg = JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export interface Scan {
  readonly findings: readonly Finding[];
  /** What the scanner printed itself (kept off the console, which tests must not write to). */
  readonly notes: readonly string[];
}

/** Every finding of Electronegativity in `dir` (default electron/). Throws if a file cannot be parsed. */
export async function scanElectron(dir = path.join(REPO_ROOT, 'electron')): Promise<Scan> {
  const notes: string[] = [];
  const saved = { log: console.log, warn: console.warn, error: console.error };
  const keep = (...args: unknown[]) => void notes.push(args.map(String).join(' '));
  Object.assign(console, { log: keep, warn: keep, error: keep });
  let result: Awaited<ReturnType<Run>>;
  try {
    result = await scanner()({ input: dir, isRelative: true, electronVersionOverride: electronVersion(), excludeFromScan: EXCLUDED_CHECKS });
  } finally {
    Object.assign(console, saved);
  }
  const fatal = result.errors.filter((e) => !e.tolerable);
  if (fatal.length > 0) throw new Error(`electronegativity could not parse: ${fatal.map((e) => `${e.file}: ${e.message}`).join('; ')}`);
  const findings = result.issues.map((i) => ({
    id: i.id,
    severity: i.severity.name,
    confidence: i.confidence.name,
    file: i.file,
    line: i.location.line,
    description: i.description,
  }));
  return { findings, notes };
}

async function main(): Promise<void> {
  const dir = path.resolve(process.argv[2] ?? path.join(REPO_ROOT, 'electron'));
  const { findings: found, notes } = await scanElectron(dir);
  for (const n of notes) process.stderr.write(`electronegativity: ${n}\n`);
  const findings = [...found];
  const order = ['HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL'];
  findings.sort((a, b) => order.indexOf(a.severity) - order.indexOf(b.severity));
  for (const f of findings) process.stdout.write(`${f.severity.padEnd(6)} ${f.confidence.padEnd(9)} ${f.id.padEnd(28)} ${f.file}:${f.line}  ${f.description}\n`);
  const high = findings.filter((f) => f.severity === 'HIGH').length;
  process.stdout.write(`electronegativity (Electron ${electronVersion()}, ${path.relative(process.cwd(), dir) || '.'}): ${findings.length} findings, ${high} HIGH\n`);
  process.exitCode = high > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
