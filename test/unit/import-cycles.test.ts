/**
 * Imports form a DAG: no module imports itself through others. A cycle makes load order matter
 * (a module can see another half-initialised) and blurs which module owns what; the report
 * modules once formed one (report.ts <-> report-html.ts, report-md.ts, svg-chart.ts), which
 * report-model.ts broke. Imports are read by TypeScript's own pre-processor (`ts.preProcessFile`:
 * static, type-only, re-export and dynamic imports alike), relative ones resolved to the .ts file.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * The one function of the TypeScript compiler API used here. It is required untyped: an import
 * would add the compiler's 11,000 lines of declarations to every type-aware lint of the project.
 */
interface PreProcessor {
  preProcessFile(text: string, readImportFiles: boolean, detectJavaScriptImports: boolean): { importedFiles: readonly { fileName: string }[] };
}
const ts = createRequire(import.meta.url)('typescript') as PreProcessor;

type Graph = ReadonlyMap<string, readonly string[]>;

/** Every .ts file under `dir` (relative to the repository) with the repository files it imports. */
function importGraph(dir: string): Graph {
  const graph = new Map<string, string[]>();
  const files = readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.split(path.sep).includes('node_modules'))
    .map((f) => path.join(dir, f));
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(path.join(ROOT, file), 'utf8'), true, true);
    const targets = importedFiles
      .map((i) => i.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => path.join(path.dirname(file), spec).replace(/\.js$/, '.ts'))
      .filter((target) => existsSync(path.join(ROOT, target)));
    graph.set(file, targets);
  }
  return graph;
}

/** Each cycle found by a depth-first walk, as "a -> b -> a". */
function cycles(graph: Graph): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const walk = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next].join(' -> '));
      else if (state.get(next) === undefined) walk(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (state.get(node) === undefined) walk(node);
  return found;
}

describe('import cycles', () => {
  it('are found, through any number of modules', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts', 'd.ts']],
      ['d.ts', []],
    ]);
    expect(cycles(graph)).toEqual(['a.ts -> b.ts -> c.ts -> a.ts']);
    expect(cycles(new Map([['a.ts', ['d.ts']], ['d.ts', []]]))).toEqual([]);
  });

  it('the report modules import through report-model.ts, not one another', () => {
    const graph = importGraph('src/session');
    expect(graph.get(path.join('src/session', 'report-html.ts'))).toContain(path.join('src/session', 'report-model.ts'));
    expect(graph.get(path.join('src/session', 'svg-chart.ts'))).not.toContain(path.join('src/session', 'report.ts'));
  });

  it.each(['src/session', 'src', 'electron', 'firmware-protocol'])('there is none in %s', (dir) => {
    expect(cycles(importGraph(dir))).toEqual([]);
  });
});
