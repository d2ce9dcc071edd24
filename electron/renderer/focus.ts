/**
 * Where keyboard focus goes after an action (issue 16 §3). An action that removes or hides the
 * control that was pressed (Pause, Resume, Submit screening, Start output, Clear stop, the last
 * Acknowledge) would leave focus on <body>, and a clinician on the keyboard would have to Tab from
 * the top of the page. Instead the action states where focus should go next, and the intent is
 * applied after the renders that follow, once that control is there and enabled.
 *
 * Controls are found by a stable `data-focus` key, not by element identity, because the screens
 * rebuild their DOM (a new snapshot, a new electrode result). The choice of target is pure
 * (`focusTargets`, `pickFocus`) and tested without a browser; `FocusIntent` holds one pending
 * intent and applies it through a small DOM interface.
 */

/** The `data-focus` keys of the controls focus can be sent to. */
export const FOCUS = {
  /** The electrode step's first control ("Check electrodes again"). */
  electrodesFirst: 'electrodes-first',
  /** "+0.1 mA" (Increase amplitude): the titration control used most after the start. */
  titrateUp: 'titrate:0.1',
  pause: 'pause',
  resume: 'resume',
  newSession: 'new-session',
  clearStop: 'clear-stop',
  /** The ended session's summary (Open report, New session). */
  ended: 'ended',
  /** The screen's main region: the fallback when the target is not on the screen shown. */
  main: 'main',
} as const;

/** A channel's card. */
export function channelFocusKey(channel: number): string {
  return `channel:${channel}`;
}

/** An action whose control disappears, with what the next focus depends on. */
export type FocusAction =
  | { readonly kind: 'submit-screening' }
  | { readonly kind: 'start-output' }
  | { readonly kind: 'pause' }
  | { readonly kind: 'resume' }
  | { readonly kind: 'clear-stop' }
  /** The last alarm was acknowledged: focus goes to what it concerned. */
  | { readonly kind: 'acknowledged-last'; readonly channel: number | undefined; readonly latched: boolean };

/**
 * The controls focus should land on after `action`, best first: the control a clinician needs
 * next. Pause and Resume swap (the one pressed is hidden, the other takes its place); Submit
 * screening leads to the electrode step; Start output to the titration controls; Clear stop to New
 * session; the last Acknowledge to the panel the alarm concerned (its channel's card, else the
 * latched stop it reported, else the ended session), the main region when none is shown.
 */
export function focusTargets(action: FocusAction): readonly string[] {
  switch (action.kind) {
    case 'submit-screening':
      return [FOCUS.electrodesFirst];
    case 'start-output':
      return [FOCUS.titrateUp];
    case 'pause':
      return [FOCUS.resume];
    case 'resume':
      return [FOCUS.pause];
    case 'clear-stop':
      return [FOCUS.newSession, FOCUS.main];
    case 'acknowledged-last': {
      const targets: string[] = [];
      if (action.channel !== undefined) targets.push(channelFocusKey(action.channel));
      if (action.latched) targets.push(FOCUS.clearStop);
      targets.push(FOCUS.ended, FOCUS.main);
      return targets;
    }
  }
}

/** What the page holds for a key: nothing visible, a visible control that is disabled (for now), or one that can take focus. */
export type FocusProbe = 'absent' | 'disabled' | 'ready';

/**
 * Which target to focus now: the first candidate that is shown. A shown but disabled candidate
 * (New session while the stop is still latched, Pause while output is ramping on) is waited for,
 * not skipped: it is the one wanted, and the next snapshot enables it. Nothing shown yet: wait too
 * (the step it belongs to has not been rendered).
 */
export function pickFocus(candidates: readonly string[], probe: (key: string) => FocusProbe): { readonly focus: string } | 'wait' {
  for (const key of candidates) {
    const p = probe(key);
    if (p === 'ready') return { focus: key };
    if (p === 'disabled') return 'wait';
  }
  return 'wait';
}

/** How long an intent waits for its control, ms: an action's result and its snapshots arrive well within it. */
export const FOCUS_INTENT_MS = 5000;

/** The page as FocusIntent sees it. */
export interface FocusDom {
  probe(key: string): FocusProbe;
  focus(key: string): void;
  /** True when nothing useful has focus: <body>, or an element that was removed, hidden or disabled. */
  idle(): boolean;
}

/**
 * One pending "focus next" intent. `request` after an action; `apply` after each render (and when
 * the action's result arrives); `cancel` when the clinician moves focus on their own, so focus is
 * never pulled away from where they went. An intent that waits longer than FOCUS_INTENT_MS is
 * dropped. Applied only while focus is idle: an action's control that is still shown keeps it.
 */
export class FocusIntent {
  readonly #dom: FocusDom;
  readonly #now: () => number;
  #pending: { readonly targets: readonly string[]; readonly at: number } | undefined;

  constructor(dom: FocusDom, now: () => number) {
    this.#dom = dom;
    this.#now = now;
  }

  get pending(): readonly string[] | undefined {
    return this.#pending?.targets;
  }

  request(action: FocusAction): void {
    this.#pending = { targets: focusTargets(action), at: this.#now() };
    this.apply();
  }

  cancel(): void {
    this.#pending = undefined;
  }

  /** Focus the target when it is there; returns the key focused, if any. */
  apply(): string | undefined {
    const p = this.#pending;
    if (!p) return undefined;
    if (this.#now() - p.at > FOCUS_INTENT_MS) {
      this.#pending = undefined;
      return undefined;
    }
    if (!this.#dom.idle()) return undefined;
    const pick = pickFocus(p.targets, (k) => this.#dom.probe(k));
    if (pick === 'wait') return undefined;
    this.#pending = undefined;
    this.#dom.focus(pick.focus);
    return pick.focus;
  }
}

// ---- the browser's DOM ---------------------------------------------------------------------------

function shown(el: Element): boolean {
  return el.isConnected && el.checkVisibility();
}

function isDisabled(el: Element): boolean {
  return (el instanceof HTMLButtonElement || el instanceof HTMLInputElement) && el.disabled;
}

/** The first shown element with `data-focus="key"` under `root`, else the first at all. */
function find(root: ParentNode, key: string): HTMLElement | undefined {
  const all = [...root.querySelectorAll<HTMLElement>(`[data-focus="${CSS.escape(key)}"]`)];
  return all.find(shown) ?? all[0];
}

/** FocusDom over `document` (read when called, never at construction). */
export function documentFocusDom(): FocusDom {
  return {
    probe(key) {
      const el = find(document, key);
      if (!el || !shown(el) || el.inert || el.closest('[inert]')) return 'absent';
      return isDisabled(el) ? 'disabled' : 'ready';
    },
    focus(key) {
      find(document, key)?.focus();
    },
    idle() {
      const a = document.activeElement;
      return a === null || a === document.body || !shown(a) || isDisabled(a);
    },
  };
}

/**
 * Rebuild `container` with `build` and keep focus on the same control: when focus was on an
 * element with a `data-focus` key inside it, the new element with that key gets it back. A DOM
 * rebuild must never drop focus to <body>.
 */
export function keepingFocus(container: Element, build: () => void): void {
  const active = document.activeElement;
  const key = active instanceof HTMLElement && container.contains(active) ? active.dataset.focus : undefined;
  build();
  if (key === undefined || container.contains(document.activeElement)) return;
  const el = find(container, key);
  if (el && shown(el) && !isDisabled(el)) el.focus();
}
