/**
 * The ramp controller's rules: how a channel's commanded amplitude approaches its target. This is
 * the one place the runner's slew rule lives (the guard in src/domain/safety re-checks every step
 * it proposes, so a wrong step here is refused there, never sent):
 * - a fall goes straight to the target (lowering current is always safe);
 * - a rise moves at most what the slew limit allows since the last acknowledged command, rounded
 *   down to the wire's 1 µA, and no more often than once per RAMP_STEP_MS;
 * - a titration only moves the target, which the ramp then approaches step by step (never a jump).
 * Pure functions of their arguments, so each rule is tested without a device or a scheduler.
 */
import { type CommandedAmplitude, checkAmplitudeChange, slewCeilingMa } from '../domain/safety/guard.js';
import { HARD_LIMITS, TOLERANCE } from '../domain/safety/limits.js';
import type { ProtocolLimits } from '../domain/stimulation.js';
import type { DeviceClient } from '../device/client.js';
import type { DeviceError } from '../device/errors.js';
import type { RecordDataInput } from './journal-records.js';
import { phaseLimits } from './plan.js';
import type { SessionContext } from './session-context.js';

export type { ChannelControl } from './session-context.js';

/**
 * Amplitude rises in steps at most this often, ms: one rise window (HARD_LIMITS, where the number
 * and its reasoning live). At the 1 mA/s ceiling a step is 0.2 mA, which a slewing device smooths
 * and a non-slewing one applies at once; smaller steps would only add traffic and journal records.
 */
export const RAMP_STEP_MS = HARD_LIMITS.amplitudeRiseWindowMs.value;
/** Titration steps offered to the clinician, mA (UX.md: 0.1 mA and 0.5 mA buttons). */
export const TITRATION_STEPS_MA = [0.1, 0.5] as const;

