/**
 * The fault matrix (issues 6 and 11): every fault injected in every one of the 12 session states,
 * on virtual time, through the session harness (test/support/session-harness.ts) with real
 * journals on disk (a temp dir) and the tap transport recording every frame the host wrote.
 *
 * What each cell shows:
 * - Output at the injection is read from the FRAMES the host wrote (test/faults/frames.ts), never
 *   from the simulator. In `ramping` and `running` a cell first asserts the frames leave current
 *   on; every other state has no output, the cell says why (NO_OUTPUT) and asserts that the frames
 *   leave nothing on, and that after the fault the device never receives a START, nor an AMP or SET
 *   above 0 µA, and the session can still be ended without output (refusable).
 * - A fault with a deadline: output off within it, measured from the injection. Where the host
 *   must act ("host"), its ESTOP or STOP frame is written within the deadline; where only the
 *   device can act ("device": its watchdog, its own fault detection, its reset), the device's
 *   output is off within it (the one thing only the device can show).
 * - An absorbed fault: the session goes on, the frames still leave every channel on at the
 *   commanded target, and the TEL the host received in the last ABSORBED_TEL_MS of the
 *   observation reports that amplitude, measured within tolerance.
 * - The journal: every record written before the fault is still there, byte for byte (same
 *   lines, same SHA-256 of each line, same parsed records), and the chain is intact.
 * - renderer-crash and renderer-hang go through electron/main/window.ts (createMainWindow) with
 *   the Electron objects faked as in test/unit/electron; frozen-page and stolen-control through
 *   src/app/control.ts (SessionControl) with two UIs.
 *
 * The matrix (state x fault, each cell's outcome and measured time) is written to
 * `fault-matrix.md` in EDN_RESULTS_DIR, a temp dir made by test/reporters/summary.ts, which prints
 * it at the end of the run and removes it: never into the working tree.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeviceToHost } from '../../firmware-protocol/index.js';
import { WATCHDOG_MS } from '../../firmware-protocol/index.js';
import type { Result } from '../../src/app/contract.js';
import { SessionControl } from '../../src/app/control.js';
import { OUTPUT_MAY_BE_ON } from '../../src/app/service.js';
import { UI_LIVENESS_MS } from '../../src/app/ui-timing.js';
import { ACK_GIVE_UP_MS } from '../../src/device/timing.js';
import { measuredToleranceMa } from '../../src/domain/safety/limits.js';
import { openJournal, readJournal } from '../../src/session/journal.js';
import { HEARTBEAT_MS, RAMP_STEP_MS, TICK_MS } from '../../src/session/runner.js';
import { SESSION_STATES, type SessionState } from '../../src/session/states.js';
import { createMainWindow } from '../../electron/main/window.js';
import type { SafetyPort } from '../../electron/main/service-port.js';
import { clearedFor, harness } from '../support/session-harness.js';
import { shortProtocol } from '../support/short-protocol.js';
import { SwitchableFs } from '../support/switchable-fs.js';
import { settle } from '../support/virtual-time.js';
import { APP_URL, FakeDialog, FakeWindow, memoryLog } from '../unit/electron/fakes.js';
import { currentByFrames, firstStopFrame, onByFrames, turnOnFrames } from './frames.js';

const FAULTS = [
  'cable-pull',
  'port-unplug',
  'device-reboot',
  'frozen-device',
  'lying-echo',
  'dropped-acks',
  'delayed-acks',
  'crc-burst',
  'garbage-flood',
  'open-circuit',
  'compliance',
  'host-sigkill',
  'renderer-crash',
  'renderer-hang',
  'frozen-page',
  'stolen-control',
  'disk-full',
  'journal-write-error',
  'clock-jump',
] as const;
type Fault = (typeof FAULTS)[number];
const STATES = SESSION_STATES;
type At = SessionState;

/** States in which the frames leave current on when the fault comes. */
const OUTPUT_ON: ReadonlySet<At> = new Set(['ramping', 'running']);
/** Why a state has no output (asserted from the frames in every such cell). */
const NO_OUTPUT: Readonly<Record<Exclude<At, 'ramping' | 'running'>, string>> = {
  idle: 'not connected: no device session, nothing staged',
  connecting: 'the HELLO is unanswered: nothing is staged before a handshake',
  ready: 'connected, no session prepared: nothing staged',
  screening: 'a protocol chosen, the screening not cleared: start is refused',
  'checking-electrodes': 'electrodes checked, output not started (IMP only)',
  paused: 'the pause wrote STOP: output off, the clock held',
  'ramping-down': 'the STOP is written, its acknowledgement awaited',
  completed: 'the last phase ended with STOP',
  stopped: "the clinician's stop wrote STOP",
  aborted: 'the abort wrote ESTOP',
};

