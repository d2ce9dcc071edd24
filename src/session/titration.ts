/**
 * Titration: the clinician moves the target by one offered step (TITRATION_STEPS_MA), on one
 * channel or on every channel. Each channel is judged on its own against the running phase's
 * maxMa (ramp.ts `planTitration`): one that cannot take the whole step keeps its target and is
 * named, with the reason; the others move. Refused as a whole only when no channel can take it.
 * Nothing is sent here: only targets move, which the ramp approaches one step per rise window,
 * never a jump; a step down kicks the ramp, so the fall is commanded at once. The journal records
 * each channel's resulting target. The runner's state is reached only through the context.
 */
import type { RecordDataInput } from './journal-records.js';
import { TITRATION_STEPS_MA, type TitrationOutcome, isTitrationStep, planTitration } from './ramp.js';
import { type SessionResult, invalid, limitExceeded } from './results.js';
import type { SessionContext } from './session-context.js';

export interface TitrationContext extends Pick<SessionContext, 'channels' | 'publish'> {
  /** The running phase: its name and its maxMa. */
  readonly phase: () => { readonly name: string; readonly maxMa: number };
  readonly journal: { record(type: 'titration', data: RecordDataInput<'titration'>): void };
  /** The ramp takes a step now (a fall goes straight to the new target). */
  readonly kickRamp: () => void;
}

export class Titration {
  readonly #ctx: TitrationContext;

  constructor(ctx: TitrationContext) {
    this.#ctx = ctx;
  }

  /** Move the target by `deltaMa` on `channel`, or on every channel (see the module's comment). */
  titrate(deltaMa: number, channel?: number): SessionResult<TitrationOutcome> {
    const ctx = this.#ctx;
    if (!isTitrationStep(deltaMa)) return invalid(`titration steps are ${TITRATION_STEPS_MA.map((s) => `±${s}`).join(' and ')} mA, not ${deltaMa}`);
    const chosen = channel === undefined ? ctx.channels() : ctx.channels().filter((c) => c.channel === channel);
    if (chosen.length === 0) return invalid(`channel ${channel} is not part of this protocol`);
    const outcome = planTitration(chosen, deltaMa, ctx.phase());
    const first = outcome.targets[0];
    if (!first) {
      const why = outcome.refused.map((r) => r.reason).join('; ');
      return deltaMa > 0 ? limitExceeded([], why) : invalid(why);
    }
    for (const t of outcome.targets) for (const c of chosen) if (c.channel === t.channel) c.targetMa = t.targetMa;
    ctx.journal.record('titration', {
      channel: channel ?? null,
      deltaMa,
      targetMa: first.targetMa,
      channels: [...outcome.targets],
      ...(outcome.refused.length === 0 ? {} : { refused: [...outcome.refused] }),
    });
    if (deltaMa < 0) ctx.kickRamp();
    ctx.publish();
    return { ok: true, value: outcome };
  }
}
