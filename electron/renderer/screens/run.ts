/**
 * The running session: per-channel cards (region, sites, target and measured amplitude in large
 * type, impedance, output on or off in colour AND words), the phase with time remaining and a
 * progress bar, the live chart, titration, pause/resume, stop, notes, and at the end the way on.
 */
import type { SessionNote, Snapshot, Telemetry } from '../../../src/app/contract.js';
import type { AppContext } from '../context.js';
import { h, replaceChildren, setFlag, setText, svgIcon } from '../dom.js';
import { clock, countdown, impedance, ma, num, placement, stateText } from '../../../src/domain/format.js';
import { ENDED_STATES, TITRATION_HOLD_DELAY_MS, TelemetryBuffer, TitrationInput, type TitrationStep, channelOutputText, doseLine, droppedText, endText, progress, refusalText, shownTargetMa, titrationRepeatMs } from '../session-model.js';
import { LiveChart } from '../components/charts.js';
import { FOCUS, channelFocusKey, keepingFocus } from '../focus.js';

/** The titration rule as the help under the buttons states it (session-model.ts `TitrationInput`). */
export const TITRATION_HELP = `Amplitude steps in mA. Every press is one step, by mouse, touch, Enter or Space alike; none is dropped. Held, a button repeats after ${num(TITRATION_HOLD_DELAY_MS / 1000)} s, every ${num(titrationRepeatMs(0.1) / 1000)} s (+0.5 mA every ${num(titrationRepeatMs(0.5) / 1000)} s). The device raises the amplitude gradually (slew-limited); decreases act at once.`;

interface CardRefs {
  readonly el: HTMLElement;
  readonly badge: HTMLElement;
  readonly measured: HTMLElement;
  readonly target: HTMLElement;
  readonly impedance: HTMLElement;
  readonly delivered: HTMLElement;
}