/** The device's watchdog window plus one control tick of the simulator. */
const WATCHDOG_DEADLINE_MS = WATCHDOG_MS + 10;
/** A silent device: the heartbeat that goes unanswered (ACK_GIVE_UP_MS) after at most one period, plus one session tick. */
const SILENT_DEVICE_MS = HEARTBEAT_MS + ACK_GIVE_UP_MS + TICK_MS;
/** A lying echo: the next AMP goes out within one ramp step, its reply within one session tick. */
const LYING_ECHO_MS = RAMP_STEP_MS + TICK_MS;
/** How long each cell runs after the injection. */
const OBSERVE_MS = 3000;
/** An absorbed fault: TEL within this last part of the observation must show the commanded amplitude. */
const ABSORBED_TEL_MS = 500;
const TARGET_MA = 2;
/** How long the delayed-acks fault lasts. */
const DELAY_BURST_MS = 1000;

interface Off {
  /** Who turns output off: the host (its ESTOP/STOP frame) or the device on its own. */
  readonly by: 'host' | 'device';
  readonly withinMs: number;
}
interface OnOutput {
  /** How a session with output on ends ('absorbed': it goes on). 'dead': the host was killed. */
  readonly outcome: 'absorbed' | 'aborted' | 'stopped' | 'dead';
  readonly off?: Off;
  readonly reason?: RegExp;
  readonly observeMs?: number;
}

const LINK_LOST = /heartbeat|AckTimeout|no reply|STOP failed|no telemetry|telemetry/;
const ON_OUTPUT: Readonly<Record<Fault, OnOutput>> = {
  'cable-pull': { outcome: 'aborted', off: { by: 'device', withinMs: WATCHDOG_DEADLINE_MS }, reason: LINK_LOST },
  'port-unplug': { outcome: 'aborted', off: { by: 'device', withinMs: WATCHDOG_DEADLINE_MS }, reason: /unplugged|disconnect|went away/i },
  'device-reboot': { outcome: 'aborted', off: { by: 'device', withinMs: 0 }, reason: /restarted/ },
  'frozen-device': { outcome: 'aborted', off: { by: 'host', withinMs: SILENT_DEVICE_MS }, reason: LINK_LOST },
  'lying-echo': { outcome: 'aborted', off: { by: 'host', withinMs: LYING_ECHO_MS }, reason: /answered AMP with amp=\d+ µA/ },
  'dropped-acks': { outcome: 'absorbed' },
  'delayed-acks': { outcome: 'absorbed' },
  'crc-burst': { outcome: 'absorbed' },
  'garbage-flood': { outcome: 'absorbed' },
  'open-circuit': { outcome: 'aborted', off: { by: 'device', withinMs: 20 }, reason: /open circuit/ },
  compliance: { outcome: 'aborted', off: { by: 'device', withinMs: 2000 }, reason: /compliance/ },
  'host-sigkill': { outcome: 'dead', off: { by: 'device', withinMs: WATCHDOG_DEADLINE_MS } },
  'renderer-crash': { outcome: 'stopped', off: { by: 'host', withinMs: 0 }, reason: /emergency stop \(renderer-crash\)/ },
  'renderer-hang': { outcome: 'stopped', off: { by: 'host', withinMs: 0 }, reason: /emergency stop \(ui-unresponsive\)/ },
  'frozen-page': { outcome: 'stopped', off: { by: 'host', withinMs: UI_LIVENESS_MS }, reason: /emergency stop \(ui-unresponsive\)/, observeMs: UI_LIVENESS_MS + 500 },
  'stolen-control': { outcome: 'absorbed' },
  'disk-full': { outcome: 'aborted', off: { by: 'host', withinMs: 0 }, reason: /journal/ },
  'journal-write-error': { outcome: 'aborted', off: { by: 'host', withinMs: 0 }, reason: /journal/ },
  'clock-jump': { outcome: 'absorbed' },
};

