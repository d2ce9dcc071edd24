/**
 * The session clock: stimulation time, not wall time. It runs only while output is being
 * delivered (a segment), is held on every interruption (pause, stop, abort, phase end), and counts
 * per phase, so the session's record says how long each phase really stimulated. It owns the phase
 * timer: a running segment schedules the end of the phase on the injected scheduler for the time
 * the phase has left, and holding the clock cancels it.
 */
import type { SchedulerLike, Subscription } from 'rxjs';

export class SessionClock {
  readonly #scheduler: SchedulerLike;
  #phaseIndex = 0;
  /** Stimulation time of the current phase before the running segment, ms. */
  #phaseDoneMs = 0;
  /** Stimulation time of the whole session before the current phase, ms. */
  #sessionDoneMs = 0;
  /** Stimulation time of each finished phase, ms. */
  #phaseTimes: number[] = [];
  /** When the current output segment began (scheduler ms), or undefined when the clock is held. */
  #segmentStart: number | undefined;
  #phaseTimer: Subscription | undefined;

  constructor(scheduler: SchedulerLike) {
    this.#scheduler = scheduler;
  }

  /** The phase the session is in (0-based). */
  get phaseIndex(): number {
    return this.#phaseIndex;
  }

  /** True while a segment is running. */
  get running(): boolean {
    return this.#segmentStart !== undefined;
  }

  /** Back to the first phase with nothing counted (a new session). */
  reset(): void {
    this.cancelPhaseTimer();
    this.#phaseIndex = 0;
    this.#phaseDoneMs = 0;
    this.#sessionDoneMs = 0;
    this.#phaseTimes = [];
    this.#segmentStart = undefined;
  }

  /** Start counting, and call `onPhaseEnd` once the phase (`phaseMs` long in all) has had its time. */
  run(phaseMs: number, onPhaseEnd: () => void): void {
    this.cancelPhaseTimer();
    const remaining = phaseMs - this.#phaseDoneMs;
    this.#segmentStart = this.#scheduler.now();
    this.#phaseTimer = this.#scheduler.schedule(onPhaseEnd, remaining);
  }

  /** Stop counting and cancel the phase timer (an interruption). */
  interrupt(): void {
    this.cancelPhaseTimer();
    this.hold();
  }

  /** Stop counting (the phase timer, if any, is left alone). */
  hold(): void {
    if (this.#segmentStart === undefined) return;
    this.#phaseDoneMs += this.#scheduler.now() - this.#segmentStart;
    this.#segmentStart = undefined;
  }

  cancelPhaseTimer(): void {
    this.#phaseTimer?.unsubscribe();
    this.#phaseTimer = undefined;
  }

  /** The current phase is over: its time is kept, and the next phase begins with none. */
  nextPhase(): void {
    this.hold();
    this.#sessionDoneMs += this.#phaseDoneMs;
    this.#phaseTimes[this.#phaseIndex] = this.#phaseDoneMs;
    this.#phaseDoneMs = 0;
    this.#phaseIndex += 1;
  }

  /** Stimulation time of the current phase so far, ms. */
  phaseElapsedMs(): number {
    return this.#phaseDoneMs + this.#runningMs();
  }

  /** Stimulation time of the whole session so far, ms. */
  elapsedMs(): number {
    return this.#sessionDoneMs + this.phaseElapsedMs();
  }

  /** What is left of the current phase (`phaseMs` long in all), ms. */
  phaseRemainingMs(phaseMs: number): number {
    return phaseMs - this.phaseElapsedMs();
  }

  /** Stimulation time of phase `index`, ms: the current one as far as it went, a later one 0. */
  phaseStimulationMs(index: number): number {
    return index === this.#phaseIndex ? this.#phaseDoneMs : (this.#phaseTimes[index] ?? 0);
  }

  #runningMs(): number {
    return this.#segmentStart === undefined ? 0 : this.#scheduler.now() - this.#segmentStart;
  }
}
