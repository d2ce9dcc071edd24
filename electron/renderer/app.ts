/**
 * The application shell: the header (device, session state, whether output is on, and the
 * Emergency stop, always in the same place), the navigation, the banners (connection, who controls
 * the session, latched stop, alarms, notices) and the five screens.
 *
 * A window that does not control the session (an observer) shows it live with every control that
 * changes it removed (`data-session-control`, hidden by styles.css under `body.observer`); the
 * Emergency stop and Escape stay. "Take control" asks first; the controller refuses the calls of
 * an observer anyway (src/app/control.ts), so this is what the clinician sees, not the safeguard.
 */
import type { AppContext, Notice, ScreenName } from './context.js';
import { h, replaceChildren, setFlag, setText, svgIcon } from './dom.js';
import { stateText } from '../../src/domain/format.js';
import { ACTIVE_STATES, ENDED_STATES, alarmViews, outputSummary } from './session-model.js';
import type { ControlView, Snapshot } from '../../src/app/contract.js';
import { cancelAllDialogs, confirmDialog } from './components/dialog.js';
import { DeviceScreen } from './screens/device.js';
import { ProtocolsScreen } from './screens/protocols.js';
import { SessionScreen } from './screens/session.js';
import { HistoryScreen } from './screens/history.js';
import { PatientsScreen } from './screens/patients.js';

export interface Screen {
  readonly el: HTMLElement;
  /** Called when the screen is shown. */
  shown?(): void;
}

const SCREENS: readonly { name: ScreenName; label: string }[] = [
  { name: 'device', label: 'Device' },
  { name: 'protocols', label: 'Protocols' },
  { name: 'session', label: 'Session' },
  { name: 'patients', label: 'Patients' },
  { name: 'history', label: 'History' },
];

export interface ShellOptions {
  /** "Electron" or "Browser training host": shown small in the header. */
  readonly hostLabel: string;
}

