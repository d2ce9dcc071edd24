/**
 * The simulated stimulator: the device side of the EDN wire protocol (PROTOCOL.md and the lead's
 * device-behaviour notes) with an electrode/tissue model and fault injection.
 *
 * It shares only the codec with the host. Its limits (limits.ts), watchdog and e-stop latch are its
 * own code, so a bug in the host's guard cannot hide here too (ARCHITECTURE.md, defence in depth).
 *
 * Time: every timestamp is `scheduler.now()` and every timer `scheduler.schedule()`; nothing else.
 * A control tick every `tickMs` (default 10) checks the watchdog, compliance and open circuit and
 * reports set-point changes; telemetry, DONE and delayed replies have exact timers of their own.
 *
 * Re-entrancy: listeners are called synchronously. Bytes a listener feeds back into `receive()` while
 * the device is busy are queued and processed, in order, before the outermost call returns; events
 * (`onEvent`) are delivered after the state change and the wire line that caused them. Listeners must
 * not throw.
 */
import type { SchedulerLike, Subscription } from 'rxjs';
import {
  ERROR_CODES,
  MAX_SEQ,
  decodeRequest,
  encode,
  setReadbackCrc,
  type ChannelState,
  type ErrorCode,
  type FaultCode,
  type HelloReply,
  type OkReply,
  type ReplyArgs,
  type Request,
  type RequestArgs,
  type SetArgs,
} from '../../firmware-protocol/index.js';
import type { FaultTarget } from './faults.js';
import { LineAssembler } from './lines.js';
import { MODEL, resolveLimits, type DeviceLimits } from './limits.js';
import { hex32, int, stream, type Random } from './random.js';
import type { ChannelSnapshot, SimEvent, SimulatorCounters, SimulatorOptions, SimulatorSnapshot } from './types.js';
import { patternOf, pulseLengthUs, pulseOnsetsUs, shortestIntervalUs, type PulsePattern } from './waveform.js';

/** Decode errors whose seq the device does not trust: answered `! ERR code=...` (rate-capped). */
/** Requests that never take part in the retry store (see `onLine`). */
const UNSTORED: ReadonlySet<string> = new Set(['HB', 'STATUS']);
const UNTRUSTED: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['BAD_CRC', 'BAD_FRAME', 'TOO_LONG']);
const TOKEN = /^[A-Za-z0-9._-]{1,32}$/;
/** Purposes of the PRNG streams (any distinct constants). */
const RNG = { load: 0x10ad, boot: 0xb007, garbage: 0x6a7b, corrupt: 0xc0de } as const;
const CORRUPT_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** The outcome of executing one valid request. */
type Outcome = { readonly ok: OkReply } | { readonly err: ErrorCode; readonly msg: string };

interface Channel {
  readonly index: number;
  state: ChannelState;
  program: SetArgs | null;
  pattern: PulsePattern | null;
  load: number | 'OPEN';
  /** While ON: when output started (ms). */
  startAt: number;
  /** While ON: the amplitude being slewed toward (µA). */
  targetUa: number;
  /** While ON: the present slew segment starts at segBaseUa at time segAt, rising at ramp µA/s. */
  segBaseUa: number;
  segAt: number;
  ramp: number;
  /** Delivered cathodic charge since START, pC (µA x µs), and the time (µs since START) it covers. */
  chargePc: number;
  accruedToUs: number;
  /** Last set point reported as a SimEvent and when. */
  reportedUa: number;
  reportedAt: number;
  telTimer: Subscription | null;
  doneTimer: Subscription | null;
}

export class SimulatedStimulator implements FaultTarget {
  /** The device's compiled limits (HELLO reports them). */
  readonly limits: DeviceLimits;
  /** Number of output channels. */
  readonly channelCount: number;
  /** Control period, ms. */
  readonly tickMs: number;
  /** Identity reported by HELLO. */
  readonly model: string;
  readonly firmware: string;
  readonly serial: string;
  /** `instant`: AMP and START apply the amplitude at once (no slew of the device's own). */
  readonly amplitudeMode: 'ramp' | 'instant';

  private readonly scheduler: SchedulerLike;
  private readonly bootRandom: Random;
  private readonly garbageRandom: Random;
  private readonly corruptRandom: Random;
  private readonly channels: Channel[];
  private readonly rx = new LineAssembler(MODEL.maxLineBytes);
  private readonly txListeners: { readonly fn: (chunk: string) => void }[] = [];
  private readonly eventListeners: { readonly fn: (e: SimEvent) => void }[] = [];

  private phase: 'new' | 'running' | 'disposed' = 'new';
  private startedAt: number | null = null;
  private bootId = '00000000';
  private bootAt = 0;
  private latched = false;
  private hostSession = false;
  private lastValidAt = 0;
  /** The last valid request line executed and its reply, for byte-identical retries. */
  private last: { readonly line: string; readonly reply: string; readonly code: ErrorCode | null } | null = null;
  /** When recent `! ERR` lines were sent (at most unsolicitedErrorLimit entries). */
  private errTimes: number[] = [];

  /** Timers of the running device: cancelled by reboot() and dispose(). */
  private readonly deviceTimers = new Set<Subscription>();
  /** Timers outside the device (scheduled faults): cancelled by dispose() only. */
  private readonly externalTimers = new Set<Subscription>();
  private readonly beforeStart: { readonly atMs: number; readonly work: () => void }[] = [];