export class RunView {
  readonly el: HTMLElement;
  readonly #ctx: AppContext;
  readonly #phaseLine = h('p', { class: 'phase-line' });
  readonly #stateLine = h('p', { class: 'run-state' });
  readonly #remaining = h('span', { class: 'time-big' });
  readonly #timeDetail = h('span', { class: 'time-detail' });
  readonly #bar = h('progress', { max: '1', value: '0', 'aria-label': 'Session progress' });
  readonly #cards = h('div', { class: 'channel-cards' });
  readonly #cardRefs = new Map<number, CardRefs>();
  readonly #chart = new LiveChart();
  readonly #buffer = new TelemetryBuffer(60);
  readonly #controls: HTMLElement;
  readonly #grid: HTMLElement;
  readonly #titration: HTMLElement;
  readonly #scope = h('div', { class: 'choices inline scope', 'data-session-control': true });
  readonly #targetNow = h('p', { class: 'target-now' });
  /** A titration a channel could not take: which channel and why, shown and announced once. */
  readonly #refusal = h('p', { class: 'titration-refused', role: 'status', 'aria-live': 'polite' });
  /** Steps pressed and not sent (droppedText): kept beside the refusals until the next press. */
  #droppedNote = '';
  #refusalNote = '';
  readonly #stepButtons: HTMLButtonElement[] = [];
  /** Every titration press, from every input, under one rule (session-model.ts). */
  readonly #input: TitrationInput;
  readonly #pauseBtn: HTMLButtonElement;
  readonly #resumeBtn: HTMLButtonElement;
  readonly #stopBtn: HTMLButtonElement;
  readonly #pausedBanner = h('div', { class: 'paused-banner', hidden: true }, svgIcon('pause'), h('p', {}, h('strong', {}, 'Paused: output off.'), ' The session clock is held. Resume ramps back up to the targets.'));
  readonly #warnings = h('ul', { class: 'run-warnings', 'aria-label': 'Warnings', hidden: true });
  #warningsKey = '';
  readonly #ended = h('section', { class: 'ended', hidden: true, 'aria-labelledby': 'ended-title', tabindex: '-1', 'data-focus': FOCUS.ended });
  readonly #noteInput: HTMLTextAreaElement;
  readonly #notesList = h('ul', { class: 'notes-list' });
  /** The session's notes by their number, from every window (the `note` event and listNotes). */
  readonly #notes = new Map<number, SessionNote>();
  #scopeChannel: number | undefined;
  #sessionId: string | undefined;
  #channelsKey = '';
  #endedKey = '';

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
    this.#input = new TitrationInput((delta) => this.#titrate(delta), {
      onPress: () => this.#setNotes('', this.#refusalNote),
      onDropped: (n, why) => this.#setNotes(droppedText(n, why), this.#refusalNote),
    });
    const input = this.#input;
    const step = (delta: TitrationStep, big: string) => {
      /** The click that follows a pointer press (already acted on at pointerdown). */
      let pointerClick = false;
      const b = h(
        'button',
        // The step large with its unit under it, so "−0.5 mA" fits a quarter of the panel. The
        // name starts with what is visible, then says what it does (WCAG 2.5.3 Label in Name):
        // "+0.1 mA, increase amplitude" (titrationButtonName).
        { type: 'button', class: `titrate ${delta > 0 ? 'up' : 'down'}`, 'data-delta': String(delta), 'data-session-control': true, 'data-focus': `titrate:${delta}`, 'aria-label': titrationButtonName(big) },
        h('span', { class: 'titrate-big', 'aria-hidden': 'true' }, big),
        // (" mA": the visible text reads "+0.1 mA", as the name begins, though drawn on two lines.)
        h('span', { class: 'titrate-unit', 'aria-hidden': 'true' }, ' mA'),
      );
      // One rule for every input: a press is one step at once, held it repeats (TitrationInput).
      // The mouse or a finger: from pointerdown to pointerup.
      b.addEventListener('pointerdown', (e) => {
        if (e.button !== 0) return;
        b.setPointerCapture(e.pointerId);
        pointerClick = true;
        input.press(delta);
      });
      for (const ev of ['pointerup', 'lostpointercapture']) b.addEventListener(ev, () => input.release());
      b.addEventListener('pointercancel', () => {
        pointerClick = false;
        input.release();
      });
      // Enter or Space: from keydown to keyup, the browser's own click and key repeat left out
      // (a held Enter would click 30 times a second; Space clicks only on release).
      b.addEventListener('keydown', (e) => {
        if (e.key !== 'Enter' && e.key !== ' ') return;
        e.preventDefault();
        if (!e.repeat) input.press(delta);
      });
      b.addEventListener('keyup', (e) => {
        if (e.key !== 'Enter' && e.key !== ' ') return;
        e.preventDefault();
        input.release();
      });
      b.addEventListener('blur', () => input.release());
      b.addEventListener('click', () => {
        // A pointer's click was acted on at pointerdown; any other (assistive technology) is one step.
        if (pointerClick) pointerClick = false;
        else input.tap(delta);
      });
      this.#stepButtons.push(b);
      return b;
    };
    this.#titration = h(
      'section',
      { class: 'card titration', 'aria-labelledby': 'titration-title' },
      h('h2', { id: 'titration-title' }, 'Amplitude'),
      this.#scope,
      this.#targetNow,
      this.#refusal,
      h(
        'div',
        { class: 'titrate-row' },
        step(-0.5, '−0.5'),
        step(-0.1, '−0.1'),
        step(0.1, '+0.1'),
        step(0.5, '+0.5'),
      ),
    );
    this.#pauseBtn = h('button', { type: 'button', class: 'secondary big', 'data-session-control': true, 'data-focus': FOCUS.pause, onclick: () => void this.#call('pause') }, svgIcon('pause'), h('span', {}, 'Pause'));
    this.#resumeBtn = h('button', { type: 'button', class: 'primary big', 'data-session-control': true, 'data-focus': FOCUS.resume, onclick: () => void this.#call('resume') }, svgIcon('play'), h('span', {}, 'Resume'));
    this.#stopBtn = h('button', { type: 'button', class: 'secondary big', 'data-session-control': true, onclick: () => void this.#call('stop') }, 'Stop session');
    this.#controls = h('div', { class: 'run-controls' }, this.#pauseBtn, this.#resumeBtn, this.#stopBtn);
    this.#noteInput = h('textarea', { id: 'note-text', rows: 2, maxlength: 2000 });
    const notes = h(
      'section',
      { class: 'card notes', 'aria-labelledby': 'notes-title' },
      h('h2', { id: 'notes-title' }, 'Notes'),
      h('div', { class: 'field', 'data-session-control': true }, h('label', { for: 'note-text' }, 'Note for the session record'), this.#noteInput),
      h('div', { class: 'actions', 'data-session-control': true }, h('button', { type: 'button', class: 'secondary', onclick: () => void this.#addNote() }, 'Add note')),
      this.#notesList,
    );
    // Laid out to fit one laptop screen while output is on (styles.css, "the running session"):
    // the channel cards on the left; the time, titration and pause/stop on the right, above the
    // chart and the notes, which scroll inside their own panel when the screen is short.
    this.#grid = h(
      'div',
      { class: 'run-side' },
      h(
        'section',
        { class: 'card run-head', 'aria-label': 'Phase and time' },
        h('div', { class: 'run-head-left' }, this.#stateLine, this.#phaseLine),
        h('div', { class: 'run-time' }, this.#remaining, this.#timeDetail),
        this.#bar,
      ),
      this.#titration,
      this.#controls,
      h(
        'div',
        { class: 'run-extra' },
        // Under the buttons, not inside their panel: the panel keeps to what must be on screen.
        h('p', { class: 'hint', 'data-session-control': true }, TITRATION_HELP),
        h('div', { class: 'card run-chart' }, this.#chart.el),
        notes,
      ),
    );
    this.el = h('div', { class: 'run' }, this.#ended, h('div', { class: 'run-main' }, this.#pausedBanner, this.#warnings, this.#cards), this.#grid);
    ctx.telemetry.on((t) => this.#onTelemetry(t));
    ctx.notes.on((n) => this.#onNote(n));
  }

  update(s: Snapshot): void {
    if (s.sessionId !== this.#sessionId) {
      this.#sessionId = s.sessionId;
      this.#buffer.clear();
      this.#notes.clear();
      this.#notesList.replaceChildren();
      if (s.sessionId !== undefined) void this.#loadNotes(s.sessionId);
      this.#scopeChannel = undefined;
      this.#channelsKey = '';
    }
    this.#renderHead(s);
    this.#renderCards(s);
    // After the cards (which set the buffer's channels): pauses and channels going off are marks.
    if (this.#buffer.noteSnapshot(s) && this.el.isConnected) this.#chart.setData(this.#buffer.series());
    this.#renderControls(s);
    this.#renderEnded(s);
    this.#renderWarnings(s);
  }

  /** Warning-level figures of the running phase (e.g. charge density), with their source. */
  #renderWarnings(s: Snapshot): void {
    const key = JSON.stringify(s.warnings);
    if (key === this.#warningsKey) return;
    this.#warningsKey = key;
    setFlag(this.#warnings, 'hidden', s.warnings.length === 0);
    replaceChildren(
      this.#warnings,
      s.warnings.map((w) => h('li', {}, svgIcon('warning'), h('span', {}, `Warning: ${w.message}`, w.source && !w.message.includes(w.source) ? ` [${w.source}]` : ''))),
    );
  }

  #renderHead(s: Snapshot): void {
    const p = progress(s);
    setText(this.#stateLine, s.state === 'ramping' ? 'Ramping up to the target' : s.state === 'ramping-down' ? 'Ramping down' : stateText(s.state));
    this.#stateLine.className = `run-state state-${s.state}`;
    setText(this.#phaseLine, s.phase ? `Phase ${s.phase.index + 1} of ${s.phase.count}: ${s.phase.name} · ${num(s.phase.frequencyHz)} Hz · ${s.protocol?.name ?? ''}` : (s.protocol?.name ?? ''));
    if (ENDED_STATES.has(s.state)) {
      // Ended: what was delivered, not a countdown that no longer runs.
      setText(this.#remaining, clock(Math.min(s.elapsedS, s.totalS)));
      setText(this.#timeDetail, `of ${clock(s.totalS)} delivered`);
    } else {
      setText(this.#remaining, countdown(p.remainingS));
      setText(this.#timeDetail, `remaining of ${clock(s.totalS)} · ${clock(Math.min(s.elapsedS, s.totalS))} done`);
    }
    this.#bar.value = p.fraction;
    this.#bar.setAttribute('aria-valuetext', `${Math.round(p.fraction * 100)} percent, ${countdown(p.remainingS)} remaining`);
    setFlag(this.#pausedBanner, 'hidden', s.state !== 'paused');
  }

  #renderCards(s: Snapshot): void {
    const key = s.channels.map((c) => `${c.channel}:${c.region}:${c.side}:${c.sites.join('|')}`).join(',');
    if (key !== this.#channelsKey) {
      this.#channelsKey = key;
      this.#cardRefs.clear();
      replaceChildren(this.#cards, s.channels.map((c) => this.#card(c)));
      this.#cards.dataset.count = String(s.channels.length);
      this.#chart.setChannels(s.channels.map((c) => c.channel));
      this.#buffer.setChannels(s.channels.map((c) => c.channel));
      this.#renderScope(s.channels.map((c) => c.channel));
    }
    for (const c of s.channels) {
      const refs = this.#cardRefs.get(c.channel);
      if (!refs) continue;
      refs.el.classList.toggle('on', c.on);
      refs.el.classList.toggle('off', !c.on);
      const badgeText = channelOutputText(c);
      if (refs.badge.dataset.text !== badgeText) {
        refs.badge.dataset.text = badgeText;
        replaceChildren(refs.badge, svgIcon(c.on ? 'bolt' : 'off'), h('span', {}, badgeText));
      }
      setText(refs.measured, c.on || c.measuredMa !== null ? ma(c.on ? c.measuredMa : 0) : '— mA');
      setText(refs.target, ma(shownTargetMa(c)));
      setText(refs.impedance, impedance(c.impedance));
      setText(refs.delivered, `${c.deliveredUc.toFixed(1)} µC`);
    }
    setText(this.#targetNow, doseLine(s.channels, this.#scopeChannel));
  }

  #card(c: Snapshot['channels'][number]): HTMLElement {
    const titleId = `chan-${c.channel}`;
    const badge = h('div', { class: 'output-badge' });
    const measured = h('span', { class: 'amp-big' });
    const target = h('span', { class: 'amp-target' });
    const imp = h('dd', { class: 'impedance' });
    const delivered = h('dd', {});
    const el = h(
      'article',
      // Focusable by script only: where focus goes after the last alarm about this channel.
      { class: 'channel-card', 'aria-labelledby': titleId, tabindex: '-1', 'data-focus': channelFocusKey(c.channel) },
      h('h3', { id: titleId }, `Channel ${c.channel} · ${placement(c.region, c.side)}`),
      h('p', { class: 'sites' }, c.sites.join(' · ')),
      badge,
      h('div', { class: 'amps' }, h('div', { class: 'amp' }, h('span', { class: 'amp-label' }, 'Measured'), measured), h('div', { class: 'amp' }, h('span', { class: 'amp-label' }, 'Target'), target)),
      h('dl', { class: 'facts compact' }, h('dt', {}, 'Impedance'), imp, h('dt', {}, 'Maximum'), h('dd', {}, ma(c.maxMa)), h('dt', {}, 'Charge delivered'), delivered),
    );
    this.#cardRefs.set(c.channel, { el, badge, measured, target, impedance: imp, delivered });
    return el;
  }

  #renderScope(channels: readonly number[]): void {
    if (channels.length < 2) {
      this.#scope.replaceChildren();
      this.#scopeChannel = undefined;
      return;
    }
    const option = (value: number | undefined, text: string) => {
      const input = h('input', { type: 'radio', name: 'titrate-scope', value: value === undefined ? 'all' : String(value) });
      input.checked = value === this.#scopeChannel;
      input.addEventListener('change', () => {
        if (input.checked) {
          this.#scopeChannel = value;
          if (this.#ctx.snapshot) this.#renderCards(this.#ctx.snapshot);
        }
      });
      return h('label', { class: 'choice' }, input, h('span', {}, text));
    };
    replaceChildren(this.#scope, h('fieldset', { class: 'radio-group inline' }, h('legend', {}, 'Change the amplitude of'), h('div', { class: 'choices inline' }, option(undefined, 'All channels'), channels.map((c) => option(c, `Channel ${c}`)))));
  }

  #renderControls(s: Snapshot): void {
    const canTitrate = s.state === 'ramping' || s.state === 'running';
    if (!canTitrate) this.#input.stop(s.state === 'paused' ? 'the session is paused' : 'output is not on');
    for (const b of this.#stepButtons) b.disabled = !canTitrate;
    setFlag(this.#pauseBtn, 'hidden', s.state === 'paused');
    setFlag(this.#resumeBtn, 'hidden', s.state !== 'paused');
    this.#pauseBtn.disabled = !canTitrate;
    this.#resumeBtn.disabled = s.state !== 'paused' || s.latched;
    this.#stopBtn.disabled = !(canTitrate || s.state === 'paused');
    setFlag(this.#controls, 'hidden', ENDED_STATES.has(s.state));
    setFlag(this.#titration, 'hidden', ENDED_STATES.has(s.state));
    this.el.classList.toggle('live', !ENDED_STATES.has(s.state));
  }

  #renderEnded(s: Snapshot): void {
    const ended = ENDED_STATES.has(s.state);
    setFlag(this.#ended, 'hidden', !ended);
    const key = ended ? `${s.state}|${s.reason ?? ''}|${s.latched}|${s.sessionId ?? ''}` : '';
    if (key === this.#endedKey) return;
    const wasEmpty = this.#endedKey === '';
    this.#endedKey = key;
    if (!ended) {
      this.#ended.replaceChildren();
      return;
    }
    const sessionId = s.sessionId;
    keepingFocus(this.#ended, () => replaceChildren(
      this.#ended,
      h('div', { class: 'ended-head' }, svgIcon(s.state === 'completed' ? 'check' : 'stop'), h('h2', { id: 'ended-title' }, endText(s))),
      h('p', {}, 'Output is off.', s.latched ? ' The emergency stop is latched: clear it (above) before a new session.' : ''),
      h(
        'div',
        { class: 'actions' },
        sessionId ? h('button', { type: 'button', class: 'secondary big', onclick: () => this.#openReport(sessionId) }, 'Open report') : null,
        h('button', { type: 'button', class: 'primary big', 'data-session-control': true, 'data-focus': FOCUS.newSession, disabled: s.latched, onclick: () => void this.#newSession() }, 'New session'),
      ),
    ));
    this.#ended.className = `ended ended-${s.state}`;
    if (wasEmpty && !this.#ended.contains(document.activeElement) && !s.latched) this.#ended.focus();
  }

  #onTelemetry(t: Telemetry): void {
    if (!this.#sessionId) return;
    this.#buffer.add(t);
    if (!this.el.isConnected || this.el.closest('[hidden]')) return;
    this.#chart.setData(this.#buffer.series());
  }

  async #titrate(delta: TitrationStep): Promise<void> {
    const r = await this.#ctx.api.titrate(this.#scopeChannel === undefined ? { deltaMa: delta } : { deltaMa: delta, channel: this.#scopeChannel });
    if (!this.#ctx.check(r, delta > 0 ? 'Increase amplitude' : 'Decrease amplitude')) return;
    // Said once: the same refusal again (a held button) leaves the text, and the live region, as is.
    this.#setNotes(this.#droppedNote, refusalText(r.data.refused));
  }

  /** What the titration did not do, in words: steps not sent, then channels that refused the last step. */
  #setNotes(dropped: string, refusal: string): void {
    this.#droppedNote = dropped;
    this.#refusalNote = refusal;
    setText(this.#refusal, [dropped, refusal].filter((t) => t !== '').join(' '));
  }

  async #call(call: 'pause' | 'resume' | 'stop'): Promise<void> {
    // Pause and Resume swap places: focus follows to the one shown.
    if (call !== 'stop') this.#ctx.focus.request({ kind: call });
    const r = await this.#ctx.api[call]({});
    if (!this.#ctx.check(r, call === 'pause' ? 'Pause' : call === 'resume' ? 'Resume' : 'Stop session')) this.#ctx.focus.cancel();
  }

  async #addNote(): Promise<void> {
    const text = this.#noteInput.value.trim();
    if (!text) {
      this.#ctx.notify('error', 'Write the note first.');
      this.#noteInput.focus();
      return;
    }
    const r = await this.#ctx.api.addNote({ text });
    if (!this.#ctx.check(r, 'Add note')) return;
    // Listed when the controller tells every window (the `note` event), this one included.
    this.#noteInput.value = '';
  }

  /** The notes written before this window showed the session (opened or reloaded during it). */
  async #loadNotes(sessionId: string): Promise<void> {
    const r = await this.#ctx.api.listNotes({});
    if (!this.#ctx.check(r, 'List the notes') || this.#sessionId !== sessionId) return;
    for (const n of r.data) this.#onNote(n);
  }

  #onNote(n: SessionNote): void {
    if (n.sessionId !== this.#sessionId || this.#notes.has(n.seq)) return;
    this.#notes.set(n.seq, n);
    replaceChildren(
      this.#notesList,
      [...this.#notes.values()].sort((a, b) => a.seq - b.seq).map((x) => h('li', {}, h('span', { class: 'muted' }, `${clock(x.atS)} `), x.text)),
    );
  }

  #openReport(sessionId: string): void {
    this.#ctx.navigate('history');
    this.#ctx.reportRequests.emit(sessionId);
  }

  async #newSession(): Promise<void> {
    const r = await this.#ctx.api.newSession({});
    this.#ctx.check(r, 'New session');
  }
}

/** A titration button's accessible name: its visible step and unit first, then what it does. */
function titrationButtonName(step: string): string {
  return `${step} mA, ${step.startsWith('+') ? 'increase' : 'decrease'} amplitude`;
}
