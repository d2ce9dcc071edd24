/**
 * `npm run bench`: every benchmark of issue 6 §1, each printing its figure beside the reference it
 * is compared with (measured in the same run), then test/bench/RESULTS.md rewritten with the
 * figures, their goals and the machine they came from.
 *
 *   npm run bench                       all benchmarks; rewrites RESULTS.md
 *   npm run bench -- codec timing       only these (estop, pty, codec, timing, memory, cli, worker, estop-key); no RESULTS.md
 *   npm run bench -- --quick            a fast smoke run (fewer trials, shorter sessions); no RESULTS.md
 *   npm run bench -- --no-write         everything, but leave RESULTS.md alone
 *
 * Real time is used here and only here (tests run on virtual time). The machine is shared and
 * noisy: figures are percentiles and ratios over many trials after a warm-up.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cliStartBench } from './cli-start.js';
import { codecBench } from './codec.js';
import { estopHost } from './estop-host.js';
import { estopKeyBench } from './estop-key.js';
import { type BenchOptions, type Figure, Figures, type Machine, machine, say } from './lib.js';
import { memoryBench } from './memory.js';
import { ptyBench } from './pty.js';
import { timingBench } from './timing.js';
import { workerBench } from './worker.js';

const BENCHES: Record<string, (f: Figures, o: BenchOptions) => Promise<void> | void> = {
  estop: estopHost,
  pty: ptyBench,
  codec: codecBench,
  timing: timingBench,
  memory: memoryBench,
  cli: cliStartBench,
  worker: workerBench,
  'estop-key': estopKeyBench,
};

const RESULTS = fileURLToPath(new URL('./RESULTS.md', import.meta.url));
/** The heading from which RESULTS.md holds readings and figures of earlier runs, kept as they are by a rewrite. */
const EARLIER = '## Readings and earlier runs';

/** That part of the RESULTS.md now, to keep (figures of partial runs added by hand, with their dates). */
function earlierRuns(): string | undefined {
  let text: string;
  try {
    text = readFileSync(RESULTS, 'utf8');
  } catch {
    return undefined;
  }
  const at = text.indexOf(`\n${EARLIER}`);
  return at < 0 ? undefined : text.slice(at + 1);
}