  /** Re-entrancy: depth of device work on the stack, input queued meanwhile, events to deliver. */
  private depth = 0;
  private readonly rxQueue: (string | Uint8Array)[] = [];
  private readonly eventQueue: SimEvent[] = [];

  private readonly link = {
    pulled: false,
    drop: 0,
    delayMs: 0,
    corrupt: 0,
    repliesDropped: 0,
    bytesLostIn: 0,
    linesLostOut: 0,
  };
  /** START / IMP requests still to fail inside the device (stageFail). */
  private stageFailures = 0;
  private framesOk = 0;
  private repeatsAnswered = 0;
  private suppressed = 0;
  private readonly rejected = Object.fromEntries(ERROR_CODES.map((c) => [c, 0])) as Record<ErrorCode, number>;

  constructor(options: SimulatorOptions) {
    this.scheduler = options.scheduler;
    this.limits = resolveLimits(options.limits);
    this.channelCount = options.channels ?? MODEL.defaultChannels;
    if (!Number.isInteger(this.channelCount) || this.channelCount < 1 || this.channelCount > MODEL.maxChannels) {
      throw new RangeError(`channels must be an integer in 1..${MODEL.maxChannels}, not ${this.channelCount}`);
    }
    this.amplitudeMode = options.amplitude ?? 'ramp';
    if (this.amplitudeMode !== 'ramp' && this.amplitudeMode !== 'instant') throw new RangeError(`amplitude must be 'ramp' or 'instant', not ${String(this.amplitudeMode)}`);
    this.tickMs = options.tickMs ?? MODEL.defaultTickMs;
    if (!(this.tickMs > 0 && this.tickMs <= MODEL.maxTickMs)) {
      throw new RangeError(`tickMs must be in (0, ${MODEL.maxTickMs}] ms, not ${this.tickMs}`);
    }
    const seed = options.seed ?? MODEL.defaultSeed;
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be a uint32, not ${seed}`);
    this.model = checkToken('model', options.model ?? MODEL.defaultModel);
    this.firmware = checkToken('firmware', options.firmware ?? MODEL.defaultFirmware);
    this.serial = checkToken('serial', options.serial ?? `SIM-${seed.toString(16).toUpperCase().padStart(8, '0')}`);
    this.checkHelloFits();
    const nominal = options.loadOhms ?? MODEL.defaultLoadOhms;
    checkLoad(nominal);
    const loadRandom = stream(seed, RNG.load);
    const entropy = options.bootEntropy ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
    if (!Number.isInteger(entropy) || entropy < 0 || entropy > 0xffffffff) throw new RangeError(`bootEntropy must be a uint32, not ${entropy}`);
    this.bootRandom = stream((seed ^ Math.imul(entropy, 0x85ebca6b)) >>> 0, RNG.boot);
    this.garbageRandom = stream(seed, RNG.garbage);
    this.corruptRandom = stream(seed, RNG.corrupt);
    this.channels = Array.from({ length: this.channelCount }, (_, i) => ({
      index: i + 1,
      state: 'OFF',
      program: null,
      pattern: null,
      load: Math.min(MODEL.maxLoadOhms, Math.round(nominal * (1 + (2 * loadRandom() - 1) * MODEL.loadNoiseFraction))),
      startAt: 0,
      targetUa: 0,
      segBaseUa: 0,
      segAt: 0,
      ramp: 0,
      chargePc: 0,
      accruedToUs: 0,
      reportedUa: 0,
      reportedAt: 0,
      telTimer: null,
      doneTimer: null,
    }));
  }

  /**
   * The HELLO reply must fit a line (256 bytes) at its widest (seq 65535): with the numeric fields
   * that leaves about 74 bytes for model, firmware and serial together (constants.ts MAX_LINE_BYTES).
   */
  private checkHelloFits(): void {
    const widest = this.helloArgs(Math.max(...MODEL.protocolVersions));
    try {
      encode({ type: 'ok', seq: MAX_SEQ, verb: 'HELLO', args: { ...widest, boot: 'FFFFFFFF' } });
    } catch (e) {
      throw new RangeError(`model, firmware and serial are too long together for a HELLO reply: ${String(e)}`);
    }
  }

  // ---- lifecycle -----------------------------------------------------------------------------------

  /** Power on: sends `! BOOT` and starts the control tick. */
  start(): void {
    if (this.phase !== 'new') throw new Error(`cannot start a simulator that is ${this.phase}`);
    this.phase = 'running';
    this.startedAt = this.now();
    this.run(() => {
      this.boot();
      for (const { atMs, work } of this.beforeStart.splice(0)) this.runAt(atMs, work);
    });
  }

  /** Power off for good: cancels every scheduled action; later input is ignored and nothing is sent. */
  dispose(): void {
    this.phase = 'disposed';
    for (const s of [...this.deviceTimers, ...this.externalTimers]) s.unsubscribe();
    this.deviceTimers.clear();
    this.externalTimers.clear();
    this.beforeStart.length = 0;
    this.rxQueue.length = 0;
    this.eventQueue.length = 0;
    for (const c of this.channels) {
      c.telTimer = null;
      c.doneTimer = null;
    }
  }

  /**
   * Run `work` at `atMs` after start() on the simulator's scheduler (before start: queued until then).
   * Used by scheduleFaults; cancelled by dispose(), not by a reboot.
   */
  runAt(atMs: number, work: () => void): void {
    if (this.phase === 'disposed') return;
    if (this.startedAt === null) {
      this.beforeStart.push({ atMs, work });
      return;
    }
    this.after(this.startedAt + atMs - this.now(), this.externalTimers, work);
  }

  /** Run `work` `delayMs` from now on the simulator's scheduler; cancelled by dispose(), not by a reboot. */
  runAfter(delayMs: number, work: () => void): void {
    if (this.phase === 'disposed') return;
    this.after(delayMs, this.externalTimers, work);
  }

  // ---- the link ------------------------------------------------------------------------------------

  /** Bytes from the host, in any chunking (Uint8Array bytes are latin1 code units). */
  receive(chunk: string | Uint8Array): void {
    if (this.phase !== 'running') return;
    if (this.link.pulled) {
      this.link.bytesLostIn += chunk.length;
      return;
    }
    if (this.depth > 0) {
      this.rxQueue.push(chunk);
      return;
    }
    this.run(() => this.rx.push(chunk, this.sink));
  }

  /** What the device writes: each whole line with its `\n` (garbage floods: latin1 bytes). */
  onTransmit(listener: (chunk: string) => void): () => void {
    return subscribe(this.txListeners, listener);
  }

  /** What the simulator reports about itself (see SimEvent). */
  onEvent(listener: (e: SimEvent) => void): () => void {
    return subscribe(this.eventListeners, listener);
  }

  // ---- observability --------------------------------------------------------------------------------

  snapshot(): SimulatorSnapshot {
    const now = this.now();
    const channels: ChannelSnapshot[] = this.channels.map((c) => {
      if (c.state === 'ON') this.accrue(c, now);
      return {
        channel: c.index,
        state: c.state,
        setpointUa: this.setpoint(c, now),
        targetUa: c.state === 'ON' ? c.targetUa : 0,
        measuredUa: this.delivered(c, now),
        loadOhms: c.load,
        deliveredNc: Math.floor(c.chargePc / 1000),
        program: c.program ? { ...c.program } : null,
      };
    });
    const counters: SimulatorCounters = {
      framesOk: this.framesOk,
      rejectedByCode: { ...this.rejected },
      unsolicitedErrorsSuppressed: this.suppressed,
      repeatsAnswered: this.repeatsAnswered,
    };
    return {
      nowMs: now,
      upMs: this.phase === 'new' ? 0 : this.upMs(now),
      started: this.phase !== 'new',
      disposed: this.phase === 'disposed',
      bootId: this.bootId,
      latched: this.latched,
      hostSession: this.hostSession,
      limits: this.limits,
      channels,
      counters,
      link: {
        cablePulled: this.link.pulled,
        dropRepliesPending: this.link.drop,
        replyDelayMs: this.link.delayMs,
        corruptLinesPending: this.link.corrupt,
        repliesDropped: this.link.repliesDropped,
        bytesLostIn: this.link.bytesLostIn,
        linesLostOut: this.link.linesLostOut,
      },
      rxBufferedBytes: this.rx.buffered,
    };
  }

  // ---- fault injection (faults.ts drives these from specs) ----------------------------------------------

  /** Pull the cable: bytes in both directions are lost until reconnectCable(); the device runs on. */
  cablePull(): void {
    this.link.pulled = true;
  }

  reconnectCable(): void {
    this.link.pulled = false;
  }

  /** Reset the device: outputs off, new boot id, no host session, latch cleared, `! BOOT`. */
  reboot(): void {
    this.requireRunning('reboot');
    this.run(() => {
      for (const s of this.deviceTimers) s.unsubscribe();
      this.deviceTimers.clear();
      this.allOff();
      this.latched = false;
      this.hostSession = false;
      this.last = null;
      this.errTimes = [];
      this.rx.reset();
      this.rxQueue.length = 0;
      this.boot();
    });
  }

  /** Drop the next `n` replies (the device believes it sent them). */
  dropReplies(n: number): void {
    this.link.drop = checkCount('dropReplies', n);
  }

  /** Send every reply `ms` late, until called again with 0. Events are not delayed. */
  delayReplies(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`delayReplies: ${ms} is not a delay in ms`);
    this.link.delayMs = ms;
  }

  /** Flip one character in each of the next `n` outgoing lines, so that their CRC fails. */
  corruptNextLines(n: number): void {
    this.link.corrupt = checkCount('corruptNextLines', n);
  }

  /** Write `bytes` seeded random bytes (binary, some newlines) to the host. */
  garbageFlood(bytes: number): void {
    checkCount('garbageFlood', bytes);
    if (bytes > MODEL.maxGarbageBytes) throw new RangeError(`garbageFlood: at most ${MODEL.maxGarbageBytes} bytes`);
    for (let done = 0; done < bytes; done += MODEL.garbageChunkBytes) {
      const n = Math.min(MODEL.garbageChunkBytes, bytes - done);
      const codes = new Array<number>(n);
      for (let i = 0; i < n; i++) {
        codes[i] = int(this.garbageRandom, MODEL.garbageNewlineOneIn) === 0 ? 0x0a : int(this.garbageRandom, 256);
      }
      let chunk = '';
      for (let i = 0; i < n; i += 8192) chunk += String.fromCharCode(...codes.slice(i, i + 8192));
      this.write(chunk);
    }
  }

  /** Change a channel's load (ohm), or open it. The control tick reacts (OPEN / COMPLIANCE faults). */
  setLoad(channel: number, load: number | 'OPEN'): void {
    const c = this.channels[channel - 1];
    if (!c) throw new RangeError(`setLoad: channel ${channel} is not in 1..${this.channelCount}`);
    if (load !== 'OPEN') checkLoad(load);
    this.run(() => {
      if (c.state === 'ON') this.accrue(c, this.now());
      c.load = load;
    });
  }

  /** Over-current detected: FAULT ch=0, every output off, latched. */
  overcurrent(): void {
    this.requireRunning('overcurrent');
    this.run(() => this.globalFault('OVERCURRENT'));
  }

  /** Internal fault detected: FAULT ch=0, every output off, latched. */
  internalFault(): void {
    this.requireRunning('internalFault');
    this.run(() => this.globalFault('INTERNAL'));
  }

  /**
   * The output stage fails the next `n` START or IMP requests that pass every check: each is
   * answered `ERR code=INTERNAL` and changes nothing (PROTOCOL.md §8 INTERNAL; the firmware's HAL
   * returns false from edn_hal_output_start / edn_hal_impedance).
   */
  stageFail(n: number): void {
    this.stageFailures = checkCount('stageFail', n);
  }

  // ---- time and re-entrancy -----------------------------------------------------------------------------

  private now(): number {
    return this.scheduler.now();
  }

  private isDisposed(): boolean {
    return this.phase === 'disposed';
  }

  private upMs(now: number): number {
    return Math.floor(now - this.bootAt) % MODEL.uptimeModulusMs;
  }

  /** Do device work; when the outermost work ends, deliver events and process queued input. */
  private run(work: () => void): void {
    this.depth++;
    try {
      work();
    } finally {
      this.depth--;
    }
    if (this.depth > 0) return;
    while (this.phase !== 'disposed' && (this.eventQueue.length > 0 || this.rxQueue.length > 0)) {
      this.depth++;
      try {
        const events = this.eventQueue.splice(0);
        if (events.length > 0) {
          for (const e of events) {
            if (this.isDisposed()) break; // a listener may dispose the simulator
            for (const l of [...this.eventListeners]) l.fn(e);
          }
        } else {
          const chunk = this.rxQueue.shift() as string | Uint8Array;
          if (this.link.pulled) this.link.bytesLostIn += chunk.length;
          else this.rx.push(chunk, this.sink);
        }
      } finally {
        this.depth--;
      }
    }
  }

  /** Schedule `work` after `delayMs` in `group`; it leaves the group when it runs. */
  private after(delayMs: number, group: Set<Subscription>, work: () => void): Subscription {
    let ran = false;
    let sub: Subscription | undefined = undefined;
    sub = this.scheduler.schedule(() => {
      ran = true;
      if (sub) group.delete(sub);
      if (this.phase === 'running') this.run(work);
    }, Math.max(0, delayMs));
    if (!ran) group.add(sub);
    return sub;
  }

  private cancel(sub: Subscription | null): void {
    if (!sub) return;
    sub.unsubscribe();
    this.deviceTimers.delete(sub);
  }

  private emit(e: SimEvent): void {
    this.eventQueue.push(e);
  }

  private requireRunning(what: string): void {
    if (this.phase !== 'running') throw new Error(`${what}: the simulator is ${this.phase === 'new' ? 'not started' : 'disposed'}`);
  }

  // ---- boot and the control tick ------------------------------------------------------------------------

  private boot(): void {
    const previous = this.bootId;
    do this.bootId = hex32(this.bootRandom);
    while (this.bootId === previous);
    this.bootAt = this.now();
    this.startTicks();
    this.emit({ event: 'boot', bootId: this.bootId });
    this.sendEvent(encode({ type: 'event', event: 'BOOT', args: { boot: this.bootId, proto: Math.max(...MODEL.protocolVersions) } }));
  }

  /** Ticks at boot + k x tickMs, each computed from k (no drift). */
  private startTicks(): void {
    const origin = this.now();
    let k = 0;
    const next = (): void => {
      k++;
      this.after(origin + k * this.tickMs - this.now(), this.deviceTimers, () => {
        next();
        this.tick();
      });
    };
    next();
  }

  private tick(): void {
    const now = this.now();
    if (this.hostSession && now - this.lastValidAt >= this.limits.wdog) this.tripWatchdog();
    for (const c of this.channels) {
      if (c.state !== 'ON') continue;
      this.accrue(c, now);
      if (c.load === 'OPEN') {
        this.channelFault(c, 'OPEN');
      } else if (this.setpoint(c, now) * c.load > this.limits.vc * 1e6) {
        // µA x ohm = µV; compliance is in V.
        this.channelFault(c, 'COMPLIANCE');
      } else {
        const sp = this.setpoint(c, now);
        if (sp !== c.reportedUa && (sp === c.targetUa || now - c.reportedAt >= MODEL.outputEventMinIntervalMs)) {
          this.reportOutput(c, true, sp);
        }
      }
    }
  }

  private tripWatchdog(): void {
    this.hostSession = false;
    this.last = null;
    this.emit({ event: 'watchdog' });
    this.allOff();
    this.sendEvent(encode({ type: 'event', event: 'WDOG', args: {} }));
  }

  private channelFault(c: Channel, code: 'OPEN' | 'COMPLIANCE'): void {
    this.last = null;
    this.emit({ event: 'fault', channel: c.index, code });
    this.switchOff(c, 'OFF');
    this.sendEvent(encode({ type: 'event', event: 'FAULT', args: { ch: c.index, code } }));
  }

  private globalFault(code: Extract<FaultCode, 'OVERCURRENT' | 'INTERNAL'>): void {
    this.latched = true;
    this.last = null;
    this.emit({ event: 'fault', channel: 0, code });
    this.allOff();
    this.sendEvent(encode({ type: 'event', event: 'FAULT', args: { ch: 0, code } }));
  }

  // ---- the output model ------------------------------------------------------------------------------

  /** Amplitude set point at time t (µA): rises from the segment base at `ramp`, never above the target. */
  private setpoint(c: Channel, t: number): number {
    if (c.state !== 'ON') return 0;
    if (c.targetUa <= c.segBaseUa) return c.targetUa;
    return Math.min(c.targetUa, c.segBaseUa + Math.floor((c.ramp * Math.max(0, t - c.segAt)) / 1000));
  }

  /** Current into the load at time t (µA): the set point, clipped at vc / load; nothing into OPEN. */
  private delivered(c: Channel, t: number): number {
    if (c.state !== 'ON' || c.load === 'OPEN') return 0;
    const sp = this.setpoint(c, t);
    return c.load === 0 ? sp : Math.min(sp, Math.floor((this.limits.vc * 1e6) / c.load));
  }

  /**
   * Add the cathodic charge of the pulses that started since the last accrual. Called before anything
   * that changes the set point, the load or the state, so every pulse sees the values of its time.
   */
  private accrue(c: Channel, now: number): void {
    if (c.state !== 'ON' || !c.pattern || !c.program) return;
    const toUs = (now - c.startAt) * 1000;
    if (toUs <= c.accruedToUs) return;
    for (const onset of pulseOnsetsUs(c.pattern, c.accruedToUs, toUs)) {
      c.chargePc += this.delivered(c, c.startAt + onset / 1000) * c.program.pw;
    }
    c.accruedToUs = toUs;
  }

  /** Output off (if on) and program discarded; the channel becomes `to`. Returns whether it was ON. */
  private switchOff(c: Channel, to: 'OFF' | 'DONE'): boolean {
    const wasOn = c.state === 'ON';
    if (wasOn) this.accrue(c, this.now());
    this.cancel(c.telTimer);
    this.cancel(c.doneTimer);
    c.telTimer = null;
    c.doneTimer = null;
    c.state = to;
    c.program = null;
    c.pattern = null;
    c.targetUa = 0;
    c.segBaseUa = 0;
    if (wasOn) this.reportOutput(c, false, 0);
    return wasOn;
  }

  /**
   * Every output off and every staged program discarded: all channels OFF, a DONE one too
   * (PROTOCOL.md §9: ESTOP, the watchdog, device-wide faults, HELLO, STOP and a reboot all leave
   * "all → OFF"; the C firmware found that this simulator used to keep DONE for the first three).
   */
  private allOff(): void {
    for (const c of this.channels) this.switchOff(c, 'OFF');
  }

  private reportOutput(c: Channel, on: boolean, ua: number): void {
    c.reportedUa = ua;
    c.reportedAt = this.now();
    this.emit({ event: 'output', channel: c.index, on, amplitudeMa: ua / 1000 });
  }

  private startOutput(c: Channel, program: SetArgs): void {
    const now = this.now();
    c.state = 'ON';
    c.startAt = now;
    c.targetUa = program.amp;
    c.segBaseUa = this.amplitudeMode === 'instant' ? program.amp : 0;
    c.segAt = now;
    c.ramp = program.ramp;
    c.chargePc = 0;
    c.accruedToUs = 0;
    this.reportOutput(c, true, c.segBaseUa);
    c.doneTimer = this.after(program.dur * 1000, this.deviceTimers, () => this.durationElapsed(c));
    let k = 0;
    const next = (): void => {
      k++;
      c.telTimer = this.after(c.startAt + k * MODEL.telemetryPeriodMs - this.now(), this.deviceTimers, () => {
        next();
        this.telemetry(c);
      });
    };
    next();
  }

  private telemetry(c: Channel): void {
    if (c.state !== 'ON') return;
    const now = this.now();
    this.accrue(c, now);
    const q = Math.min(MODEL.maxChargeNc, Math.floor(c.chargePc / 1000));
    const args = { ch: c.index, amp: this.setpoint(c, now), i: this.delivered(c, now), z: c.load, q };
    this.sendEvent(encode({ type: 'event', event: 'TEL', args }));
  }

  private durationElapsed(c: Channel): void {
    if (c.state !== 'ON') return;
    c.doneTimer = null;
    this.last = null;
    this.switchOff(c, 'DONE');
    this.emit({ event: 'done', channel: c.index });
    this.sendEvent(encode({ type: 'event', event: 'DONE', args: { ch: c.index } }));
  }

  // ---- requests ----------------------------------------------------------------------------------------

  private readonly sink = {
    line: (raw: string): void => this.handleLine(raw),
    overflow: (head: string): void => {
      this.reject('TOO_LONG', head);
      this.sendUnsolicitedError('TOO_LONG');
    },
  };

  private handleLine(raw: string): void {
    if (this.phase !== 'running') return;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length === 0) return; // empty lines are ignored silently
    const decoded = decodeRequest(raw);
    if (!decoded.ok) {
      const { code, seq, message } = decoded.error;
      this.reject(code, raw);
      if (UNTRUSTED.has(code) || seq === undefined) this.sendUnsolicitedError(code);
      else this.sendReply(encode({ type: 'err', seq, args: withMsg(code, message) }));
      return;
    }
    const request = decoded.message;
    this.lastValidAt = this.now(); // every valid frame re-arms the watchdog
    // ESTOP acts on receipt, always, even as a retry: nothing may stand between it and the outputs.
    const repeat = request.verb !== 'ESTOP' && !UNSTORED.has(request.verb) && this.last !== null && this.last.line === line;
    if (repeat && this.last) {
      this.repeatsAnswered++;
      this.count(this.last.code, line);
      this.sendReply(this.last.reply);
      return;
    }
    const outcome = this.execute(request);
    const reply = 'ok' in outcome ? encode(outcome.ok) : encode({ type: 'err', seq: request.seq, args: withMsg(outcome.err, outcome.msg) });
    const code = 'ok' in outcome ? null : outcome.err;
    // HB and STATUS neither use nor replace the stored request (PROTOCOL.md §12.3): the host's
    // heartbeat runs on its own lane and often falls between a request and its retry.
    if (!UNSTORED.has(request.verb)) this.last = { line, reply, code };
    this.count(code, line);
    this.sendReply(reply);
  }

  private count(code: ErrorCode | null, line: string): void {
    if (code === null) this.framesOk++;
    else this.reject(code, line);
  }

  private reject(code: ErrorCode, line: string): void {
    this.rejected[code]++;
    this.emit({ event: 'rejected', code, line });
  }

  private execute(request: Request): Outcome {
    const seq = request.seq;
    switch (request.verb) {
      case 'HELLO':
        return this.hello(seq, request.args);
      case 'SET':
        return this.set(seq, request.args);
      case 'START':
        return this.startChannel(seq, request.args.ch);
      case 'AMP':
        return this.amp(seq, request.args);
      case 'STOP':
        return this.stop(seq, request.args.ch);
      case 'ESTOP':
        this.emit({ event: 'estop' });
        this.latched = true;
        this.allOff();
        return { ok: { type: 'ok', seq, verb: 'ESTOP', args: { latched: true } } };
      case 'CLEAR':
        this.latched = false;
        this.emit({ event: 'clear' });
        return { ok: { type: 'ok', seq, verb: 'CLEAR', args: { latched: false } } };
      case 'HB':
        if (!this.hostSession) return noHello();
        return { ok: { type: 'ok', seq, verb: 'HB', args: {} } };
      case 'STATUS':
        return { ok: { type: 'ok', seq, verb: 'STATUS', args: this.status() } };
      case 'IMP':
        return this.imp(seq, request.args.ch);
    }
  }

  private hello(seq: number, a: RequestArgs<'HELLO'>): Outcome {
    const spoken = MODEL.protocolVersions.filter((v) => v >= a.vmin && v <= a.vmax);
    if (spoken.length === 0) {
      return { err: 'VERSION', msg: `speaks ${Math.min(...MODEL.protocolVersions)}..${Math.max(...MODEL.protocolVersions)}` }; // PROTOCOL.md §6.1, §10
    }
    this.allOff();
    this.hostSession = true;
    return { ok: { type: 'ok', seq, verb: 'HELLO', args: this.helloArgs(Math.max(...spoken)) } };
  }

  private helloArgs(proto: number): HelloReply {
    const L = this.limits;
    return {
      proto,
      model: this.model,
      fw: this.firmware,
      sn: this.serial,
      boot: this.bootId,
      ch: this.channelCount,
      fmin: L.fmin,
      fmax: L.fmax,
      pwmin: L.pwmin,
      pwmax: L.pwmax,
      amin: L.amin,
      amax: L.amax,
      qmax: L.qmax,
      tmax: L.tmax,
      vc: L.vc,
      wdog: L.wdog,
    };
  }

  /** SET: NO_HELLO, LATCHED, RANGE (ch), STATE, RANGE (values), CHARGE. */
  private set(seq: number, a: SetArgs): Outcome {
    if (!this.hostSession) return noHello();
    if (this.latched) return latched();
    const c = this.channels[a.ch - 1];
    if (!c) return this.badChannel(a.ch);
    if (c.state === 'ON') return { err: 'STATE', msg: `channel ${a.ch} is ON: STOP it first` };
    const range = this.checkProgram(a);
    if (range) return { err: 'RANGE', msg: range };
    const charge = this.checkCharge(a.amp, a.pw);
    if (charge) return charge;
    c.program = { ...a };
    c.pattern = patternOf(c.program);
    c.state = 'STAGED';
    return { ok: { type: 'ok', seq, verb: 'SET', args: { ch: a.ch, crc: setReadbackCrc(c.program) } } };
  }

  /** The first value of `a` outside the device's limits, as `msg` text; undefined when all fit. */
  private checkProgram(a: SetArgs): string | undefined {
    const L = this.limits;
    const outside = (key: string, v: number, lo: number, hi: number, unit: string) =>
      v < lo || v > hi ? `${key} ${v} not in ${lo}..${hi} ${unit}` : undefined;
    const f2 = a.mode === 'CONT' ? undefined : outside('f2', a.f2, L.fmin, L.fmax, 'mHz');
    const fields =
      outside('f', a.f, L.fmin, L.fmax, 'mHz') ??
      f2 ??
      outside('pw', a.pw, L.pwmin, L.pwmax, 'us') ??
      outside('amp', a.amp, L.amin, L.amax, 'uA') ??
      outside('dur', a.dur, 1, L.tmax, 's') ??
      outside('ramp', a.ramp, 1, L.slew, 'uA/s');
    if (fields) return fields;
    // A burst must fit its period: n pulses 1e9/f2 µs apart take less than 1e9/f µs, i.e. n x f < f2.
    if (a.mode === 'BURST' && a.n * a.f >= a.f2) return `n ${a.n} x f must be below f2 ${a.f2} mHz`;
    // Dense-disperse alternates a low (f) and a high (f2) frequency (PROTOCOL.md §6.2).
    if (a.mode === 'DD' && a.f >= a.f2) return `f ${a.f} must be below f2 ${a.f2} mHz in mode DD`;
    // A pulse must end before the next begins (only reachable with custom limits).
    const pattern = patternOf(a);
    if (pulseLengthUs(a.wf, a.pw) >= shortestIntervalUs(pattern)) return `pw ${a.pw} us: pulse longer than its period`;
    return undefined;
  }

  /** CHARGE when amp x pw exceeds qmax (µA x µs = pC; qmax is nC). */
  private checkCharge(amp: number, pw: number): Outcome | undefined {
    if (amp * pw <= this.limits.qmax * 1000) return undefined;
    return { err: 'CHARGE', msg: `amp x pw ${Math.ceil((amp * pw) / 1000)} nC above qmax ${this.limits.qmax} nC` };
  }

  /** START: NO_HELLO, LATCHED, RANGE (ch), STATE (not STAGED). */
  private startChannel(seq: number, ch: number): Outcome {
    if (!this.hostSession) return noHello();
    if (this.latched) return latched();
    const c = this.channels[ch - 1];
    if (!c) return this.badChannel(ch);
    if (c.state !== 'STAGED' || !c.program) return { err: 'STATE', msg: `channel ${ch} is ${c.state}, not STAGED` };
    if (this.stageFailures > 0) {
      this.stageFailures--;
      return { err: 'INTERNAL', msg: 'output stage did not respond' };
    }
    this.startOutput(c, c.program);
    return { ok: { type: 'ok', seq, verb: 'START', args: { ch } } };
  }

  /** AMP: NO_HELLO, LATCHED, RANGE (ch, amp), STATE (not ON), CHARGE. Rising slews; falling is immediate. */
  private amp(seq: number, a: RequestArgs<'AMP'>): Outcome {
    if (!this.hostSession) return noHello();
    if (this.latched) return latched();
    const c = this.channels[a.ch - 1];
    if (!c) return this.badChannel(a.ch);
    const L = this.limits;
    if (a.amp < L.amin || a.amp > L.amax) return { err: 'RANGE', msg: `amp ${a.amp} not in ${L.amin}..${L.amax} uA` };
    if (c.state !== 'ON' || !c.program) return { err: 'STATE', msg: `channel ${a.ch} is ${c.state}, not ON` };
    const charge = this.checkCharge(a.amp, c.program.pw);
    if (charge) return charge;
    const now = this.now();
    this.accrue(c, now);
    const sp = this.setpoint(c, now);
    c.targetUa = a.amp;
    c.segAt = now;
    if (a.amp > sp && this.amplitudeMode === 'ramp') {
      c.segBaseUa = sp;
    } else {
      c.segBaseUa = a.amp;
      if (a.amp !== c.reportedUa) this.reportOutput(c, true, a.amp);
    }
    return { ok: { type: 'ok', seq, verb: 'AMP', args: { ch: a.ch, amp: a.amp } } };
  }

  /** STOP [ch]: accepted in any state; RANGE only for a channel the device does not have. */
  private stop(seq: number, ch: number | undefined): Outcome {
    if (ch === undefined) {
      this.allOff();
      return { ok: { type: 'ok', seq, verb: 'STOP', args: {} } };
    }
    const c = this.channels[ch - 1];
    if (!c) return this.badChannel(ch);
    this.switchOff(c, 'OFF');
    return { ok: { type: 'ok', seq, verb: 'STOP', args: { ch } } };
  }

  private status(): ReplyArgs<'STATUS'> {
    const args: Record<string, unknown> = { latched: this.latched, boot: this.bootId, up: this.upMs(this.now()) };
    for (const c of this.channels) args[`s${c.index}`] = c.state;
    return args as ReplyArgs<'STATUS'>;
  }

  /**
   * IMP: NO_HELLO, LATCHED (a test pulse is current: none while e-stopped), RANGE, STATE (ON).
   * OPEN when even the 100 µA test pulse would exceed compliance.
   */
  private imp(seq: number, ch: number): Outcome {
    if (!this.hostSession) return noHello();
    if (this.latched) return latched();
    const c = this.channels[ch - 1];
    if (!c) return this.badChannel(ch);
    if (c.state === 'ON') return { err: 'STATE', msg: `channel ${ch} is ON: STOP it first` };
    if (this.stageFailures > 0) {
      this.stageFailures--;
      return { err: 'INTERNAL', msg: 'impedance measurement failed' };
    }
    const open = c.load === 'OPEN' || MODEL.impTestCurrentUa * c.load > this.limits.vc * 1e6;
    return { ok: { type: 'ok', seq, verb: 'IMP', args: { ch, z: open ? 'OPEN' : c.load } } };
  }

  private badChannel(ch: number): Outcome {
    return { err: 'RANGE', msg: `ch ${ch} not in 1..${this.channelCount}` };
  }

  // ---- transmit ----------------------------------------------------------------------------------------

  private sendUnsolicitedError(code: ErrorCode): void {
    const now = this.now();
    const windowStart = now - MODEL.unsolicitedErrorWindowMs;
    this.errTimes = this.errTimes.filter((t) => t > windowStart);
    if (this.errTimes.length >= MODEL.unsolicitedErrorLimit) {
      this.suppressed++;
      return;
    }
    this.errTimes.push(now);
    this.sendReply(encode({ type: 'err', seq: null, args: { code } }));
  }

  /** A line answering an input line: subject to dropReplies and delayReplies. */
  private sendReply(line: string): void {
    if (this.link.drop > 0) {
      this.link.drop--;
      this.link.repliesDropped++;
      return;
    }
    if (this.link.delayMs > 0) {
      this.after(this.link.delayMs, this.deviceTimers, () => this.sendLine(line));
      return;
    }
    this.sendLine(line);
  }

  /** An unsolicited event line: never dropped or delayed. */
  private sendEvent(line: string): void {
    this.sendLine(line);
  }

  private sendLine(line: string): void {
    if (this.link.corrupt > 0 && !this.link.pulled) {
      this.link.corrupt--;
      line = this.corrupt(line);
    }
    this.write(`${line}\n`);
  }

  /** Replace one character before ` *` with a different letter or digit: the CRC then fails. */
  private corrupt(line: string): string {
    const mark = line.lastIndexOf(' *');
    const positions: number[] = [];
    for (let i = 0; i < mark; i++) if (line[i] !== ' ') positions.push(i);
    const at = positions[int(this.corruptRandom, positions.length)] ?? 0;
    const was = line[at];
    let by = was;
    while (by === was) by = CORRUPT_ALPHABET[int(this.corruptRandom, CORRUPT_ALPHABET.length)];
    return `${line.slice(0, at)}${by ?? 'X'}${line.slice(at + 1)}`;
  }

  private write(chunk: string): void {
    if (this.phase !== 'running') return;
    if (this.link.pulled) {
      this.link.linesLostOut++;
      return;
    }
    for (const l of [...this.txListeners]) l.fn(chunk);
  }
}

function subscribe<T>(list: { readonly fn: T }[], fn: T): () => void {
  const entry = { fn };
  list.push(entry);
  return () => {
    const i = list.indexOf(entry);
    if (i >= 0) list.splice(i, 1);
  };
}

function noHello(): Outcome {
  return { err: 'NO_HELLO', msg: 'no host session: send HELLO first' };
}

function latched(): Outcome {
  return { err: 'LATCHED', msg: 'e-stop latched: send CLEAR first' };
}

/** ERR arguments with `msg` cut to what the codec's text field carries (48 characters, 64 once percent-encoded). */
function withMsg(code: ErrorCode, msg: string): { code: ErrorCode; msg?: string } {
  let text = '';
  let wire = 0;
  for (const ch of msg.replace(/[^\x20-\x7e]/g, '?')) {
    const cost = /[A-Za-z0-9._~-]/.test(ch) ? 1 : 3; // percent-encoding: %XX
    if (text.length + 1 > MODEL.maxMessageChars || wire + cost > MODEL.maxMessageWireChars) break;
    text += ch;
    wire += cost;
  }
  return text.length > 0 ? { code, msg: text } : { code };
}

function checkToken(what: string, value: string): string {
  if (!TOKEN.test(value)) throw new RangeError(`${what} '${value}' must be 1-32 of [A-Za-z0-9._-]`);
  return value;
}

function checkLoad(ohms: number): void {
  if (!Number.isInteger(ohms) || ohms < 0 || ohms > MODEL.maxLoadOhms) {
    throw new RangeError(`load ${ohms} must be an integer in 0..${MODEL.maxLoadOhms} ohm or 'OPEN'`);
  }
}

function checkCount(what: string, n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${what}: ${n} is not a count`);
  return n;
}