/**
 * Where a state without output ends after the fault (absent: it stays in its state). These are
 * the runner's rules: a lost device (link, port, reset, silence) aborts a connected session; the
 * UI's e-stops (crash, hang, frozen page) stop a session whose output may come back (paused,
 * ramping-down: src/app/service.ts OUTPUT_MAY_BE_ON); a journal failure aborts an open session.
 */
function noOutputOutcome(fault: Fault, at: At): At | 'dead' {
  // `completed` is left only for a new session (states.ts): a fault after it changes nothing.
  const lost = at === 'idle' || at === 'completed' ? at : at === 'connecting' ? 'idle' : 'aborted';
  switch (fault) {
    case 'cable-pull':
    case 'port-unplug':
    case 'frozen-device':
      return lost;
    case 'device-reboot':
      // A BOOT before the HELLO is answered: the handshake goes on with the restarted device.
      return at === 'connecting' ? 'ready' : lost;
    case 'host-sigkill':
      return 'dead';
    case 'renderer-crash':
    case 'renderer-hang':
    case 'frozen-page':
      return at === 'paused' || at === 'ramping-down' ? 'stopped' : at === 'connecting' ? 'ready' : at;
    case 'disk-full':
    case 'journal-write-error':
      // Only a session in progress (its journal open, not yet ended) is aborted by a failed write.
      if (at === 'connecting') return 'ready';
      return at === 'checking-electrodes' || at === 'paused' || at === 'ramping-down' ? 'aborted' : at;
    case 'lying-echo': // no AMP is sent without output: nothing to lie about
    case 'open-circuit': // no output, no fault: the device checks the load while it delivers
    case 'compliance':
    case 'dropped-acks':
    case 'delayed-acks':
    case 'crc-burst':
    case 'garbage-flood':
    case 'stolen-control':
    case 'clock-jump':
      // Absorbed on the link or the UI: connecting completes, ramping-down completes its stop.
      if (at === 'connecting') return 'ready';
      if (at === 'ramping-down') return 'stopped';
      return at;
  }
}

/** The hazards (SAFETY.md) each fault's cells verify. */
const HAZARDS: Readonly<Record<Fault, string>> = {
  'cable-pull': 'H4',
  'port-unplug': 'H4',
  'device-reboot': 'H22 H28',
  'frozen-device': 'H18 H22',
  'lying-echo': 'H18',
  'dropped-acks': 'H7',
  'delayed-acks': 'H7',
  'crc-burst': 'H7',
  'garbage-flood': 'H7 H15',
  'open-circuit': 'H13',
  compliance: 'H13',
  'host-sigkill': 'H4',
  'renderer-crash': 'H5',
  'renderer-hang': 'H5 H20',
  'frozen-page': 'H20',
  'stolen-control': 'H21',
  'disk-full': 'H10 H23',
  'journal-write-error': 'H10 H23',
  'clock-jump': 'H10',
};

