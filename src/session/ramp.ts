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
import { type CommandedAmplitude, slewCeilingMa } from '../domain/safety/guard.js';
import { HARD_LIMITS, TOLERANCE } from '../domain/safety/limits.js';
import type { ProtocolLimits } from '../domain/stimulation.js';

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