function results(m: Machine, figures: readonly Figure[], wallS: number, loadAtEnd: string): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (test/bench/run.ts); do not edit by hand. Each figure is printed beside the',
    'reference it is compared with, measured (or computed) in the same run. Real time, on a shared machine:',
    'percentiles and ratios over many trials after a warm-up. Method notes are in each benchmark file.',
    '',
    '## Machine',
    '',
    `- Date: ${m.date}`,
    `- CPU: ${m.cpu}, ${m.nproc} logical cores (nproc)`,
    `- Node: ${m.node}; OS: ${m.os}`,
    `- Load average (1, 5, 15 min) at start: ${m.loadavg}; at the end: ${loadAtEnd}`,
    `- Whole run: ${wallS.toFixed(0)} s`,
    '',
    'The machine is shared: a load average near or above the core count means other work competed for',
    'the CPU during the run. Medians are stable from run to run; the p99 and max of the real-time',
    'figures (pty round trips, heartbeat intervals) move by a few ms between runs on a loaded machine,',
    'which is why each is printed beside a reference measured on the same loop in the same run.',
    '',
    '## Figures against goals',
    '',
    '| Section | Figure | Measured | Reference (same run) | Goal | Met |',
    '| --- | --- | --- | --- | --- | --- |',
    ...figures.map((f) => `| ${esc(f.section)} | ${esc(f.name)} | ${esc(f.value)} | ${esc(f.reference)} | ${esc(f.goal ?? '-')} | ${f.goal === undefined ? '-' : f.met ? 'yes' : '**no**'} |`),
    '',
    '## How each figure is measured',
    '',
    '- **E-stop, host side**: an instrumented Transport records performance.now() in `write()`; its input is',
    '  bytes through the capped LineReader (as SerialTransport), flooded with TEL lines at 11,520 bytes/s in',
    '  1 ms chunks on the event loop; each e-stop is fired from a timer at a random moment; idle and flooded',
    '  blocks of 100 trials alternate. The client writes synchronously, so this is the cost of the call.',
    '- **E-stop over a pty, simulator process**: `edn simulate --pty --json` in its own process; the host opens',
    '  the pty with the real serialport package. The simulator runs on another clock, so the figure is the',
    '  round trip estop() -> OK ESTOP read on the host: a hard upper bound on the one-way time (RTT/2 is',
    '  the symmetric estimate). Four channels run (telemetry flowing) at every e-stop.',
    '- **E-stop over a pty, simulator in-process**: the simulator on the device end of a socat pair in this',
    '  process, so both ends share performance.now(): the one-way time to the simulator executing ESTOP is',
    '  exact, and shows how close RTT/2 is.',
    '- **Wire time**: bytes x 10 bits / 115200 baud. A pty moves bytes at memory speed whatever the baud',
    '  rate; on a real UART the wire time adds to the pty figures.',
    '- **Codec**: pre-encoded realistic mix (about 90% TEL, OK HB, OK AMP, OK STATUS); median of several',
    '  rounds after warm-up. CPU share = line rate at 115200 baud / lines per second through the path.',
    '- **Timing**: virtual-time figure from the simulator\'s own output events; the real-time run uses the',
    '  monotonic scheduler, the real journal, and a 5 ms-every-20 ms busy loop; references are a bare',
    '  setTimeout and setInterval on the same loop.',
    '- **Memory**: fresh child processes with and without --expose-gc; RSS at every session minute.',
    '- **CLI start**: `node src/cli/edn.js --help` and `protocols` spawned in turn with `node -e 0`, after',
    '  warm-up runs; wall time from spawn to exit, the ratio taken pair by pair; child CPU from /proc/self/stat',
    '  (10 ms ticks). "Through tsx" is EDN_CLI_CACHE=off; the first run builds into an empty cache directory.',
    '- **Worker (issue 10 §1)**: a running session on the simulator, the ControllerService in-process (the',
    '  assembly before the issue) and in its controller process behind the supervisor (as `edn web`; the',
    '  bench entry test/bench/controller-entry.ts is worker-entry.ts plus a tap on the transport). Heartbeat:',
    '  intervals of the HB frames handed to the port over a 30 s window. E-stop: the UI side\'s `estop` call',
    '  through the dispatcher -> ESTOP frame handed to the port (wallNow() on both ends), fired from a timer at',
    '  random moments; the timer\'s lateness is reported as the UI loop lag. Flood: rounds of 12 validateProtocol',
    '  calls of a 60-phase protocol, each from JSON text through the dispatcher as the web host does. 200',
    '  e-stop trials per scenario (the first while output is on; after it each trial e-stops the latched,',
    '  cleared session: the same path to the ESTOP frame, which the controller writes whatever the state).',
    '  The e-stop is split at its arrival in the controller process (read before the product sees the',
    '  message): the hop (the UI side\'s dispatcher, the supervisor, Node\'s IPC and the wait for the',
    '  controller process to run) and the handling there (to the frame at the port). Three paths side by side',
    '  under the flood, back to back: the e-stop as an ordinary contract call at the inherited priority (the',
    '  path before; emulated by the bench\'s worker factory, which rewrites the op into a call and its reply',
    '  back), the `estop` op served before any parsing at the inherited priority, and the product (the op, and',
    '  the controller asking for CONTROLLER_NICE); the nice value the controller got is printed.',
    '- **E-stop from the key (issue 13 §5)**: `edn simulate --pty --json --timestamps` and `edn web',
    '  --allow-hardware --serial <its pty>`, each its own process, and Debian\'s Chromium (playwright-core)',
    '  on the page at 1280 x 800. Per trial: output started afresh (screening and start on the page\'s own',
    '  WebSocket), 50-150 ms of output, then Escape (keyboard.press) or a click of the header\'s Emergency',
    '  stop button, in alternating blocks of 10. From the event\'s own time stamp in the page',
    '  (performance.timeOrigin + event.timeStamp, a capture listener the bench adds) to the simulator\'s',
    '  wallMs of its output-off line. The three processes\' clock offsets are measured at the start and the',
    '  end (round trips of a page evaluation and of a simulator control line) and printed as the error bound',
    '  of the subtraction. Also from the same event: the header reading "Output off" (the page\'s clock).',
    '',
  ];
  const kept = earlierRuns();
  return [...lines, ...(kept === undefined ? [] : [kept])].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const noWrite = args.includes('--no-write');
  const named = args.filter((a) => !a.startsWith('--'));
  for (const n of named) if (!(n in BENCHES)) throw new Error(`unknown benchmark '${n}' (known: ${Object.keys(BENCHES).join(', ')})`);
  const chosen = named.length > 0 ? named : Object.keys(BENCHES);
  const m = machine();
  say(`EDN benchmarks${quick ? ' (quick)' : ''}: ${m.cpu}, ${m.nproc} cores, node ${m.node}, load ${m.loadavg}, ${m.date}`);
  const figures = new Figures();
  const t0 = performance.now();
  for (const name of chosen) await BENCHES[name]!(figures, { quick });
  const wallS = (performance.now() - t0) / 1000;
  say(`\n== Summary (${wallS.toFixed(0)} s) ==`);
  for (const f of figures.list) say(`  ${f.goal === undefined ? '      ' : f.met ? '[met] ' : '[MISS]'} ${f.section}: ${f.name}: ${f.value}${f.goal ? ` (goal ${f.goal})` : ''}`);
  const complete = named.length === 0 && !quick;
  if (complete && !noWrite) {
    writeFileSync(RESULTS, results(m, figures.list, wallS, machine().loadavg));
    say(`\nwrote ${RESULTS}`);
  } else {
    say(`\nRESULTS.md not written (${quick ? 'quick run' : named.length > 0 ? 'not every benchmark ran' : '--no-write'})`);
  }
}

await main();
