/**
 * Where focus goes after an action that removes its own control (issue 16 §3): the choice of the
 * next control, waiting for it while it is disabled or not yet drawn, never taking focus from
 * where the clinician moved it, and giving up after FOCUS_INTENT_MS.
 */
import { describe, expect, it } from 'vitest';
import { FOCUS, FOCUS_INTENT_MS, type FocusDom, FocusIntent, type FocusProbe, channelFocusKey, focusTargets, pickFocus } from '../../../electron/renderer/focus.js';

/** A page as a map of key -> probe, with what has focus. */
function fakeDom(controls: Record<string, FocusProbe>) {
  const state = { controls, focused: [] as string[], idle: true };
  const dom: FocusDom = {
    probe: (k) => state.controls[k] ?? 'absent',
    focus: (k) => {
      state.focused.push(k);
      state.idle = false;
    },
    idle: () => state.idle,
  };
  return { state, dom };
}

describe('the next control after each action', () => {
  it('swaps Pause and Resume, leads Submit screening to the electrode step and Start output to the titration controls', () => {
    expect(focusTargets({ kind: 'pause' })).toEqual([FOCUS.resume]);
    expect(focusTargets({ kind: 'resume' })).toEqual([FOCUS.pause]);
    expect(focusTargets({ kind: 'submit-screening' })).toEqual([FOCUS.electrodesFirst]);
    expect(focusTargets({ kind: 'start-output' })).toEqual(['titrate:0.1']);
    expect(focusTargets({ kind: 'clear-stop' })).toEqual([FOCUS.newSession, FOCUS.main]);
  });

  it('sends the last Acknowledge to what the alarm concerned: its channel, else the latched stop, else the ended session', () => {
    expect(focusTargets({ kind: 'acknowledged-last', channel: 2, latched: true })).toEqual([channelFocusKey(2), FOCUS.clearStop, FOCUS.ended, FOCUS.main]);
    expect(focusTargets({ kind: 'acknowledged-last', channel: undefined, latched: true })).toEqual([FOCUS.clearStop, FOCUS.ended, FOCUS.main]);
    expect(focusTargets({ kind: 'acknowledged-last', channel: undefined, latched: false })).toEqual([FOCUS.ended, FOCUS.main]);
    expect(channelFocusKey(2)).toBe('channel:2');
  });

  it('takes the first shown candidate, waits for one shown but disabled, and skips those not shown', () => {
    const probe = (m: Record<string, FocusProbe>) => (k: string) => m[k] ?? 'absent';
    expect(pickFocus([FOCUS.newSession, FOCUS.main], probe({ 'new-session': 'ready', main: 'ready' }))).toEqual({ focus: FOCUS.newSession });
    // New session still disabled (the stop not yet cleared): wait for it, do not fall back to main.
    expect(pickFocus([FOCUS.newSession, FOCUS.main], probe({ 'new-session': 'disabled', main: 'ready' }))).toBe('wait');
    // Not on the screen shown (another screen is open): the fallback.
    expect(pickFocus([FOCUS.newSession, FOCUS.main], probe({ main: 'ready' }))).toEqual({ focus: FOCUS.main });
    expect(pickFocus([FOCUS.resume], probe({}))).toBe('wait');
  });
});

describe('a pending "focus next"', () => {
  it('waits while the pressed control still has focus, then focuses the target once it is enabled', () => {
    let now = 0;
    const { state, dom } = fakeDom({ pause: 'disabled' });
    const intent = new FocusIntent(dom, () => now);
    state.idle = false; // Resume, just pressed, still shown
    intent.request({ kind: 'resume' });
    expect(state.focused).toEqual([]);
    state.idle = true; // Resume hidden: focus fell to <body>
    now = 100;
    expect(intent.apply()).toBeUndefined(); // Pause shown, disabled while output ramps on
    state.controls.pause = 'ready';
    now = 300;
    expect(intent.apply()).toBe(FOCUS.pause);
    expect(state.focused).toEqual([FOCUS.pause]);
    expect(intent.pending).toBeUndefined();
    expect(intent.apply()).toBeUndefined();
    expect(state.focused).toEqual([FOCUS.pause]);
  });

  it('is dropped when the clinician moves focus themselves, and after FOCUS_INTENT_MS', () => {
    let now = 0;
    const { state, dom } = fakeDom({});
    const intent = new FocusIntent(dom, () => now);
    intent.request({ kind: 'pause' });
    intent.cancel();
    state.controls.resume = 'ready';
    expect(intent.apply()).toBeUndefined();
    delete state.controls.resume;
    intent.request({ kind: 'pause' });
    now = FOCUS_INTENT_MS + 1;
    state.controls.resume = 'ready';
    expect(intent.apply()).toBeUndefined();
    expect(intent.pending).toBeUndefined();
    expect(state.focused).toEqual([]);
  });

  it('focuses at once when the target is already there and focus is idle', () => {
    const { state, dom } = fakeDom({ 'clear-stop': 'ready', ended: 'ready' });
    const intent = new FocusIntent(dom, () => 0);
    intent.request({ kind: 'acknowledged-last', channel: undefined, latched: true });
    expect(state.focused).toEqual([FOCUS.clearStop]);
  });
});
