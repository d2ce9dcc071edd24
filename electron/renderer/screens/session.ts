/**
 * Session: the steps to stimulation, one primary action at a time. Choose the protocol, screen the
 * patient, check the electrodes and start (the one confirmed action), then the running session.
 * Which step shows follows the controller's state; the local choice only fills the gaps.
 */
import type { Snapshot } from '../../../src/app/contract.js';
import type { AppContext, SessionCourse } from '../context.js';
import { h, replaceChildren, setFlag, svgIcon } from '../dom.js';
import { impedance, ma, num, placement } from '../../../src/domain/format.js';
import { getAt } from '../protocol-model.js';
import { ACTIVE_STATES, ENDED_STATES } from '../session-model.js';
import { stepper } from '../components/fields.js';
import { confirmDialog } from '../components/dialog.js';
import { allEvidenceLines } from '../components/evidence.js';
import { FOCUS, keepingFocus } from '../focus.js';
import { ScreeningPanel } from './screening.js';
import { RunView } from './run.js';
import { CourseAfterCard, CourseBeforeCard, type Joined } from './course-questions.js';

type Step = 'connect' | 'choose' | 'screening' | 'electrodes' | 'run' | 'stopped';

const STEPS: readonly { step: Step; label: string }[] = [
  { step: 'choose', label: 'Protocol' },
  { step: 'screening', label: 'Screening' },
  { step: 'electrodes', label: 'Electrodes and start' },
  { step: 'run', label: 'Stimulation' },
];

export class SessionScreen {
  readonly el: HTMLElement;
  readonly #ctx: AppContext;
  readonly #inert: () => HTMLElement[];
  readonly #steps = h('ol', { class: 'steps', 'aria-label': 'Steps' });
  readonly #panel = h('div', { class: 'session-panel' });
  readonly #run: RunView;
  #step: Step | undefined;
  /** The protocol being screened (local choice while the controller is ready). */
  #protocolId: string | undefined;
  #wantScreening = false;
  #screening: ScreeningPanel | undefined;
  #screeningFor: string | undefined;
  #electrodeKey = '';
  #startTarget = 1;
  #startBtn: HTMLButtonElement | undefined;
  #protocolFile: { id: string; file: unknown } | undefined;
  #lastState: Snapshot['state'] | undefined;
  /** The course this session belongs to (from the Patients screen), until the next session begins. */
  #course: SessionCourse | undefined;
  #before: CourseBeforeCard | undefined;
  /** The session joined to the course with its pain before (courseSession). */
  #joined: Joined | undefined;
  #after: CourseAfterCard | undefined;
  /** The after-session questions, above the ended session (panel and run view are the layout's). */
  readonly #afterBox = h('div', { class: 'course-after-box', hidden: true });
  /**
   * A protocol chosen for the next session (Use for session, a course's Start session) while the
   * last one is still on screen: taken when the next session begins (New session), whoever begins it.
   */
  #next: { readonly protocolId: string; readonly course: SessionCourse | undefined } | undefined;
  /** Says which protocol comes next, and what stands before it (a latched stop, the course's questions). */
  readonly #nextBox = h('p', { class: 'next-session', role: 'status', hidden: true });