/** Amplitudes are kept to the wire's resolution (1 µA) so float noise never accumulates. */
export function roundMa(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Down to whole µA (tolerating float noise just below a whole µA). */
export function floorMa(x: number): number {
  return Math.floor(x * 1000 + 1e-6) / 1000;
}

/**
 * The next amplitude to command on a channel at `now`, or undefined when no command is due: at the
 * target, a rise before RAMP_STEP_MS has passed since the last command, or a rise the slew
 * allowance (rounded down to 1 µA) cannot yet move by a whole µA.
 */
export function nextRampAmplitude(commanded: CommandedAmplitude, targetMa: number, now: number, limits: ProtocolLimits): number | undefined {
  const from = commanded.amplitudeMa;
  if (targetMa < from - TOLERANCE) return targetMa;
  if (!(targetMa > from + TOLERANCE) || now - commanded.atMs < RAMP_STEP_MS) return undefined;
  // Down to whole µA (the wire's unit), never up: rounding must not overstep the slew limit.
  const next = floorMa(Math.min(targetMa, slewCeilingMa(commanded, now, limits)));
  return next <= from + TOLERANCE ? undefined : next;
}

/** Whether `deltaMa` is one of the offered titration steps, up or down. */
export function isTitrationStep(deltaMa: number): boolean {
  return TITRATION_STEPS_MA.some((s) => Math.abs(Math.abs(deltaMa) - s) < TOLERANCE);
}

/** What a titration did: each channel's new target, and the channels that could not take it and why. */
export interface TitrationOutcome {
  readonly targets: readonly { readonly channel: number; readonly targetMa: number }[];
  readonly refused: readonly { readonly channel: number; readonly reason: string }[];
}

/**
 * The targets a titration step gives `channels` in a phase with maximum `maxMa`: each channel on
 * its own; one that cannot take the whole step (above the maximum, or already at 0 mA going down)
 * keeps its target and is named with the reason. Nothing is changed here: the runner applies
 * `targets`, and the ramp approaches them.
 */
export function planTitration(
  channels: readonly { readonly channel: number; readonly targetMa: number }[],
  deltaMa: number,
  phase: { readonly name: string; readonly maxMa: number },
): TitrationOutcome {
  const targets: { channel: number; targetMa: number }[] = [];
  const refused: { channel: number; reason: string }[] = [];
  for (const c of channels) {
    const next = roundMa(c.targetMa + deltaMa);
    if (next > phase.maxMa + TOLERANCE) {
      refused.push({ channel: c.channel, reason: `${next} mA is above ${phase.maxMa} mA, the maximum of phase '${phase.name}'; channel ${c.channel} stays at ${c.targetMa} mA` });
      continue;
    }
    if (c.targetMa <= TOLERANCE && deltaMa < 0) {
      refused.push({ channel: c.channel, reason: `channel ${c.channel} is already at 0 mA` });
      continue;
    }
    targets.push({ channel: c.channel, targetMa: Math.max(0, next) });
  }
  return { targets, refused };
}

// ---- the ramp controller -------------------------------------------------------------------------


/** What the ramp controller needs of the session around it. */
export interface RampContext extends Pick<SessionContext, 'scheduler' | 'state' | 'protocol' | 'channels' | 'noteWarnings' | 'publish'> {
  readonly client: Pick<DeviceClient, 'info' | 'setAmplitude'>;
  /** Told of each command before it is sent and once it is acknowledged (output-monitor.ts). */
  readonly monitor: { commanding(channel: number, ma: number): void; acknowledged(channel: number, ma: number): void };
  record<K extends 'amplitude' | 'warning'>(type: K, data: RecordDataInput<K>): void;
  /** Incremented on every interruption: a step begun before it stops at its next await. */
  readonly epoch: () => number;
  /** True while channels are still being staged and started (not yet "at target"). */
  readonly starting: () => boolean;
  readonly phaseIndex: () => number;
  /** A command failed: the session takes output down. */
  readonly failOutput: (error: DeviceError) => Promise<unknown>;
  /** Every channel is on and at its target while ramping. */
  readonly reachedTargets: () => void;
}

/**
 * Moves each channel's commanded amplitude toward its target, one `nextRampAmplitude` step at a
 * time: every step is re-checked by the guard and sent from its Checked value, and the commanded
 * amplitude moves only once the device acknowledged it. One step runs at a time; a step that
 * finds the session interrupted (a new epoch) stops without touching anything.
 */
export class RampController {
  readonly #ctx: RampContext;
  #busy = false;
  /** The last guard refusal said for each channel, so each channel's is said once (not one for all). */
  readonly #lastRefusal = new Map<number, string>();

  constructor(ctx: RampContext) {
    this.#ctx = ctx;
  }

  /** Run a step soon (now, unless a step is already on its way). */
  kick(): void {
    this.#ctx.scheduler.schedule(() => void this.step(), 0);
  }

  /** One step toward each channel's target (only while ramping or running). */
  async step(): Promise<void> {
    const ctx = this.#ctx;
    const state = ctx.state();
    if (this.#busy || !(state === 'ramping' || state === 'running')) return;
    this.#busy = true;
    const epoch = ctx.epoch();
    try {
      const protocol = ctx.protocol();
      const device = ctx.client.info;
      if (!device) return;
      const limits = phaseLimits(protocol, ctx.phaseIndex());
      for (const c of ctx.channels()) {
        if (!c.on || !c.active || !c.commanded) continue;
        const now = ctx.scheduler.now();
        const next = nextRampAmplitude(c.commanded, c.targetMa, now, limits);
        if (next === undefined) continue;
        const checked = checkAmplitudeChange(
          { channel: c.channel, amplitudeMa: next, atMs: now },
          { device: device.limits, protocol: limits, electrode: protocol.electrode, previous: c.commanded, active: c.active },
        );
        if (!checked.ok) {
          // Not expected (the step is computed from the same limits): hold this step, say so once.
          const message = checked.violations.map((v) => v.message).join('; ');
          if (this.#lastRefusal.get(c.channel) !== message) ctx.record('warning', { channel: c.channel, limit: 'guard', message });
          this.#lastRefusal.set(c.channel, message);
          continue;
        }
        ctx.noteWarnings(checked.checked.warnings, c.channel);
        ctx.monitor.commanding(c.channel, next);
        const r = await ctx.client.setAmplitude(checked.checked);
        if (epoch !== ctx.epoch()) return;
        if (!r.ok) {
          await ctx.failOutput(r.error);
          return;
        }
        ctx.monitor.acknowledged(c.channel, next);
        c.commanded = { amplitudeMa: next, atMs: now };
        ctx.record('amplitude', { channel: c.channel, targetMa: c.targetMa, commandedMa: next, cause: ctx.state() === 'ramping' ? 'ramp' : 'titration' });
      }
      // Running once every channel has started and reached its target (not while some are still
      // being staged: a channel not yet on is not "at target").
      if (ctx.state() === 'ramping' && !ctx.starting() && ctx.channels().every((c) => c.on && Math.abs((c.commanded?.amplitudeMa ?? 0) - c.targetMa) < TOLERANCE)) {
        ctx.reachedTargets();
      }
      ctx.publish();
    } finally {
      this.#busy = false;
    }
  }
}
