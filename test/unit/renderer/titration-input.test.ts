/**
 * The titration rule (issue 16 §4): one rule for every input. Five presses 100 ms apart are five
 * steps whether they come from clicks, from Enter or Space, or from assistive technology; a press
 * made while the previous step is still being applied waits its turn; a decrease never waits
 * behind increases; held, a button repeats after 600 ms at a rate the slew limit can follow.
 * Virtual time throughout: the host's answer takes a set time on the scheduler.
 */
import type { Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { HARD_LIMITS } from '../../../src/domain/safety/limits.js';
import { TITRATION_HOLD_DELAY_MS, TITRATION_REPEAT_MS, TitrationInput, type TitrationStep, droppedText, titrationRepeatMs } from '../../../electron/renderer/session-model.js';
import { TITRATION_HELP } from '../../../electron/renderer/screens/run.js';
import { ManualScheduler, settle } from '../../support/virtual-time.js';

/** A TitrationInput on virtual time whose host answers each step after `answerMs`. */
function harness(answerMs: number) {
  const scheduler = new ManualScheduler();
  const sent: { step: TitrationStep; at: number }[] = [];
  const dropped: string[] = [];
  const input = new TitrationInput(
    (step) => {
      sent.push({ step, at: scheduler.now() });
      return new Promise<void>((resolve) => scheduler.schedule(() => resolve(), answerMs));
    },
    {
      timers: { set: (fn, ms) => scheduler.schedule(fn, ms), clear: (h) => (h as Subscription).unsubscribe() },
      onDropped: (n, why) => dropped.push(droppedText(n, why)),
      onPress: () => dropped.push('(press)'),
    },
  );
  /** Advance in 1 ms ticks, letting each answer's promise settle (as the event loop would). */
  const advance = async (ms: number) => {
    for (let i = 0; i < ms; i++) {
      scheduler.advance(1);
      await settle(5);
    }
  };
  return { scheduler, sent, dropped: { get notes() { return dropped.filter((d) => d !== '(press)'); }, all: dropped }, input, advance };
}

type Input = 'click' | 'key' | 'assistive';

/** One activation as the button's listeners turn it into calls (run.ts): down/up, or a lone click. */
async function activate(h: ReturnType<typeof harness>, how: Input, step: TitrationStep, heldMs: number): Promise<void> {
  if (how === 'assistive') {
    h.input.tap(step);
    await h.advance(heldMs);
    return;
  }
  h.input.press(step); // pointerdown, or keydown (not a repeat)
  await h.advance(heldMs);
  h.input.release(); // pointerup, or keyup
}

describe('H29 titration presses: one rule for every input, none dropped', () => {
  for (const how of ['click', 'key', 'assistive'] as const) {
    it(`H29 five ${how} presses of +0.1 mA, 100 ms apart, send five steps in order`, async () => {
      const h = harness(20);
      for (let i = 0; i < 5; i++) await activate(h, how, 0.1, 100);
      await h.advance(100);
      expect(h.sent.map((s) => s.step)).toEqual([0.1, 0.1, 0.1, 0.1, 0.1]);
      expect(h.sent.map((s) => s.at)).toEqual([0, 100, 200, 300, 400]);
      expect(h.dropped.notes).toEqual([]);
    });
  }

  it('H29 clicks and keys give the same steps at the same times, also when the host is slower than the presses', async () => {
    const runs: Record<Input, { step: TitrationStep; at: number }[]> = { click: [], key: [], assistive: [] };
    for (const how of ['click', 'key', 'assistive'] as const) {
      // The host takes 250 ms per answer: presses 100 ms apart wait their turn, none is lost.
      const h = harness(250);
      for (const step of [0.1, 0.1, 0.5, 0.1, 0.1] as const) await activate(h, how, step, 100);
      await h.advance(2000);
      runs[how] = h.sent;
    }
    expect(runs.click.map((s) => s.step)).toEqual([0.1, 0.1, 0.5, 0.1, 0.1]);
    // Each step is sent when the previous one has been answered, never two at once.
    expect(runs.click.map((s) => s.at)).toEqual([0, 250, 500, 750, 1000]);
    expect(runs.key).toEqual(runs.click);
    expect(runs.assistive).toEqual(runs.click);
  });

  it('H29 a decrease does not wait behind increases: those not yet sent are dropped, and said so once', async () => {
    const h = harness(300);
    for (let i = 0; i < 3; i++) await activate(h, 'key', 0.1, 50); // one in flight, two waiting
    expect(h.input.queued).toBe(2);
    await activate(h, 'key', -0.5, 50);
    await h.advance(1000);
    expect(h.sent.map((s) => s.step)).toEqual([0.1, -0.5]);
    expect(h.dropped.notes).toEqual(['2 titration steps not sent: a decrease was pressed.']);
    // Said after the decrease's own press (which clears what was said of earlier presses), so it stays shown.
    expect(h.dropped.all).toEqual(['(press)', '(press)', '(press)', '(press)', '2 titration steps not sent: a decrease was pressed.']);
  });

  it('H29 steps not yet sent when output stops are dropped and said so; nothing is said when none waited', async () => {
    const h = harness(300);
    h.input.stop('the session is paused');
    expect(h.dropped.notes).toEqual([]);
    await activate(h, 'click', 0.1, 20);
    await activate(h, 'click', 0.1, 20);
    h.input.stop('the session is paused');
    await h.advance(1000);
    expect(h.sent.map((s) => s.step)).toEqual([0.1]);
    expect(h.dropped.notes).toEqual(['1 titration step not sent: the session is paused.']);
  });
});

describe('H29 held: a key repeats like the button, at a rate the slew limit can follow', () => {
  for (const how of ['click', 'key'] as const) {
    it(`H29 ${how} held 1.5 s: a step at once, then after 600 ms, then every 400 ms; none after release`, async () => {
      const h = harness(20);
      h.input.press(0.1);
      // A held key sends repeated keydowns; run.ts ignores those (e.repeat), the timer repeats.
      await h.advance(1500);
      h.input.release();
      await h.advance(2000);
      expect(h.sent.map((s) => s.at)).toEqual([0, 600, 1000, 1400]);
      expect(h.input.held).toBeUndefined();
    });
  }

  it('H29 a held +0.5 mA repeats every 500 ms, so the target never runs ahead of 1 mA/s; a held decrease every 400 ms', async () => {
    expect(titrationRepeatMs(0.1)).toBe(TITRATION_REPEAT_MS);
    expect(titrationRepeatMs(0.5)).toBe(500);
    expect(titrationRepeatMs(-0.5)).toBe(TITRATION_REPEAT_MS);
    for (const step of [0.1, 0.5] as const) expect(step / (titrationRepeatMs(step) / 1000)).toBeLessThanOrEqual(HARD_LIMITS.amplitudeRiseMaxMaPerS.value);
    const h = harness(20);
    h.input.press(0.5);
    await h.advance(2200);
    h.input.release();
    expect(h.sent.map((s) => s.at)).toEqual([0, 600, 1100, 1600, 2100]);
  });

  it('H29 held on a slow host: at most one repeat waits behind the step being applied, and none is sent after release', async () => {
    const h = harness(750);
    h.input.press(0.1);
    await h.advance(1900);
    h.input.release();
    await h.advance(3000);
    // Ticks: 600 (waits, sent at 750 when the first is answered), 1000 (waits, sent at 1500),
    // 1400 (one already waits: skipped), 1800 (waits; let go at 1900: not sent).
    expect(h.sent.map((s) => s.at)).toEqual([0, 750, 1500]);
    expect(h.dropped.notes).toEqual([]);
  });

  it('says the rule, with its numbers, in the help under the buttons', () => {
    expect(TITRATION_HOLD_DELAY_MS).toBe(600);
    expect(TITRATION_HELP).toContain('Every press is one step, by mouse, touch, Enter or Space alike; none is dropped.');
    expect(TITRATION_HELP).toContain('Held, a button repeats after 0.6 s, every 0.4 s (+0.5 mA every 0.5 s).');
  });
});
