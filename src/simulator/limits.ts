/**
 * Every number of the simulated stimulator, with its reason, in one place.
 *
 * `DEFAULT_LIMITS` are the device's own compiled limits (reported by HELLO and enforced on every
 * SET and AMP whatever the host says); `MODEL` holds the rest of the simulator's numbers (control
 * period, telemetry rate, electrode model, link behaviour). This file is deliberately independent of
 * the host's safety guard (src/device, src/domain): a bug in one must not hide in both
 * (ARCHITECTURE.md, "Defence in depth"). Only the wire codec is shared.
 */
import { MAX_CHANNELS, MAX_LINE_BYTES, MAX_VALUE_CHARS, PROTOCOL_VERSION, REPLIES, REQUESTS, WATCHDOG_MS } from '../../firmware-protocol/index.js';

/**
 * The device's compiled limits. Keys are the HELLO reply's field names, so that the reply is these
 * numbers verbatim; `slew` is not reported by HELLO (the host learns the ramp rule from PROTOCOL.md).
 */
export interface DeviceLimits {
  /** Lowest pulse (or burst) frequency, mHz. */
  readonly fmin: number;
  /** Highest pulse (or burst / dense / intra-burst) frequency, mHz. */
  readonly fmax: number;
  /** Shortest pulse width per phase, µs. */
  readonly pwmin: number;
  /** Longest pulse width per phase, µs. */
  readonly pwmax: number;
  /** Lowest amplitude, µA. */
  readonly amin: number;
  /** Highest amplitude, µA. */
  readonly amax: number;
  /** Highest charge per phase (amplitude x pulse width), nC. */
  readonly qmax: number;
  /** Longest output duration, s. */
  readonly tmax: number;
  /** Compliance voltage, V: the most the output stage can drive through the load. */
  readonly vc: number;
  /** Watchdog window, ms: all outputs off when no valid frame arrived for this long. */
  readonly wdog: number;
  /** Fastest amplitude rise the device will ever perform, µA/s (a SET `ramp` above it is RANGE). */
  readonly slew: number;
}

/** The simulator's compiled limits (/tmp/device-behaviour.md, "Device state"). */
export const DEFAULT_LIMITS: DeviceLimits = Object.freeze({
  /** 1 Hz: below it EDN protocols use no continuous trains, and TENS stimulators rarely go lower. */
  fmin: 1_000,
  /** 150 Hz: the top of conventional (high-frequency) TENS; nothing in EDN needs more. */
  fmax: 150_000,
  /** 50 µs: shorter phases need impractically high currents to recruit fibres. */
  pwmin: 50,
  /** 600 µs: the usual TENS ceiling; longer phases add charge without clinical benefit. */
  pwmax: 600,
  /** 0 µA: a channel may run at zero while the clinician titrates up. */
  amin: 0,
  /** 20 mA: the needle-electrode ceiling (docs/CLINICAL.md#amplitude). */
  amax: 20_000,
  /** 12000 nC = 20 mA x 600 µs: the largest phase the two limits above allow. */
  qmax: 12_000,
  /** 3600 s = 1 h: longer than any EDN session; a runaway session ends on the device clock. */
  tmax: 3_600,
  /** 80 V: a typical battery TENS output stage (the lead's normative default). */
  vc: 80,
  /** 1000 ms: the protocol's watchdog window (firmware-protocol WATCHDOG_MS); a device may be shorter, never longer. */
  wdog: WATCHDOG_MS,
  /** 1000 µA/s = 1 mA/s: slow enough that a rising amplitude is always felt before it is strong. */
  slew: 1_000,
});