  constructor(ctx: AppContext, inertWhileDialog: () => HTMLElement[]) {
    this.#ctx = ctx;
    this.#inert = inertWhileDialog;
    this.#run = new RunView(ctx);
    this.el = h('section', { class: 'screen screen-session', 'aria-labelledby': 'session-title' }, h('h1', { id: 'session-title' }, 'Session'), this.#steps, this.#nextBox, this.#panel, this.#afterBox, this.#run.el);
    ctx.snapshots.on((s) => this.#render(s));
    ctx.protocolsChanged.on(() => {
      if (this.#step === 'choose') this.#renderChoose();
    });
  }

  shown(): void {
    // Arriving from "Use for session": go straight to screening for that protocol.
    const chosen = this.#ctx.sessionProtocolId;
    this.#ctx.sessionProtocolId = undefined;
    // Arriving from a course's "Start session": the session belongs to it (its protocol, its patient).
    const course = this.#ctx.sessionCourse;
    this.#ctx.sessionCourse = undefined;
    const state = this.#ctx.snapshot?.state;
    if (chosen && (state === undefined || state === 'ready' || state === 'idle')) {
      this.#next = undefined;
      if (chosen !== this.#screeningFor || course !== undefined || this.#course !== undefined) {
        this.#screening = undefined;
        this.#screeningFor = undefined;
      }
      this.#setCourse(course);
      this.#protocolId = chosen;
      this.#wantScreening = true;
      this.#step = undefined;
    } else if (chosen && state !== undefined && ENDED_STATES.has(state)) {
      this.#chooseNext(chosen, course);
    } else if (chosen) {
      this.#ctx.notify('info', `A session is in progress: ${this.#protocolName(chosen)} can be started once it has ended.`);
    }
    if (this.#ctx.protocols.length === 0) void this.#ctx.refreshProtocols();
    this.#render(this.#ctx.snapshot);
  }

  #stepFor(s: Snapshot | undefined): Step {
    if (!s || s.state === 'idle' || s.state === 'connecting') return s && s.sessionId && ENDED_STATES.has(s.state) ? 'run' : 'connect';
    if (ACTIVE_STATES.has(s.state)) return 'run';
    if (ENDED_STATES.has(s.state)) return s.sessionId ? 'run' : 'stopped';
    if (s.state === 'checking-electrodes') return 'electrodes';
    if (s.state === 'screening') return 'screening';
    return this.#wantScreening && this.#protocolId ? 'screening' : 'choose';
  }

  #render(s: Snapshot | undefined): void {
    // A new session starts from a clean slate: no answers of the previous patient remain.
    if (s && s.state === 'ready' && this.#lastState !== undefined && this.#lastState !== 'ready' && this.#lastState !== 'screening') {
      this.#wantScreening = false;
      this.#screening = undefined;
      this.#screeningFor = undefined;
      this.#setCourse(undefined);
      // ...but the protocol chosen for it while the last session was on screen goes on to its screening.
      const next = this.#next;
      this.#next = undefined;
      if (next) {
        this.#setCourse(next.course);
        this.#protocolId = next.protocolId;
        this.#wantScreening = true;
      }
    }
    this.#lastState = s?.state;
    const step = this.#stepFor(s);
    const changed = step !== this.#step;
    this.#step = step;
    this.#renderSteps(step);
    setFlag(this.#run.el, 'hidden', step !== 'run');
    setFlag(this.#panel, 'hidden', step === 'run');
    this.#renderAfter(step, s);
    this.#renderNext(step, s);
    if (step === 'run' && s) {
      this.#run.update(s);
      return;
    }
    if (changed) {
      switch (step) {
        case 'connect':
          replaceChildren(
            this.#panel,
            h('section', { class: 'card' }, h('h2', {}, 'No stimulator connected'), h('p', {}, s?.reason ?? 'Connect the stimulator (or the simulator) on the Device screen first.'), h('button', { type: 'button', class: 'primary big', onclick: () => this.#ctx.navigate('device') }, 'Go to Device')),
          );
          break;
        case 'choose':
          this.#renderChoose();
          break;
        case 'screening':
          this.#renderScreening(s);
          break;
        case 'electrodes':
          this.#electrodeKey = '';
          replaceChildren(this.#panel);
          break;
        case 'stopped':
          replaceChildren(
            this.#panel,
            h(
              'section',
              { class: 'card ended ended-stopped' },
              h('div', { class: 'ended-head' }, svgIcon('stop'), h('h2', {}, `Output stopped${s?.reason ? `: ${s.reason}` : ''}.`)),
              h('p', {}, s?.latched ? 'The stop is latched: clear it (above), then start a new session.' : 'Start a new session when ready.'),
              h('button', { type: 'button', class: 'primary big', 'data-session-control': true, 'data-focus': FOCUS.newSession, onclick: () => void this.#newSession() }, 'New session'),
            ),
          );
          break;
        case 'run':
          break;
      }
    }
    if (step === 'stopped' && s) {
      const btn = this.#panel.querySelector<HTMLButtonElement>('button');
      if (btn) btn.disabled = s.latched;
      const p = this.#panel.querySelector('p');
      if (p) p.textContent = s.latched ? 'The stop is latched: clear it (above), then start a new session.' : 'Start a new session when ready.';
    }
    if (step === 'screening' && s && this.#screeningFor !== this.#currentProtocolId(s)) this.#renderScreening(s);
    if (step === 'electrodes' && s) this.#renderElectrodes(s);
  }

  #renderSteps(step: Step): void {
    const index = STEPS.findIndex((x) => x.step === step);
    replaceChildren(
      this.#steps,
      STEPS.map((x, i) => h('li', { class: i < index ? 'done' : i === index ? 'current' : 'todo', 'aria-current': i === index ? 'step' : undefined }, h('span', { class: 'step-no', 'aria-hidden': 'true' }, String(i + 1)), x.label)),
    );
  }

  #currentProtocolId(s: Snapshot | undefined): string | undefined {
    return s?.protocol?.id ?? this.#protocolId;
  }

  // ---- 1. choose ----------------------------------------------------------------------------------

  #renderChoose(): void {
    const runnable = this.#ctx.protocols.filter((p) => p.problem === undefined);
    if (!this.#protocolId || !runnable.some((p) => p.id === this.#protocolId)) this.#protocolId = runnable[0]?.id;
    const list = runnable.map((p) => {
      const input = h('input', { type: 'radio', name: 'session-protocol', value: p.id });
      input.checked = p.id === this.#protocolId;
      input.addEventListener('change', () => {
        if (input.checked) this.#protocolId = p.id;
      });
      return h('label', { class: 'choice protocol-choice' }, input, h('span', {}, h('strong', {}, p.name), h('span', { class: 'muted' }, ` — ${num(p.totalMin, 2)} min · ${p.phases.join('; ')}${p.builtIn ? '' : ' · your protocol'}`)));
    });
    replaceChildren(
      this.#panel,
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'choose-title' },
        h('h2', { id: 'choose-title' }, 'Choose the protocol'),
        runnable.length === 0 ? h('p', {}, 'No protocol can run: open the Protocols screen.') : h('fieldset', { class: 'field radio-group' }, h('legend', {}, 'Protocol'), h('div', { class: 'choices' }, list)),
        h(
          'div',
          { class: 'actions' },
          h(
            'button',
            {
              type: 'button',
              class: 'primary big',
              disabled: runnable.length === 0,
              onclick: () => {
                if (!this.#protocolId) return;
                this.#wantScreening = true;
                this.#render(this.#ctx.snapshot);
              },
            },
            'Continue to screening',
          ),
        ),
      ),
    );
  }

  // ---- 2. screening -------------------------------------------------------------------------------

  #renderScreening(s: Snapshot | undefined): void {
    const id = this.#currentProtocolId(s);
    if (!id) {
      this.#wantScreening = false;
      this.#renderChoose();
      return;
    }
    if (!this.#screening || this.#screeningFor !== id) {
      const name = s?.protocol?.name ?? this.#ctx.protocols.find((p) => p.id === id)?.name ?? id;
      this.#screeningFor = id;
      const course = this.#course?.course.protocol.id === id ? this.#course : undefined;
      this.#screening = new ScreeningPanel(
        this.#ctx,
        id,
        name,
        () => {
          // Another protocol is not the course's: this session no longer belongs to it.
          if (this.#course) this.#ctx.notify('info', `This session is no longer part of course ${this.#course.course.id}; start it from the Patients screen to record it there.`);
          this.#setCourse(undefined);
          this.#wantScreening = false;
          this.#screening = undefined;
          this.#screeningFor = undefined;
          this.#step = undefined;
          this.#render(this.#ctx.snapshot);
        },
        course ? { patientRef: course.course.patientRef, last: course.last } : undefined,
      );
      void this.#loadProtocol(id);
    }
    replaceChildren(this.#panel, this.#screening.el);
  }

  async #loadProtocol(id: string): Promise<void> {
    const r = await this.#ctx.api.loadProtocol({ id });
    if (r.ok) this.#protocolFile = { id, file: r.data.file };
  }

  // ---- 3. electrodes and start --------------------------------------------------------------------

  #renderElectrodes(s: Snapshot): void {
    const joined = this.#joinedNow(s);
    const key = JSON.stringify([s.electrodes, s.protocol?.id, s.channels.map((c) => c.channel), this.#course?.course.id, joined]);
    if (key === this.#electrodeKey) return;
    this.#electrodeKey = key;
    const file = this.#fileOf(s);
    if (s.protocol && file === undefined) {
      const id = s.protocol.id;
      void this.#loadProtocol(id).then(() => {
        // Redraw with the protocol's ramp and maximum once they are known.
        if (this.#electrodeKey === key && this.#ctx.snapshot) {
          this.#electrodeKey = '';
          this.#renderElectrodes(this.#ctx.snapshot);
        }
      });
    }
    const maxMa = numberAt(file, 'phases[0].amplitude.maxMa') ?? Math.max(0, ...s.channels.map((c) => c.maxMa));
    const rampMaPerS = numberAt(file, 'phases[0].amplitude.rampMaPerS');
    const deviceMax = s.device?.limits.amplitudeMa.max ?? maxMa;
    const ceiling = Math.min(maxMa, deviceMax);
    this.#startTarget = Math.min(this.#startTarget, ceiling);
    const allOk = s.electrodes.length > 0 && s.electrodes.every((e) => e.ok);
    const byChannel = new Map(s.channels.map((c) => [c.channel, c]));
    const rows = s.electrodes.map((e) => {
      const c = byChannel.get(e.channel);
      return h(
        'tr',
        { class: e.ok ? 'ok' : 'bad' },
        h('th', { scope: 'row' }, `Channel ${e.channel}`),
        h('td', {}, c ? placement(c.region, c.side) : ''),
        h('td', { class: 'num' }, impedance(e.impedanceOhm)),
        h('td', { class: 'status' }, svgIcon(e.ok ? 'check' : 'cross'), h('span', {}, e.ok ? 'OK' : (e.reason ?? 'Not OK'))),
      );
    });
    const target = stepper({
      label: 'Initial target amplitude',
      field: { label: 'Initial target amplitude', unit: 'mA', min: 0, max: ceiling, step: 0.1, decimals: 1 },
      value: this.#startTarget,
      fixed: true,
      hint: `Output ramps from 0 mA to this target${rampMaPerS !== undefined ? ` at ${num(rampMaPerS)} mA/s` : ''}; titrate from there.`,
      onInput: (v) => {
        const ok = v !== undefined && Number.isFinite(v) && v >= 0 && v <= ceiling + 1e-9;
        if (ok) this.#startTarget = Math.round(v * 10) / 10;
        target.setMessages(ok ? [] : [`Give a number from 0 to ${num(ceiling)} mA (the maximum of the first phase).`]);
        if (this.#startBtn) this.#startBtn.disabled = !ok || !allOk;
      },
    });
    // A session of a course starts once the pain before is recorded (and the session joined to it).
    const courseReady = this.#course === undefined || joined;
    this.#startBtn = h('button', { type: 'button', class: 'primary big start', 'data-session-control': true, 'data-focus': 'start', disabled: !allOk || !courseReady, onclick: () => void this.#start(s) }, svgIcon('play'), h('span', {}, 'Start'));
    if (this.#course && !this.#before) {
      this.#before = new CourseBeforeCard(this.#ctx, this.#course, (j) => {
        this.#joined = j;
        this.#electrodeKey = '';
        if (this.#ctx.snapshot) this.#render(this.#ctx.snapshot);
      });
    }
    // Rebuilt on each new result: focus stays on the control it was on.
    keepingFocus(this.#panel, () => replaceChildren(
      this.#panel,
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'electrodes-title' },
        h('h2', { id: 'electrodes-title' }, 'Electrode check'),
        s.electrodes.length === 0
          ? h('p', {}, 'Not checked yet.')
          : h(
              'table',
              { class: 'electrodes' },
              h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Channel'), h('th', { scope: 'col' }, 'Placement'), h('th', { scope: 'col', class: 'num' }, 'Impedance'), h('th', { scope: 'col' }, 'Result'))),
              h('tbody', {}, rows),
            ),
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', class: 'secondary', 'data-session-control': true, 'data-focus': FOCUS.electrodesFirst, onclick: () => void this.#checkAgain() }, 'Check electrodes again'),
          h('button', { type: 'button', class: 'secondary', 'data-session-control': true, 'data-focus': 'cancel-session', onclick: () => void this.#cancel() }, 'Cancel session'),
        ),
      ),
      this.#course ? this.#before?.el : null,
      h(
        'section',
        { class: 'card start-card', 'aria-labelledby': 'start-title' },
        h('h2', { id: 'start-title' }, 'Start output'),
        allOk ? null : h('p', { class: 'field-error' }, svgIcon('cross'), h('span', {}, 'The start is blocked until every channel passes the electrode check: fix the result above, then check again.')),
        courseReady ? null : h('p', { class: 'field-error' }, svgIcon('cross'), h('span', {}, 'The start is blocked until the pain before this session is recorded (above).')),
        target.el,
        h('div', { class: 'actions' }, this.#startBtn),
      ),
    ));
  }

  // ---- the next session, chosen while the last one is on screen ----------------------------------

  /**
   * A protocol chosen while the last session is still on screen (ended): the next session is
   * begun for it at once, unless something stands before it (a latched stop to clear, the
   * course's after-session questions, or another window controlling); then New session takes it.
   */
  #chooseNext(protocolId: string, course: SessionCourse | undefined): void {
    this.#next = { protocolId, course };
    const s = this.#ctx.snapshot;
    const waits = s === undefined || s.latched || this.#ctx.control?.role === 'observer' || this.#afterShown(s);
    if (!waits) void this.#newSession();
  }

  #renderNext(step: Step, s: Snapshot | undefined): void {
    const next = this.#next;
    const show = next !== undefined && s !== undefined && (step === 'stopped' || (step === 'run' && ENDED_STATES.has(s.state)));
    setFlag(this.#nextBox, 'hidden', !show);
    if (!show || !next) return;
    const before = s.latched ? 'Clear the stop (above), then New session goes on to its screening.' : this.#afterShown(s) ? 'Record the outcomes of this session first; New session then goes on to its screening.' : 'New session goes on to its screening.';
    const text = `Next session: ${this.#protocolName(next.protocolId)}. ${before}`;
    if (this.#nextBox.dataset.text === text) return;
    this.#nextBox.dataset.text = text;
    replaceChildren(this.#nextBox, svgIcon('info'), h('span', {}, text));
  }

  #protocolName(id: string): string {
    return this.#ctx.protocols.find((p) => p.id === id)?.name ?? id;
  }

  /** The ended session's after-session questions of its course are on screen. */
  #afterShown(s: Snapshot): boolean {
    return ENDED_STATES.has(s.state) && this.#joined !== undefined && this.#joinedNow(s);
  }

  // ---- a session of a course ----------------------------------------------------------------------

  #setCourse(course: SessionCourse | undefined): void {
    this.#course = course;
    this.#before = undefined;
    this.#joined = undefined;
    this.#after = undefined;
  }

  /** True when the session on screen is the one joined to the course. */
  #joinedNow(s: Snapshot): boolean {
    return this.#joined !== undefined && s.sessionId !== undefined && this.#joined.sessionId === s.sessionId;
  }

  /** After a session of a course ends: NPRS after and adverse effects, above the ended session. */
  #renderAfter(step: Step, s: Snapshot | undefined): void {
    const show = step === 'run' && s !== undefined && ENDED_STATES.has(s.state) && this.#joined !== undefined && this.#joinedNow(s);
    setFlag(this.#afterBox, 'hidden', !show);
    if (!show || !this.#joined) return;
    if (!this.#after) {
      this.#after = new CourseAfterCard(this.#ctx, this.#joined, () => undefined);
      replaceChildren(this.#afterBox, this.#after.el);
    }
  }

  /** The loaded file of the session's protocol, when it is the one loaded. */
  #fileOf(s: Snapshot): unknown {
    return this.#protocolFile && this.#protocolFile.id === s.protocol?.id ? this.#protocolFile.file : undefined;
  }

  async #checkAgain(): Promise<void> {
    const r = await this.#ctx.api.checkElectrodes({});
    if (this.#ctx.check(r, 'Check electrodes')) this.#electrodeKey = '';
    if (this.#ctx.snapshot) this.#render(this.#ctx.snapshot);
  }

  async #start(s: Snapshot): Promise<void> {
    const target = this.#startTarget;
    const chans = s.channels.map((c) => `channel ${c.channel} (${placement(c.region, c.side)})`).join(' and ');
    const rampMaPerS = numberAt(this.#fileOf(s), 'phases[0].amplitude.rampMaPerS');
    // What the values rest on, in words: a default the clinician confirms is said so before output.
    const evidence = this.#ctx.protocols.find((p) => p.id === s.protocol?.id && p.hash === s.protocol.hash)?.evidence;
    const ok = await confirmDialog({
      title: 'Start output?',
      body: [
        h('p', {}, `Current will flow on ${chans}, ramping from 0 to ${ma(target)}${rampMaPerS !== undefined ? ` at ${num(rampMaPerS)} mA/s` : ''}.`),
        h('p', {}, `Protocol: ${s.protocol?.name ?? ''}. The session runs ${Math.round(s.totalS / 60) >= 1 ? `${num(s.totalS / 60, 1)} min` : `${Math.round(s.totalS)} s`}.`),
        evidence && evidence.groups.length > 0 ? h('div', { class: 'start-evidence' }, h('p', {}, h('strong', {}, 'What the values rest on:')), allEvidenceLines(evidence)) : '',
        h('p', {}, 'Tell the patient that stimulation is starting. Emergency stop (or the Escape key) stops all output at any time.'),
      ],
      confirm: 'Start output',
      cancel: 'Cancel',
      inertWhileOpen: this.#inert(),
    });
    if (!ok) return;
    // The electrode step goes away once output starts: focus goes on to the titration controls.
    this.#ctx.focus.request({ kind: 'start-output' });
    const r = await this.#ctx.api.start({ targetMa: target });
    if (!this.#ctx.check(r, 'Start')) this.#ctx.focus.cancel();
  }

  /** Abandon the prepared session before any output (its record ends as cancelled). */
  async #cancel(): Promise<void> {
    const r = await this.#ctx.api.cancelSession({});
    this.#ctx.check(r, 'Cancel session');
  }

  async #newSession(): Promise<void> {
    const r = await this.#ctx.api.newSession({});
    this.#ctx.check(r, 'New session');
  }
}

function numberAt(file: unknown, path: string): number | undefined {
  const v = getAt(file, path);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