interface CellResult {
  readonly fault: Fault;
  readonly at: At;
  readonly outcome: string;
  /** ms from the injection until output was off (host frame or device), when output was on. */
  readonly offAfterMs: number | null;
  readonly note: string;
}
const results: CellResult[] = [];
const root = mkdtempSync(path.join(tmpdir(), 'edn-fault-matrix-'));
const BASE_WALL_MS = Date.UTC(2026, 10, 27, 9, 0, 0);

interface Tel {
  readonly at: number;
  readonly ch: number;
  readonly amp: number;
  readonly i: number;
}

/** A journal's complete lines with each line's SHA-256, and its parsed records. */
function journalSnapshot(file: string) {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n').slice(0, -1);
  return { text, lines, hashes: lines.map((l) => createHash('sha256').update(l).digest('hex')), records: readJournal({ path: file }).records };
}

async function cell(fault: Fault, at: At): Promise<CellResult> {
  const label = `${fault} × ${at}`;
  const fs = new SwitchableFs();
  const dataDir = path.join(root, `${fault}-${at}`);
  mkdirSync(dataDir, { recursive: true });
  const fallbackDir = path.join(dataDir, 'fallback');
  const journals: string[] = [];
  let wallOffsetMs = 0;
  const h = harness({
    sim: { seed: 11 },
    recorder: (now) => (sessionId) => {
      const j = openJournal({ dataDir, sessionId, fs, fallbackDir, clock: { monotonicMs: now, wallIso: () => new Date(BASE_WALL_MS + now() + wallOffsetMs).toISOString() } });
      journals.push(j.path);
      return j;
    },
  });
  const { runner, sim, tap, scheduler } = h;

  // Every TEL the host received, and the fault's lie (if any), on the device's side of the host.
  const tel: Tel[] = [];
  let lie: ((m: DeviceToHost) => DeviceToHost | null) | undefined;
  tap.rewrite = (m) => {
    if (m.type === 'event' && m.event === 'TEL') tel.push({ at: scheduler.now(), ch: m.args.ch, amp: m.args.amp, i: m.args.i });
    return lie ? lie(m) : m;
  };

  // The shell's and the control's view of the service, over this runner (what ControllerService does).
  const service: SafetyPort = {
    outputMayBeOn: () => OUTPUT_MAY_BE_ON.has(runner.state),
    emergencyStop: (source) => runner.estop(source),
  };
  const ui = fault === 'renderer-crash' || fault === 'renderer-hang';
  const win = ui ? createMainWindow<FakeWindow>({ BrowserWindow: FakeWindow, dialog: new FakeDialog(), service, preloadPath: '/opt/edn/out/preload/preload.cjs', indexPath: '/opt/edn/out/renderer/index.html', appUrl: APP_URL, devTools: false, log: memoryLog() }) : undefined;
  const controlled = fault === 'frozen-page' || fault === 'stolen-control';
  let ids = 0;
  const control = controlled
    ? new SessionControl({
        scheduler,
        initialState: runner.state,
        newClientId: () => `ui-client-${String(++ids).padStart(8, '0')}`,
        port: {
          ...service,
          recordControl: (change) => {
            const r = runner.recordControl(change);
            return r.ok ? { ok: true, data: null } : { ok: false, error: { code: 'ILLEGAL_STATE', message: r.error.message } };
          },
          on: (listener) => {
            const sub = runner.snapshot$.subscribe((s) => listener({ event: 'snapshot', data: s }));
            return () => sub.unsubscribe();
          },
        },
      })
    : undefined;
  let callId = 0;
  let pageAlive = true;
  const wire = (call: string, input: unknown) => ({ id: ++callId, call, input });
  const noDispatch = (): Promise<{ result: Result<unknown> }> => Promise.reject(new Error('answered by the control, never dispatched'));
  const uiA = control?.join({
    label: 'window A',
    send: (e) => {
      if (e.event === 'ping' && pageAlive) void control.handle(uiA!, wire('heartbeat', { seq: e.data.seq }), noDispatch);
    },
  });

  const protocol = shortProtocol({ durationMin: 0.2, maxMa: 4, rampMaPerS: 1 });
  const deviceOn = () => sim.snapshot().channels.some((c) => c.state === 'ON' && c.setpointUa > 0);
  /** Every channel's latest TEL shows a set point above 0, and the device's output is on. */
  const delivering = () => {
    const channels = protocol.channels.map((c) => c.channel);
    return deviceOn() && channels.every((ch) => (tel.filter((t) => t.ch === ch).at(-1)?.amp ?? 0) > 0);
  };

  // ---- reach the state ----
  const submit = () => {
    const go = () => h.runner.submitScreening(clearedFor(protocol)).then((r) => ({ result: (r.ok ? { ok: true, data: null } : { ok: false, error: { code: 'ILLEGAL_STATE', message: r.error.message } }) as Result<unknown> }));
    return control && uiA ? control.handle(uiA, wire('submitScreening', {}), go).then((r) => r.result) : go().then((r) => r.result);
  };
  const must = (r: { ok: boolean; error?: { message: string } }, what: string) => {
    if (!r.ok) throw new Error(`${label}: ${what} failed: ${r.error?.message ?? '?'}`);
  };
  if (at === 'connecting') {
    sim.delayReplies(150); // the HELLO's answer takes a while: connecting lasts
    void runner.connect();
    await settle(20);
  } else if (at !== 'idle') {
    must(await h.call(runner.connect()), 'connect');
    if (at !== 'ready') {
      must(runner.prepare({ protocol }), 'prepare');
      if (at !== 'screening') {
        must(await h.call(submit()), 'screening');
        if (at !== 'checking-electrodes') {
          must(await h.call(runner.start({ targetMa: TARGET_MA })), 'start');
          // On by the frames, and delivering by the device's own TEL: a deadline measured from a
          // device that had not begun to deliver would be 0 ms and prove nothing.
          await h.until(() => currentByFrames(tap.written) && delivering(), 2000, 'current on by the frames and the TEL');
          if (at !== 'ramping') await h.until(() => runner.state === 'running', 10_000, 'running');
          if (at === 'paused') must(await h.call(runner.pause()), 'pause');
          if (at === 'ramping-down') {
            sim.delayReplies(150); // the STOP's acknowledgement takes a while: ramping-down lasts
            void runner.stop();
            await settle(20);
          }
          if (at === 'completed') await h.until(() => runner.state === 'completed', 20_000, 'completed');
          if (at === 'stopped') must(await h.call(runner.stop()), 'stop');
          if (at === 'aborted') {
            sim.reboot();
            await h.until(() => runner.state === 'aborted', 1000, 'aborted');
            await h.run(500); // the host HELLOs the restarted device again
          }
        }
      }
    }
  }
  expect(runner.state, label).toBe(at);
  const outputOn = OUTPUT_ON.has(at);
  if (outputOn) expect(delivering(), `${label}: the device's TEL and output show current`).toBe(true);
  // Output at the injection, from the frames the host wrote: on where the state has output, off (and why) elsewhere.
  expect(currentByFrames(tap.written), `${label}: output ${outputOn ? 'on' : `off (${NO_OUTPUT[at as keyof typeof NO_OUTPUT]})`} by the frames`).toBe(outputOn);
  const commanded = onByFrames(tap.written);
  const before = journals[0] ? journalSnapshot(journals[0]) : undefined;

  // ---- inject ----
  const t0 = scheduler.now();
  const writtenAtFault = tap.written.length;
  let deviceOffAt: number | null = deviceOn() ? null : t0;
  let deviceOnAfter = false;
  const watch = () => {
    if (deviceOn()) {
      if (deviceOffAt !== null) deviceOnAfter = true;
    } else deviceOffAt ??= scheduler.now();
  };
  const unwatch = sim.onEvent(watch);
  let hostDead = false;
  const refusedB: string[] = [];
  switch (fault) {
    case 'cable-pull':
      sim.cablePull();
      break;
    case 'port-unplug':
      h.transport.unplug();
      break;
    case 'device-reboot':
      sim.reboot();
      break;
    case 'frozen-device':
      // The device hangs but still obeys what it receives: it answers nothing and sends no TEL,
      // and the host's heartbeats keep its watchdog fed. Only the host can notice.
      lie = () => null;
      break;
    case 'lying-echo':
      // Every AMP is acknowledged with another amplitude (a valid CRC: a device that lies).
      lie = (m) => (m.type === 'ok' && m.verb === 'AMP' ? { ...m, args: { ...m.args, amp: m.args.amp + 5000 } } : m);
      if (at === 'running') runner.titrate(0.1); // a held amplitude sends no AMP: make the host send one
      break;
    case 'dropped-acks':
      sim.dropReplies(2);
      break;
    case 'delayed-acks':
      // For DELAY_BURST_MS every reply comes 300 ms late, longer than the 200 ms ack timeout: each
      // retry is answered from the device's store. (A ramp slows meanwhile, and catches up after.)
      sim.delayReplies(300);
      break;
    case 'crc-burst':
      // Three corrupted lines in a row: inside the retry budget (4 attempts). Four or more bad
      // replies to the same request in a row are, by design, a dead link (AckTimeout, abort).
      sim.corruptNextLines(3);
      break;
    case 'garbage-flood':
      sim.garbageFlood(50_000);
      break;
    case 'open-circuit':
      sim.setLoad(1, 'OPEN');
      break;
    case 'compliance':
      sim.setLoad(1, 90_000); // 2 mA x 90 kOhm = 180 V, far above the 80 V compliance
      break;
    case 'host-sigkill':
      // The host process dies: nothing more is written to the port or the journal, no timer runs.
      hostDead = true;
      fs.mode = 'frozen';
      tap.write = () => undefined;
      runner.dispose();
      h.client.dispose();
      break;
    case 'renderer-crash':
      win!.window.webContents.emit('render-process-gone', {}, { reason: 'crashed', exitCode: 139 });
      break;
    case 'renderer-hang':
      win!.window.webContents.emit('unresponsive');
      break;
    case 'frozen-page':
      pageAlive = false; // the page's script stops: its socket stays open, it answers no ping
      break;
    case 'stolen-control': {
      // A second UI with the token tries to change the session it does not control.
      const uiB = control!.join({ label: 'window B', send: () => undefined });
      const runnerCall = (call: string): Promise<{ ok: boolean; error?: { code: string; message: string } }> => {
        switch (call) {
          case 'titrate':
            return Promise.resolve(runner.titrate(0.5));
          case 'stop':
            return runner.stop();
          case 'pause':
            return runner.pause();
          default:
            return runner.start({ targetMa: 4 });
        }
      };
      for (const call of ['titrate', 'pause', 'stop', 'start']) {
        void control!
          .handle(uiB, wire(call, {}), () => runnerCall(call).then((r) => ({ result: (r.ok ? { ok: true, data: null } : { ok: false, error: { code: 'ILLEGAL_STATE', message: r.error?.message ?? '' } }) as Result<unknown> })))
          .then((r) => {
            if (!r.result.ok) refusedB.push(`${call}: ${r.result.error.code}`);
          });
      }
      break;
    }
    case 'disk-full':
      fs.mode = 'ENOSPC';
      runner.addNote('a note the disk cannot take');
      break;
    case 'journal-write-error':
      fs.mode = 'EIO';
      runner.addNote('a note the disk cannot take');
      break;
    case 'clock-jump':
      // The wall clock steps back two hours (an NTP correction): journal timestamps go backwards,
      // the session's timing (the monotonic scheduler) does not move.
      wallOffsetMs = -2 * 3600_000;
      runner.addNote('a note after the clock stepped back');
      break;
  }
  if (fault !== 'delayed-acks' && (at === 'connecting' || at === 'ramping-down')) sim.delayReplies(0);
  watch();
  const spec = ON_OUTPUT[fault];
  const observeMs = spec.observeMs ?? OBSERVE_MS;
  const end = t0 + observeMs;
  while (scheduler.now() < end) {
    await h.run(10);
    watch();
    if (fault === 'delayed-acks' && scheduler.now() >= t0 + DELAY_BURST_MS) sim.delayReplies(0);
  }
  unwatch();

  const state: At | 'dead' = hostDead ? 'dead' : runner.state;
  const reason = hostDead ? 'host killed' : (runner.snapshot.reason ?? '');
  const after = tap.written.slice(writtenAtFault);
  let offAfterMs: number | null = null;
  let note = '';

  if (outputOn) {
    if (spec.outcome === 'absorbed') {
      // Still on, at the commanded target, by the frames and by the device's own TEL.
      expect(ramps(at).includes(state as At), `${label}: ${state} (${reason})`).toBe(true);
      expect(firstStopFrame(after, t0), `${label}: the host wrote a stop`).toBeUndefined();
      const nowOn = onByFrames(tap.written);
      expect([...nowOn.keys()].sort(), label).toEqual([...commanded.keys()].sort());
      for (const [ch, ua] of nowOn) {
        expect(ua, `${label}: channel ${ch} commanded`).toBe(TARGET_MA * 1000);
        const last = tel.filter((t) => t.ch === ch && t.at > end - ABSORBED_TEL_MS).at(-1);
        expect(last, `${label}: no TEL from channel ${ch} in the last ${ABSORBED_TEL_MS} ms`).toBeDefined();
        expect(last!.amp, `${label}: channel ${ch} TEL set point`).toBe(ua);
        expect(Math.abs(last!.i - last!.amp) / 1000, `${label}: channel ${ch} TEL measured ${last!.i} µA`).toBeLessThanOrEqual(measuredToleranceMa(ua / 1000));
      }
      note = `on at ${TARGET_MA} mA (TEL)`;
    } else {
      expect(state, `${label}: ${reason}`).toBe(spec.outcome);
      if (spec.reason) expect(reason, label).toMatch(spec.reason);
      const off = spec.off!;
      if (off.by === 'host') {
        const stop = firstStopFrame(after, t0);
        expect(stop, `${label}: the host wrote no ESTOP or STOP`).toBeDefined();
        offAfterMs = stop!.at - t0;
        expect(currentByFrames(tap.written), `${label}: the frames leave current on`).toBe(false);
      } else {
        expect(deviceOffAt, `${label}: the device's output is still on`).not.toBeNull();
        offAfterMs = deviceOffAt! - t0;
      }
      expect(offAfterMs, `${label}: output off after ${offAfterMs} ms`).toBeLessThanOrEqual(off.withinMs);
      expect(deviceOn(), `${label}: the device is still delivering`).toBe(false);
      note = `${off.by} off ${offAfterMs} ms`;
    }
  } else {
    const want = noOutputOutcome(fault, at);
    expect(state, `${label}: ended ${state} (${reason})`).toBe(want);
    // Nothing turned current on after the fault, at the device or in the frames.
    expect(turnOnFrames(after).map((w) => w.line), `${label}: frames that turn output on after the fault`).toEqual([]);
    expect(deviceOnAfter || deviceOn(), `${label}: the device delivered after the fault`).toBe(false);
    // Refusable: a session prepared or paused can still be ended without any output.
    if (!hostDead && (state === 'screening' || state === 'checking-electrodes')) {
      expect(runner.cancel().ok, `${label}: cancel`).toBe(true);
      expect(runner.state).toBe('ready');
    } else if (!hostDead && state === 'paused') {
      expect((await h.call(runner.stop())).ok, `${label}: stop`).toBe(true);
      expect(runner.state).toBe('stopped');
    }
    await h.run(100);
    expect(turnOnFrames(tap.written.slice(writtenAtFault)), `${label}: frames that turn output on after ending it`).toEqual([]);
    note = NO_OUTPUT[at as keyof typeof NO_OUTPUT];
  }
  if (fault === 'stolen-control') {
    // Once a UI began the session (its screening), the other is refused before the runner hears of
    // it; before that there is nothing to steal, and the runner refuses what does not fit the state.
    const code = ['idle', 'connecting', 'ready', 'screening'].includes(at) ? 'ILLEGAL_STATE' : 'NOT_CONTROLLER';
    expect(refusedB.sort(), `${label}: the second UI's calls`).toEqual(['pause', 'start', 'stop', 'titrate'].map((c) => `${c}: ${code}`));
  }

  // ---- the journal: everything written before the fault, byte for byte and hash for hash ----
  if (before && journals[0]) {
    if (fs.mode === 'ENOSPC' || fs.mode === 'EIO') fs.mode = 'ok';
    const now = journalSnapshot(journals[0]);
    expect(now.text.startsWith(before.text), `${label}: the journal's lines before the fault changed`).toBe(true);
    expect(now.hashes.slice(0, before.hashes.length), label).toEqual(before.hashes);
    expect(now.records.slice(0, before.records.length), label).toEqual(before.records);
    const read = readJournal({ path: journals[0] }, { fallbackDir });
    expect(read.chainIntact, `${label}: ${JSON.stringify(read.problems)}`).toBe(true);
  }

  control?.dispose();
  if (hostDead) sim.dispose();
  else {
    if (fs.mode !== 'frozen') fs.mode = 'ok';
    h.dispose();
  }
  return { fault, at, outcome: state, offAfterMs, note };
}