/** Numbers of the device model other than the limits above. */
export const MODEL = Object.freeze({
  /** Protocol versions this device speaks; HELLO picks the highest inside the host's range. */
  protocolVersions: [PROTOCOL_VERSION] as readonly number[],
  /** Channels of the default device (the "4 channels by default"). */
  defaultChannels: 4,
  /** Most channels the wire format can address (HELLO `ch`, STATUS s1..s8). */
  maxChannels: MAX_CHANNELS,
  /**
   * Control period, ms: the device checks its watchdog, compliance, open circuit and reports
   * set-point changes once per tick. The protocol requires a check at least every 10 ms, so the
   * watchdog trips in [wdog, wdog + tick); the option may only make it shorter.
   */
  defaultTickMs: 10,
  maxTickMs: 10,
  /** Telemetry period, ms: `! TEL` at 10 Hz per ON channel (device-behaviour.md, "Unsolicited events"). */
  telemetryPeriodMs: 100,
  /**
   * Set-point changes during a slew are reported (SimEvent `output`) at most once per this many ms
   * per channel, plus the final value when the slew ends: a 20 s ramp would otherwise print 2000 lines.
   */
  outputEventMinIntervalMs: 100,
  /** At most this many unsolicited `! ERR` lines ... */
  unsolicitedErrorLimit: 10,
  /** ... in any window of this many ms: a garbage flood must not saturate the return link. */
  unsolicitedErrorWindowMs: 1_000,
  /** Receive line cap, bytes (excluding `\n` and a tolerated `\r`): the codec's maximum line length. */
  maxLineBytes: MAX_LINE_BYTES,
  /**
   * Longest `msg=` text the codec can carry: 1-48 printable characters (fields.ts `text`) that are
   * at most 64 characters once percent-encoded (a value's limit, MAX_VALUE_CHARS); longer is cut.
   */
  maxMessageChars: 48,
  maxMessageWireChars: MAX_VALUE_CHARS,
  /** Nominal electrode-tissue load, ohm: needle pairs in muscle measure about 1-2 kOhm. */
  defaultLoadOhms: 1_500,
  /** Each channel's load is the nominal value times (1 +/- this), drawn once from the seed. */
  loadNoiseFraction: 0.03,
  /** Highest load the impedance field can carry (fields.ts `impedance`: 0..9999999 ohm). */
  maxLoadOhms: 9_999_999,
  /**
   * IMP test pulse: 100 µA for 50 µs is far below sensory threshold (~1 mA at 50 µs). The load
   * reads OPEN when even this pulse would exceed the compliance voltage (vc / 100 µA = 800 kOhm).
   */
  impTestCurrentUa: 100,
  impTestPulseUs: 50,
  /**
   * ASYM waveform: the anodic (charge-returning) phase runs at 1/ratio of the amplitude for ratio
   * times the cathodic width, so both phases carry the same charge (net zero).
   */
  asymRatio: 4,
  /** Largest delivered-charge count TEL can carry (u32 on the wire); the count saturates there. */
  maxChargeNc: 4_294_967_295,
  /** STATUS `up` is ms since the last power-up or reset modulo this (u32 ms, ~49.7 days): it wraps (PROTOCOL.md §6.9). */
  uptimeModulusMs: 4_294_967_296,
  /** Model, firmware and serial reported by HELLO unless the options say otherwise. */
  defaultModel: 'EDN-SIM4',
  defaultFirmware: 'sim-1.0.0',
  /** Default seed of the PRNG (loads, boot ids, garbage, corruption) when the options give none. */
  defaultSeed: 1,
  /** Garbage flood: a byte is a newline with probability 1/this (so the host's reader sees lines of ~32 bytes and some over-long ones). */
  garbageNewlineOneIn: 32,
  /** Garbage flood bytes are handed to the listeners in chunks of at most this many bytes. */
  garbageChunkBytes: 65_536,
  /** Largest garbage flood one call may ask for, bytes (64 MiB): a guard against a typo in a fault spec. */
  maxGarbageBytes: 64 * 1024 * 1024,
  /** Largest number of samples one sampleWaveform call returns (a plot never needs more). */
  maxWaveformSamples: 1_000_000,
});

/**
 * The [min, max] a numeric wire field carries: fields.ts `uint` gives every such field both. (Were
 * one missing, the comparisons below would be against 0 and every limit but 0 would be refused.)
 */
function wireRange(field: { readonly out: { readonly minValue: number | null; readonly maxValue: number | null } }): readonly [number, number] {
  return [field.out.minValue!, field.out.maxValue!];
}

const HELLO = REPLIES.HELLO.shape;

/** Merge `overrides` into the defaults and check the result is a device that can exist. */
export function resolveLimits(overrides: Partial<DeviceLimits> = {}): DeviceLimits {
  const limits: DeviceLimits = { ...DEFAULT_LIMITS, ...overrides };
  // What each limit may be: what the wire codec can express in a HELLO reply (messages.ts
  // REPLIES.HELLO), so that HELLO reports the limits verbatim; `slew`, which HELLO does not report,
  // what the SET `ramp` field it caps can carry; `wdog` no longer than the protocol's window. Built
  // here, not at import: a broken table must fail the tests that use it, not the module load.
  const bounds: Record<keyof DeviceLimits, readonly [number, number]> = {
    fmin: wireRange(HELLO.fmin),
    fmax: wireRange(HELLO.fmax),
    pwmin: wireRange(HELLO.pwmin),
    pwmax: wireRange(HELLO.pwmax),
    amin: wireRange(HELLO.amin),
    amax: wireRange(HELLO.amax),
    qmax: wireRange(HELLO.qmax),
    tmax: wireRange(HELLO.tmax),
    vc: wireRange(HELLO.vc),
    wdog: [wireRange(HELLO.wdog)[0], WATCHDOG_MS],
    slew: wireRange(REQUESTS.SET.options[0].shape.ramp), // `ramp` is common to every SET mode
  };
  for (const key of Object.keys(bounds) as (keyof DeviceLimits)[]) {
    const value = limits[key];
    const [lo, hi] = bounds[key];
    if (!Number.isInteger(value) || value < lo || value > hi) {
      throw new RangeError(`device limit ${key}=${value} must be an integer in ${lo}..${hi}`);
    }
  }
  if (limits.fmin > limits.fmax) throw new RangeError(`device limit fmin=${limits.fmin} exceeds fmax=${limits.fmax}`);
  if (limits.pwmin > limits.pwmax) throw new RangeError(`device limit pwmin=${limits.pwmin} exceeds pwmax=${limits.pwmax}`);
  if (limits.amin > limits.amax) throw new RangeError(`device limit amin=${limits.amin} exceeds amax=${limits.amax}`);
  return Object.freeze(limits);
}