export class App {
  readonly #ctx: AppContext;
  readonly #main: HTMLElement;
  readonly #nav: HTMLElement;
  readonly #banners: HTMLElement;
  readonly #screens = new Map<ScreenName, Screen>();
  readonly #navButtons = new Map<ScreenName, HTMLButtonElement>();
  readonly #devicePill = h('span', { class: 'pill device-pill' });
  readonly #statePill = h('span', { class: 'pill state-pill' });
  readonly #output = h('div', { class: 'output-status' });
  /** Says "Output on" / "Output off" when it changes (the amplitude itself is not announced). */
  readonly #outputLive = h('div', { class: 'sr-only', role: 'status' });
  readonly #connBanner = h('div', { class: 'banner banner-connection', role: 'alert', hidden: true });
  readonly #controlBanner = h('section', { class: 'banner banner-control', 'aria-labelledby': 'control-title', hidden: true });
  #controlKey = '';
  /** The latest take-over already told about, and when this window learnt of it. */
  #takeoverSeen = 0;
  #takeoverAt = '';
  readonly #latchBanner = h('section', { class: 'banner banner-latched', 'aria-labelledby': 'latch-title', hidden: true });
  readonly #alarmList = h('section', { class: 'alarms', 'aria-label': 'Alarms', hidden: true });
  readonly #notice = h('div', { class: 'notice', hidden: true });
  readonly #announcer = h('div', { class: 'sr-only', 'aria-live': 'assertive' });
  #estopBusy = false;
  /** The browser host's connection (Electron's IPC is always there). */
  #connection: 'connecting' | 'open' | 'closed' = 'open';
  #noticeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(root: HTMLElement, ctx: AppContext, options: ShellOptions) {
    this.#ctx = ctx;
    const estop = h(
      'button',
      { type: 'button', class: 'estop', 'aria-keyshortcuts': 'Escape', onclick: () => void this.estop('button') },
      svgIcon('stop'),
      h('span', { class: 'estop-label' }, 'Emergency stop'),
      h('span', { class: 'estop-key', 'aria-hidden': 'true' }, 'Esc'),
    );
    const header = h(
      'header',
      { class: 'topbar' },
      h('div', { class: 'brand' }, h('span', { class: 'brand-name' }, 'EDN Controller'), h('span', { class: 'brand-host' }, options.hostLabel)),
      h('div', { class: 'pills' }, this.#devicePill, this.#statePill),
      this.#output,
      estop,
    );
    this.#nav = h(
      'nav',
      { class: 'tabs', 'aria-label': 'Screens' },
      SCREENS.map((s) => {
        const b = h('button', { type: 'button', class: 'tab', onclick: () => ctx.navigate(s.name) }, s.label);
        this.#navButtons.set(s.name, b);
        return b;
      }),
    );
    this.#banners = h('div', { class: 'banners' }, this.#connBanner, this.#controlBanner, this.#latchBanner, this.#alarmList, this.#notice);
    this.#main = h('main', { id: 'main', tabindex: '-1' });
    ctx.behindDialogs = () => [this.#main, this.#nav, this.#banners];
    this.#screens.set('device', new DeviceScreen(ctx));
    this.#screens.set('protocols', new ProtocolsScreen(ctx));
    this.#screens.set('session', new SessionScreen(ctx, () => [this.#main, this.#nav, this.#banners]));
    this.#screens.set('patients', new PatientsScreen(ctx));
    this.#screens.set('history', new HistoryScreen(ctx));
    for (const screen of this.#screens.values()) this.#main.append(screen.el);
    replaceChildren(root, h('a', { class: 'skip', href: '#main' }, 'Skip to the screen'), header, this.#nav, this.#banners, this.#main, this.#announcer, this.#outputLive);

    // The sticky header and banners: keep the banners under the header, and scrolled-to or
    // focused elements clear of both (CSS variables set through the CSSOM, allowed by the CSP).
    const measure = new ResizeObserver(() => {
      const rootStyle = document.documentElement.style;
      rootStyle.setProperty('--header-h', `${header.offsetHeight}px`);
      rootStyle.setProperty('--sticky-top', `${header.offsetHeight + this.#banners.offsetHeight + 16}px`);
    });
    measure.observe(header);
    measure.observe(this.#banners);
    // Opened (or reloaded) while a session is on: show it, not the device screen.
    let first = true;
    ctx.snapshots.on((s) => {
      if (first && (ACTIVE_STATES.has(s.state) || (ENDED_STATES.has(s.state) && s.sessionId !== undefined))) ctx.navigate('session');
      first = false;
    });
    ctx.snapshots.on((s) => this.#render(s));
    ctx.controls.on((c) => this.#renderControl(c));
    ctx.screens.on((name) => this.#show(name));
    ctx.notices.on((n) => this.#showNotice(n));
    // Escape is the emergency stop, from anywhere on the page, whatever has focus.
    window.addEventListener(
      'keydown',
      (e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          e.stopPropagation();
          void this.estop('keyboard');
        }
      },
      { capture: true },
    );
    this.#show(ctx.screen);
    this.#render(ctx.snapshot);
  }

  /** The emergency stop: sent at once, whatever the screen shows; never asks. */
  async estop(source: 'button' | 'keyboard'): Promise<void> {
    cancelAllDialogs();
    if (this.#estopBusy && source === 'keyboard') return;
    this.#estopBusy = true;
    this.#announce('Emergency stop sent');
    try {
      const r = await this.#ctx.api.estop({ source });
      if (!r.ok) this.#ctx.notify('error', `Emergency stop not confirmed by the controller: ${r.error.message}. If output may still be on, switch the stimulator off at its power switch.`);
    } finally {
      this.#estopBusy = false;
    }
  }

  setConnection(state: 'connecting' | 'open' | 'closed', detail?: string): void {
    this.#connection = state;
    this.#render(this.#ctx.snapshot);
    setFlag(this.#connBanner, 'hidden', state === 'open');
    if (state !== 'open') {
      replaceChildren(
        this.#connBanner,
        svgIcon('warning'),
        h(
          'p',
          {},
          h('strong', {}, state === 'connecting' ? 'Connecting to the controller…' : 'Connection to the controller lost. Reconnecting…'),
          ' ',
          state === 'closed' ? `${detail ? `(${detail}) ` : ''}While it is lost this screen cannot show or change the session; the controller stops output on its own if the page does not come back.` : '',
        ),
      );
    }
  }

  /** Who controls the session: the observer banner with "Take control", or a line saying another window watches. */
  #renderControl(c: ControlView): void {
    document.body.classList.toggle('observer', c.role === 'observer');
    const t = c.takeover;
    if (t && t.seq > this.#takeoverSeen) {
      this.#takeoverSeen = t.seq;
      const now = new Date();
      this.#takeoverAt = [now.getHours(), now.getMinutes(), now.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
      if (c.role === 'controller' && t.to === c.label) this.#ctx.notify('info', `This window now controls the session (taken from ${t.from}, which is told and can only watch). The take-over is in the session record.`);
    }
    const key = JSON.stringify([c.role, c.controller, c.controllerPresent, c.others, t?.seq]);
    if (key === this.#controlKey) return;
    this.#controlKey = key;
    const others = c.others === 1 ? 'another window' : `${c.others} other windows`;
    if (c.role !== 'observer') {
      setFlag(this.#controlBanner, 'hidden', c.others === 0);
      this.#controlBanner.classList.toggle('banner-control-info', true);
      replaceChildren(
        this.#controlBanner,
        svgIcon('info'),
        h('p', { id: 'control-title' }, c.role === 'controller' ? `This window controls the session; it is also shown in ${others}, read-only there.` : `This app is also open in ${others}.`),
      );
      return;
    }
    const who = c.controller ?? 'another window';
    const takenFromMe = t !== undefined && t.from === c.label && t.to === c.controller;
    this.#controlBanner.classList.toggle('banner-control-info', false);
    setFlag(this.#controlBanner, 'hidden', false);
    replaceChildren(
      this.#controlBanner,
      svgIcon('warning'),
      h(
        'div',
        { class: 'control-text' },
        h('h2', { id: 'control-title' }, c.controllerPresent ? 'Another window controls this session' : 'The window that controlled this session has gone'),
        h(
          'p',
          {},
          takenFromMe ? `${capitalise(who)} took control of this session at ${this.#takeoverAt}. ` : '',
          c.controllerPresent
            ? `${capitalise(who)} controls it. This window shows the session live, read-only; Emergency stop (or Escape) works from here.`
            : `${capitalise(who)} went away: output stops on its own unless it comes back or this window takes control. Emergency stop (or Escape) works from here.`,
        ),
      ),
      h('button', { type: 'button', class: 'primary big', onclick: () => void this.#takeControl() }, 'Take control'),
    );
  }

  /** Take control of the session, after the clinician confirms (recorded, and the other window is told). */
  async #takeControl(): Promise<void> {
    const c = this.#ctx.control;
    const who = c?.controller ?? 'another window';
    const ok = await confirmDialog({
      title: 'Take control of this session?',
      body: [
        h('p', {}, c?.controllerPresent === false ? `${capitalise(who)}, which controlled this session, has gone away.` : `${capitalise(who)} controls this session now.`),
        h('p', {}, `Taking control lets this window change the session (titrate, pause, stop, notes, acknowledgements). ${capitalise(who)} can then only watch, and is told at once. The take-over is written into the session record.`),
      ],
      confirm: 'Take control',
      cancel: 'Cancel',
      inertWhileOpen: [this.#main, this.#nav, this.#banners],
    });
    if (!ok) return;
    const r = await this.#ctx.api.takeControl({ confirmed: true });
    if (this.#ctx.check(r, 'Take control')) this.#main.focus();
  }

  #show(name: ScreenName): void {
    // Information belongs to the screen it was given on; errors stay until dismissed.
    if (this.#notice.classList.contains('notice-info')) this.#ctx.clearNotice();
    for (const [n, screen] of this.#screens) setFlag(screen.el, 'hidden', n !== name);
    for (const [n, b] of this.#navButtons) {
      if (n === name) b.setAttribute('aria-current', 'page');
      else b.removeAttribute('aria-current');
    }
    this.#screens.get(name)?.shown?.();
  }

  #render(s: Snapshot | undefined): void {
    const out = outputSummary(s);
    if (this.#connection !== 'open' && s !== undefined) {
      // Without the controller this page cannot know: never show a stale "Output off".
      replaceChildren(this.#output, svgIcon('warning'), h('span', {}, 'Output state unknown'));
      this.#output.className = 'output-status unknown';
      setText(this.#outputLive, 'Output state unknown: connection lost');
    } else {
      replaceChildren(this.#output, svgIcon(out.on ? 'bolt' : 'off'), h('span', {}, out.text));
      this.#output.className = `output-status ${out.on ? 'on' : 'off'}`;
      setText(this.#outputLive, out.on ? 'Output on' : 'Output off');
    }
    setText(this.#devicePill, s?.device ? `Device: ${s.device.model}` : 'Device: not connected');
    this.#devicePill.classList.toggle('connected', Boolean(s?.device));
    setText(this.#statePill, `Session: ${stateText(s?.state ?? 'idle')}`);
    const active = s !== undefined && ACTIVE_STATES.has(s.state);
    this.#navButtons.get('session')?.classList.toggle('live', active);

    // The latched stop: says so, and what clears it.
    const latched = s?.latched === true;
    setFlag(this.#latchBanner, 'hidden', !latched);
    if (latched && this.#latchBanner.childElementCount === 0) {
      replaceChildren(
        this.#latchBanner,
        h('div', { class: 'latch-icon' }, svgIcon('stop')),
        h(
          'div',
          { class: 'latch-text' },
          h('h2', { id: 'latch-title' }, 'Emergency stop latched: all output is off'),
          h('p', {}, 'The stimulator stays off until the stop is cleared. Check the patient and the needles first. Clearing does not restart output: a new session must be started.'),
        ),
        h('button', { type: 'button', class: 'primary big', 'data-session-control': true, onclick: () => void this.#clear() }, 'Clear stop'),
      );
    } else if (!latched) this.#latchBanner.replaceChildren();

    this.#renderAlarms(s?.alarms ?? []);
  }

  async #clear(): Promise<void> {
    const r = await this.#ctx.api.clear({});
    if (this.#ctx.check(r, 'Clear stop')) this.#announce('Stop cleared; output stays off');
  }

  #renderAlarms(alarms: Snapshot['alarms']): void {
    const views = alarmViews(alarms);
    setFlag(this.#alarmList, 'hidden', views.length === 0);
    // The text is part of the key: an alarm's words follow its condition (a cleared stop, a new channel).
    const key = views.map((v) => `${v.id}|${v.title}|${v.action}`).join(',');
    if (this.#alarmList.dataset.key === key) return;
    this.#alarmList.dataset.key = key;
    const hadFocus = this.#alarmList.contains(document.activeElement);
    replaceChildren(
      this.#alarmList,
      views.map((v) =>
        h(
          'div',
          { class: `alarm alarm-${v.priority}`, role: v.priority === 'low' ? 'status' : 'alert' },
          h('div', { class: 'alarm-indicator' }, svgIcon(v.icon)),
          h('div', { class: 'alarm-text' }, h('p', { class: 'alarm-priority' }, v.priorityText), h('p', { class: 'alarm-cause' }, v.title), h('p', { class: 'alarm-action' }, v.action)),
          h('button', { type: 'button', class: 'secondary', 'data-session-control': true, 'aria-label': `Acknowledge alarm: ${v.title}`, onclick: () => void this.#ack(v.id) }, 'Acknowledge'),
        ),
      ),
    );
    if (hadFocus) this.#alarmList.querySelector('button')?.focus();
  }

  async #ack(id: string): Promise<void> {
    const r = await this.#ctx.api.acknowledgeAlarm({ id });
    this.#ctx.check(r, 'Acknowledge alarm');
  }

  #showNotice(n: Notice | undefined): void {
    if (this.#noticeTimer !== undefined) clearTimeout(this.#noticeTimer);
    this.#noticeTimer = undefined;
    // Information fades after a while; an error stays until it is dismissed or replaced.
    if (n?.kind === 'info') this.#noticeTimer = setTimeout(() => this.#ctx.clearNotice(), 8000);
    setFlag(this.#notice, 'hidden', n === undefined);
    if (!n) {
      this.#notice.replaceChildren();
      return;
    }
    this.#notice.className = `notice notice-${n.kind}`;
    this.#notice.setAttribute('role', n.kind === 'error' ? 'alert' : 'status');
    replaceChildren(
      this.#notice,
      svgIcon(n.kind === 'error' ? 'warning' : 'info'),
      h('p', {}, n.text),
      h('button', { type: 'button', class: 'secondary', onclick: () => this.#ctx.clearNotice() }, 'Dismiss'),
    );
  }

  #announce(text: string): void {
    this.#announcer.textContent = '';
    requestAnimationFrame(() => {
      this.#announcer.textContent = text;
    });
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
