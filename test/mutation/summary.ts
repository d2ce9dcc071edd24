// `npx tsx test/mutation/summary.ts <group | report.json> [--survivors]`: the per-file table of a group's last
// Stryker run (reports/mutation/<group>/mutation.json, the mutation-testing-report-schema), in the
// form MUTATION.md records it, and with --survivors every surviving and uncovered mutant as
// file:line mutator -> replacement, to pick the ones a test must kill.
import { readFileSync } from 'node:fs';

interface Mutant {
  readonly mutatorName: string;
  readonly replacement?: string;
  readonly status: string;
  readonly location: { readonly start: { readonly line: number; readonly column: number } };
}
interface Report {
  readonly files: Readonly<Record<string, { readonly mutants: readonly Mutant[] }>>;
}

const [group, flag] = process.argv.slice(2);
if (group === undefined) {
  console.error('usage: tsx test/mutation/summary.ts <group> [--survivors]');
  process.exit(2);
}
const file = group.endsWith('.json') ? group : `reports/mutation/${group}/mutation.json`;
const report = JSON.parse(readFileSync(file, 'utf8')) as Report;

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);
const count = (ms: readonly Mutant[], s: string) => ms.filter((m) => m.status === s).length;
/** Stryker's score: detected / (detected + undetected); compile and runtime errors and ignored mutants do not count. */
const score = (ms: readonly Mutant[]) => {
  const d = ms.filter((m) => DETECTED.has(m.status)).length;
  const u = ms.filter((m) => UNDETECTED.has(m.status)).length;
  return d + u === 0 ? 'n/a' : `${((100 * d) / (d + u)).toFixed(2)} %`;
};

const rows = Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b));
const all = rows.flatMap(([, f]) => f.mutants);
console.log('| file | mutants | score | killed | timeout | survived | no coverage | errors |');
console.log('|---|---|---|---|---|---|---|---|');
for (const [name, f] of [...rows, ['all', { mutants: all }] as const]) {
  const ms = f.mutants;
  const errors = count(ms, 'CompileError') + count(ms, 'RuntimeError');
  console.log(`| ${name} | ${ms.length} | ${score(ms)} | ${count(ms, 'Killed')} | ${count(ms, 'Timeout')} | ${count(ms, 'Survived')} | ${count(ms, 'NoCoverage')} | ${errors} |`);
}
if (flag === '--survivors') {
  for (const [name, f] of rows) {
    const left = f.mutants.filter((m) => UNDETECTED.has(m.status)).sort((a, b) => a.location.start.line - b.location.start.line);
    for (const m of left) {
      const repl = (m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 120);
      console.log(`${name}:${m.location.start.line}:${m.location.start.column} ${m.status} ${m.mutatorName} -> ${repl}`);
    }
  }
}
