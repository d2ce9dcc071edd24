/**
 * How fast `edn` starts (issue 10 section 6): `edn --help` and `edn protocols` from the cached
 * bundle (src/cli/launch.js), side by side with `node -e 0` (the floor: Node starting and doing
 * nothing) and with the sources run through tsx as every start did before the bundle
 * (EDN_CLI_CACHE=off). The commands run in turn (node, help, protocols, node, ...) so that each
 * ratio is taken pair by pair while the machine's speed drifts; medians are reported. Wall time
 * from spawn to exit; CPU time of the child (user + system) from /proc/self/stat on Linux, in
 * 10 ms clock ticks, so only its median over many runs means anything. The first run after a
 * source change, which builds the bundle, is measured with an empty cache directory.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchOptions, type Figures, say, summarize } from './lib.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EDN = path.join(ROOT, 'src/cli/edn.js');
/** The figures on an idle machine: `node -e 0` took 0.075 s, and the goal is 0.2 s. */
const GOAL_S = 0.2;
const IDLE_NODE_S = 0.075;
const GOAL_RATIO = GOAL_S / IDLE_NODE_S;

/** CPU seconds used by this process's waited-for children so far (Linux), else NaN. */
function childrenCpuS(): number {
  try {
    // Fields after the command name (which may contain spaces) start at the state, field 3.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100; // cutime + cstime, in USER_HZ ticks
  } catch {
    return Number.NaN;
  }
}

interface Run {
  readonly wallS: number;
  readonly cpuS: number;
}

function run(args: readonly string[], env: Readonly<Record<string, string>> = {}): Run {
  const cpu0 = childrenCpuS();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const wallS = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(0, 500)}`);
  return { wallS, cpuS: childrenCpuS() - cpu0 };
}

const med = (xs: readonly number[]) => summarize(xs).p50;
const s3 = (x: number) => `${x.toFixed(3)} s`;

export function cliStartBench(figures: Figures, options: BenchOptions): void {
  say('\n== CLI start: edn --help and edn protocols against node -e 0 ==');
  const rounds = options.quick ? 5 : 21;
  const NODE = ['-e', '0'];
  const HELP = [EDN, '--help'];
  const PROTOCOLS = [EDN, 'protocols'];

  // The first run after a change builds the bundle (an empty cache directory stands for it).
  const fresh = mkdtempSync(path.join(tmpdir(), 'edn-bench-cli-'));
  let build: Run;
  try {
    build = run(HELP, { EDN_CLI_CACHE_DIR: fresh });
  } finally {
    rmSync(fresh, { recursive: true, force: true });
  }
  // Warm the real cache, then warm-up runs that are not counted.
  for (let i = 0; i < 2; i++) {
    run(HELP);
    run(PROTOCOLS);
    run(NODE);
  }
  const node: Run[] = [];
  const help: Run[] = [];
  const protocols: Run[] = [];
  const tsx: Run[] = [];
  const tsxNode: Run[] = [];
  for (let i = 0; i < rounds; i++) {
    node.push(run(NODE));
    help.push(run(HELP));
    protocols.push(run(PROTOCOLS));
    if (i % 3 === 0) {
      tsxNode.push(run(NODE));
      tsx.push(run(HELP, { EDN_CLI_CACHE: 'off' }));
    }
  }
  const ratio = (a: readonly Run[], b: readonly Run[]) => med(a.map((x, i) => x.wallS / b[i]!.wallS));
  const nodeWall = med(node.map((r) => r.wallS));
  const cpu = (rs: readonly Run[]) => med(rs.map((r) => r.cpuS));
  const describe = (rs: readonly Run[]) => `${s3(med(rs.map((r) => r.wallS)))} wall, ${s3(cpu(rs))} CPU (median of ${rs.length})`;
  say(`  node -e 0: ${describe(node)}`);

  const helpRatio = ratio(help, node);
  const protocolsRatio = ratio(protocols, node);
  figures.add({
    section: 'CLI start',
    name: '`edn --help`, warm (cached bundle)',
    value: `${describe(help)}; ${helpRatio.toFixed(2)}x node -e 0`,
    reference: `node -e 0 ${describe(node)}, run in turn with it`,
    goal: `< ${GOAL_S} s`,
    met: med(help.map((r) => r.wallS)) < GOAL_S,
  });
  figures.add({
    section: 'CLI start',
    name: '`edn protocols`, warm (cached bundle)',
    value: `${describe(protocols)}; ${protocolsRatio.toFixed(2)}x node -e 0`,
    reference: `node -e 0 ${describe(node)}, run in turn with it`,
    goal: `< ${GOAL_S} s`,
    met: med(protocols.map((r) => r.wallS)) < GOAL_S,
  });
  // On a loaded machine every process is slower; the ratio to node -e 0 is what carries over.
  figures.add({
    section: 'CLI start',
    name: '`edn --help` / `node -e 0`, pair by pair (median)',
    value: `${helpRatio.toFixed(2)}x (edn protocols ${protocolsRatio.toFixed(2)}x)`,
    reference: `node -e 0 ${s3(nodeWall)} in this run`,
    goal: `<= ${GOAL_RATIO.toFixed(2)}x (${GOAL_S} s / ${IDLE_NODE_S} s, node -e 0 on an idle machine)`,
    met: helpRatio <= GOAL_RATIO && protocolsRatio <= GOAL_RATIO,
  });
  figures.add({
    section: 'CLI start',
    name: '`edn --help` through tsx (EDN_CLI_CACHE=off: every start before the bundle)',
    value: `${describe(tsx)}; ${ratio(tsx, tsxNode).toFixed(2)}x node -e 0`,
    reference: `the bundle: ${(med(tsx.map((r) => r.wallS)) / med(help.map((r) => r.wallS))).toFixed(1)}x faster`,
  });
  figures.add({
    section: 'CLI start',
    name: 'first `edn --help` after a source change (builds the bundle)',
    value: `${s3(build.wallS)} wall, ${s3(build.cpuS)} CPU (one run)`,
    reference: `through tsx ${s3(med(tsx.map((r) => r.wallS)))}`,
  });
}