/** Where a session that was ramping or running may be after an absorbed fault. */
function ramps(at: At): readonly At[] {
  return at === 'ramping' ? ['ramping', 'running'] : [at];
}

describe('fault matrix: 12 states x every fault', () => {
  for (const fault of FAULTS) {
    for (const at of STATES) {
      const spec = ON_OUTPUT[fault];
      const title = OUTPUT_ON.has(at)
        ? spec.outcome === 'absorbed'
          ? `absorbed: output stays on at the commanded ${TARGET_MA} mA (frames and TEL) through ${spec.observeMs ?? OBSERVE_MS} ms`
          : `${spec.outcome}: output on, then off within ${spec.off!.withinMs} ms (${spec.off!.by === 'host' ? "the host's stop frame" : 'the device on its own'})`
        : `no output (${NO_OUTPUT[at as keyof typeof NO_OUTPUT]}): ${noOutputOutcome(fault, at)}, the device never turned on`;
      it(`${HAZARDS[fault]} ${fault} × ${at}: ${title}`, async () => {
        results.push(await cell(fault, at));
      });
    }
  }
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  const header = `| fault | ${STATES.join(' | ')} |\n|---|${STATES.map(() => '---').join('|')}|`;
  const rows = FAULTS.map((f) => {
    const cells = STATES.map((s) => {
      const r = results.find((x) => x.fault === f && x.at === s);
      if (!r) return 'FAILED';
      return `${r.outcome}${r.offAfterMs !== null ? ` (off ${r.offAfterMs} ms)` : OUTPUT_ON.has(s) ? ' (on)' : ''}`;
    });
    return `| ${f} | ${cells.join(' | ')} |`;
  });
  const legend = [
    '',
    '(off N ms): output was on (by the frames) and was off N ms after the injection; (on): an absorbed fault, output still on at the commanded amplitude.',
    'Without a time: the state had no output (the cell says why) and the device never received a START or an AMP/SET above 0 after the fault.',
  ].join('\n');
  // Only where the summary reporter will print it (and then remove it); never into the working tree.
  const dir = process.env['EDN_RESULTS_DIR'];
  if (dir !== undefined && existsSync(dir)) writeFileSync(path.join(dir, 'fault-matrix.md'), `${header}\n${rows.join('\n')}\n${legend}\n`);
});
