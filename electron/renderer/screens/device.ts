/**
 * Device: the ports (the simulator first when no stimulator is plugged in), connect and
 * disconnect, the connected device's identity and its limits with units, and who is treating.
 */
import type { Snapshot } from '../../../src/app/contract.js';
import type { AppContext } from '../context.js';
import { h, replaceChildren, setFlag, setText, svgIcon } from '../dom.js';
import { duration, num, range } from '../../../src/domain/format.js';
import { type Port, orderPorts } from '../session-model.js';
import { textField } from '../components/fields.js';

export class DeviceScreen {
  readonly el: HTMLElement;
  readonly #ctx: AppContext;
  readonly #status = h('div', { class: 'device-status', role: 'status' });
  readonly #identity = h('div', { class: 'device-identity' });
  readonly #portList = h('div', { class: 'choices port-list' });
  readonly #portsSection: HTMLElement;
  readonly #connectBtn: HTMLButtonElement;
  readonly #disconnectBtn: HTMLButtonElement;
  readonly #portMsg = h('p', { class: 'hint', role: 'status' });
  #ports: Port[] = [];
  #selected: string | undefined;
  #busy = false;
  #clinician = '';
  #lastDeviceKey = '';

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
    this.#connectBtn = h('button', { type: 'button', class: 'primary big', 'data-session-control': true, onclick: () => void this.#connect() }, 'Connect');
    this.#disconnectBtn = h('button', { type: 'button', class: 'secondary big', 'data-session-control': true, onclick: () => void this.#disconnect() }, 'Disconnect');
    const refresh = h('button', { type: 'button', class: 'secondary', onclick: () => void this.refreshPorts() }, 'Refresh ports');
    this.#portsSection = h(
      'section',
      { class: 'card', 'aria-labelledby': 'ports-title' },
      h('h2', { id: 'ports-title' }, 'Connect a stimulator'),
      h('fieldset', { class: 'field radio-group' }, h('legend', {}, 'Port'), this.#portList),
      this.#portMsg,
      h('div', { class: 'actions' }, refresh, this.#connectBtn),
    );
    const clinician = textField({
      label: 'Clinician (initials or staff id)',
      hint: 'Recorded with each session and with every acknowledgement. Up to 32 characters.',
      value: '',
      maxLength: 32,
      onInput: (v) => {
        this.#clinician = v;
      },
    });
    const saveClinician = h('button', { type: 'button', class: 'secondary', 'data-session-control': true, onclick: () => void this.#saveSettings(clinician) }, 'Save clinician');
    this.el = h(
      'section',
      { class: 'screen screen-device', 'aria-labelledby': 'device-title' },
      h('h1', { id: 'device-title' }, 'Device'),
      h('div', { class: 'grid-2' }, h('section', { class: 'card', 'aria-labelledby': 'device-status-title' }, h('h2', { id: 'device-status-title' }, 'Status'), this.#status, this.#identity, h('div', { class: 'actions' }, this.#disconnectBtn)), this.#portsSection),
      h('section', { class: 'card', 'aria-labelledby': 'who-title' }, h('h2', { id: 'who-title' }, 'Who is treating'), clinician.el, h('div', { class: 'actions' }, saveClinician)),
    );
    ctx.snapshots.on((s) => this.#render(s));
    void this.#loadSettings(clinician);
    this.#render(ctx.snapshot);
  }

  shown(): void {
    if (!this.#ctx.snapshot?.device) void this.refreshPorts();
  }

  async refreshPorts(): Promise<void> {
    setText(this.#portMsg, 'Looking for ports…');
    const r = await this.#ctx.api.listPorts({});
    if (!this.#ctx.check(r, 'List ports')) {
      setText(this.#portMsg, '');
      return;
    }
    this.#ports = orderPorts(r.data);
    const hardware = this.#ports.some((p) => p.kind === 'serial' && p.likelyStimulator);
    setText(this.#portMsg, this.#ports.length === 0 ? 'No ports found.' : hardware ? '' : 'No stimulator found: the simulator is listed first, for rehearsal without hardware.');
    if (!this.#selected || !this.#ports.some((p) => p.path === this.#selected)) this.#selected = this.#ports[0]?.path;
    this.#renderPorts();
  }

  #renderPorts(): void {
    replaceChildren(
      this.#portList,
      this.#ports.map((p) => {
        const input = h('input', { type: 'radio', name: 'port', value: p.path });
        input.checked = p.path === this.#selected;
        input.addEventListener('change', () => {
          if (input.checked) this.#selected = p.path;
        });
        const detail = p.kind === 'simulator' ? 'simulated stimulator, no hardware' : [p.likelyStimulator ? 'likely a stimulator' : 'serial port', p.manufacturer, p.path].filter(Boolean).join(' · ');
        return h('label', { class: 'choice port' }, input, h('span', {}, h('strong', {}, p.label), h('span', { class: 'muted' }, ` — ${detail}`)));
      }),
    );
    this.#syncButtons();
  }

  async #connect(): Promise<void> {
    const path = this.#selected;
    if (!path) {
      this.#ctx.notify('error', 'Choose a port first.');
      return;
    }
    this.#busy = true;
    this.#syncButtons();
    setText(this.#portMsg, 'Connecting…');
    const r = await this.#ctx.api.connect({ path });
    this.#busy = false;
    setText(this.#portMsg, '');
    if (this.#ctx.check(r, 'Connect')) this.#ctx.clearNotice();
    this.#syncButtons();
  }

  async #disconnect(): Promise<void> {
    this.#busy = true;
    this.#syncButtons();
    const r = await this.#ctx.api.disconnect({});
    this.#busy = false;
    this.#ctx.check(r, 'Disconnect');
    this.#syncButtons();
    if (r.ok) void this.refreshPorts();
  }

  async #loadSettings(field: ReturnType<typeof textField>): Promise<void> {
    const r = await this.#ctx.api.getSettings({});
    if (r.ok) {
      this.#clinician = r.data.clinician;
      (field.control as HTMLInputElement).value = r.data.clinician;
    }
  }

  async #saveSettings(field: ReturnType<typeof textField>): Promise<void> {
    const r = await this.#ctx.api.setSettings({ clinician: this.#clinician.trim() });
    if (r.ok) {
      field.setMessages([]);
      this.#ctx.notify('info', r.data.clinician ? `Clinician saved: ${r.data.clinician}` : 'Clinician cleared.');
    } else field.setMessages([r.error.details?.map((d) => d.message).join('; ') || r.error.message]);
  }

  #syncButtons(): void {
    const s = this.#ctx.snapshot;
    const connected = Boolean(s?.device);
    this.#connectBtn.disabled = this.#busy || connected || this.#ports.length === 0;
    this.#disconnectBtn.disabled = this.#busy || !connected;
    setFlag(this.#disconnectBtn, 'hidden', !connected);
    setFlag(this.#portsSection, 'hidden', connected);
    for (const input of this.#portList.querySelectorAll('input')) input.disabled = connected || this.#busy;
  }

  #render(s: Snapshot | undefined): void {
    const d = s?.device;
    const key = d ? `${d.transport}|${d.serial}|${d.bootId}` : s?.state === 'connecting' ? 'connecting' : 'none';
    this.#syncButtons();
    if (key === this.#lastDeviceKey) return;
    this.#lastDeviceKey = key;
    if (!d) {
      replaceChildren(this.#status, svgIcon('off'), h('p', {}, h('strong', {}, s?.state === 'connecting' ? 'Connecting…' : 'Not connected'), s?.state === 'idle' && s.reason ? ` — ${s.reason}` : ''));
      this.#status.className = 'device-status off';
      this.#identity.replaceChildren();
      if (!this.#busy) void this.refreshPorts();
      return;
    }
    this.#status.className = 'device-status on';
    replaceChildren(this.#status, svgIcon('check'), h('p', {}, h('strong', {}, `Connected: ${d.model}`), ` (${d.transport})`));
    const L = d.limits;
    const row = (k: string, v: string) => [h('dt', {}, k), h('dd', {}, v)];
    replaceChildren(
      this.#identity,
      h('h3', {}, 'Identity'),
      h('dl', { class: 'facts' }, row('Model', d.model), row('Firmware', d.firmware), row('Serial number', d.serial), row('Boot id', d.bootId)),
      h('h3', {}, 'Limits reported by the device'),
      h(
        'dl',
        { class: 'facts' },
        row('Channels', String(L.channels)),
        row('Frequency', range(L.frequencyHz.min, L.frequencyHz.max, 'Hz')),
        row('Pulse width per phase', range(L.pulseWidthUs.min, L.pulseWidthUs.max, 'us')),
        row('Amplitude', range(L.amplitudeMa.min, L.amplitudeMa.max, 'mA')),
        row('Charge per phase, at most', `${num(L.maxChargePerPhaseUc)} µC`),
        row('Session length, at most', duration(L.maxDurationS)),
        row('Compliance voltage', `${num(L.complianceV)} V`),
        row('Watchdog', `${num(L.watchdogMs)} ms`),
      ),
    );
  }
}
