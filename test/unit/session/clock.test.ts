/**
 * The session clock on virtual time: it counts stimulation only while a segment runs, ends the
 * phase on time however the phase was interrupted, and keeps each phase's time.
 */
import { describe, expect, it } from 'vitest';
import { SessionClock } from '../../../src/session/clock.js';
import { ManualScheduler } from '../../support/virtual-time.js';

function clockAt(t = 10_000) {
  const s = new ManualScheduler();
  s.advanceTo(t);
  return { s, clock: new SessionClock(s) };
}

describe('SessionClock', () => {
  it('counts only while running, and holds exactly where it was stopped', () => {
    const { s, clock } = clockAt();
    s.advance(5000); // wall time before any output is not stimulation
    expect(clock.elapsedMs()).toBe(0);
    clock.run(60_000, () => undefined);
    s.advance(1234);
    expect(clock.running).toBe(true);
    expect(clock.phaseElapsedMs()).toBe(1234);
    clock.interrupt();
    s.advance(10_000); // a pause
    expect(clock.running).toBe(false);
    expect(clock.elapsedMs()).toBe(1234);
    expect(clock.phaseRemainingMs(60_000)).toBe(60_000 - 1234);
  });

  it('ends the phase after its remaining time, counting every segment, not wall time', () => {
    const { s, clock } = clockAt();
    const ends: number[] = [];
    clock.run(3000, () => ends.push(s.now()));
    s.advance(1000);
    clock.interrupt(); // paused 1 s into a 3 s phase: the timer is cancelled
    s.advance(5000);
    expect(ends).toEqual([]);
    const resumedAt = s.now();
    clock.run(3000, () => ends.push(s.now())); // resumed: 2 s left
    s.advance(1999);
    expect(ends).toEqual([]);
    s.advance(1);
    expect(ends).toEqual([resumedAt + 2000]);
  });

  it('hold keeps the phase timer; interrupt cancels it', () => {
    const { s, clock } = clockAt();
    let ended = 0;
    clock.run(1000, () => (ended += 1));
    s.advance(400);
    clock.hold();
    expect(clock.elapsedMs()).toBe(400);
    s.advance(600);
    expect(ended).toBe(1);
    clock.run(1000, () => (ended += 1));
    clock.interrupt();
    s.advance(5000);
    expect(ended).toBe(1);
  });

  it('keeps each finished phase and the current one as far as it went', () => {
    const { s, clock } = clockAt();
    clock.run(2000, () => undefined);
    s.advance(2000);
    clock.nextPhase();
    expect(clock.phaseIndex).toBe(1);
    expect(clock.phaseElapsedMs()).toBe(0);
    clock.run(5000, () => undefined);
    s.advance(750);
    clock.hold();
    expect([clock.phaseStimulationMs(0), clock.phaseStimulationMs(1), clock.phaseStimulationMs(2)]).toEqual([2000, 750, 0]);
    expect(clock.elapsedMs()).toBe(2750);
    clock.reset();
    expect([clock.phaseIndex, clock.elapsedMs(), clock.phaseStimulationMs(0)]).toEqual([0, 0, 0]);
  });

  it('a phase timer left from before a reset never fires', () => {
    const { s, clock } = clockAt();
    let ended = false;
    clock.run(1000, () => (ended = true));
    clock.reset();
    s.advance(2000);
    expect(ended).toBe(false);
    expect(s.pending).toBe(0);
  });
});
