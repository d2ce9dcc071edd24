/**
 * The messages between the UI side (the web host, Electron main) and the controller worker that
 * runs the ControllerService (src/app/worker.ts serves it; src/app/worker-host.ts is the UI side).
 *
 * Calls cross as the contract's wire messages ({id, call, input} and {id, result}) and events as
 * {event, data}: the same shapes the WebSocket host and Electron IPC use, validated on BOTH sides
 * (the worker's dispatcher checks the input and its own output; the UI side checks the input
 * before it posts and the output when it arrives), so a bug on either side shows as INTERNAL
 * rather than reaching a UI. The few service methods that are not contract calls (the host's own
 * e-stop, the journal record of a take-over, an orderly stop) are the `op` messages below.
 *
 * Every message is parsed with these schemas on arrival (a boundary like any other: a worker
 * built from different sources, or a bug, must not be trusted blindly).
 */
import * as z from 'zod';
import { DATA_SCHEMAS } from '../session/journal-records.js';
import { EstopSourceSchema, SnapshotSchema, WireEventSchema, WireReplySchema } from './contract.js';

/** What the worker runs: the service with everything it needs, or only its pure, heavy calls. */
export const WorkerRoleSchema = z.enum(['controller', 'pure']);
export type WorkerRole = z.infer<typeof WorkerRoleSchema>;

/**
 * What a worker is started with (serializable: it crosses a thread or process boundary). The
 * service is assembled from it by createControllerService (src/app/assembly.ts), the one path
 * `edn run`, `edn web` and Electron share.
 */
export const WorkerConfigSchema = z.strictObject({
  role: WorkerRoleSchema,
  dataDir: z.string().min(1),
  allowHardware: z.boolean(),
  appVersion: z.string().optional(),
  /** Serial device paths offered besides the listed ports (`edn web --serial`). */
  serialPaths: z.array(z.string().min(1).max(4096)).max(16).optional(),
});
export type WorkerConfig = z.infer<typeof WorkerConfigSchema>;

/**
 * The scheduling priority (nice value) of the pure worker's process. It validates protocols and
 * renders reports for the UIs: pure CPU work, which on a machine with fewer cores than busy
 * processes competes with the controller for the CPU; the controller's heartbeat and e-stop must
 * win (issue 10 §1: 12 parallel validations delayed an e-stop's hop to the controller by over 100
 * ms at the 99th percentile on 2 loaded cores). 10 is half-way to the lowest priority (19): the
 * UIs' answers still come, behind the session.
 */
export const PURE_WORKER_NICE = 10;

/**
 * The scheduling priority the controller's process asks for under `edn web`: above every ordinary
 * process (0), the web host and the browser included, so that when the cores are busy the
 * controller is the one woken first for an e-stop or a heartbeat. It does little CPU work (the
 * heavy calls run on the pure worker), so it cannot starve the rest. Measured by `npm run bench --
 * worker` (test/bench/RESULTS.md): on 2 cores loaded by other work, the e-stop's hop into the
 * controller process is dominated by the wait for a core, which a priority is meant to shorten; on
 * the measuring machine it showed no effect (hop p99 36.4 ms at -10 against 25.9 ms at 0, within
 * the run's noise): with the kernel's autogroup scheduling (sched_autogroup_enabled=1, the default
 * on desktop Linux) nice ranks a process only within its own session, not against other sessions'
 * work. It is kept because it costs nothing when refused and helps where autogroup is off. A negative
 * nice value needs privilege (root, CAP_SYS_NICE, or an RLIMIT_NICE the administrator grants the
 * clinic's account in /etc/security/limits.conf); refused, the controller keeps the default 0 and
 * runs exactly as before. -10: well above ordinary work, below the kernel's own real-time helpers.
 */
export const CONTROLLER_NICE = -10;

/** The config's place on the command line of a utilityProcess (`utilityProcess.fork(file, [arg])`). */
export const CONFIG_ARG = '--edn-worker-config=';

/** A service method outside the contract, with its sequence number for the answer. */
const OpSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('estop'), seq: z.number().int().min(0), source: EstopSourceSchema }),
  z.strictObject({ op: z.literal('recordControl'), seq: z.number().int().min(0), change: DATA_SCHEMAS.control }),
  z.strictObject({ op: z.literal('dispose'), seq: z.number().int().min(0) }),
]);

/** UI side -> worker. */
export const ToWorkerSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('call'), message: z.unknown() }),
  z.strictObject({ kind: z.literal('op'), op: OpSchema }),
]);
export type ToWorker = z.infer<typeof ToWorkerSchema>;

/** Worker -> UI side. */
export const FromWorkerSchema = z.discriminatedUnion('kind', [
  /** Sent once the service is built: its snapshot now and the problems it found at start. */
  z.strictObject({ kind: z.literal('ready'), snapshot: SnapshotSchema, problems: z.array(z.string()) }),
  z.strictObject({ kind: z.literal('reply'), reply: WireReplySchema }),
  z.strictObject({ kind: z.literal('event'), event: WireEventSchema }),
  z.strictObject({ kind: z.literal('done'), seq: z.number().int().min(0), result: WireReplySchema.shape.result }),
  /** The worker could not start (a bad config, a data directory it cannot use). */
  z.strictObject({ kind: z.literal('failed'), message: z.string() }),
]);
export type FromWorker = z.infer<typeof FromWorkerSchema>;

/** One end of the channel, as the worker sees its parent (worker_threads or Electron's parentPort). */
export interface WorkerPort {
  post(message: FromWorker): void;
  onMessage(listener: (message: unknown) => void): void;
}
