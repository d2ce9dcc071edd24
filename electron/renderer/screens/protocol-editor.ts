/**
 * The protocol editor: a form over the protocol file (never raw JSON), validated as you type by the
 * core (a debounced validateProtocol call), with each problem in words beside its field, the
 * computed figures of every phase against their limits, and a waveform preview.
 */
import type { CallOutput } from '../../../src/app/contract.js';
import type { AppContext } from '../context.js';
import { h, replaceChildren, setFlag, setText, svgIcon } from '../dom.js';
import { unitText, withUnitText } from '../../../src/domain/format.js';
import {
  FORBIDDEN_REGIONS,
  FREQUENCY_MODES,
  type FrequencyMode,
  NUMERIC_FIELDS,
  type NumericKey,
  REGIONS,
  SITE_NOTE_MAX,
  WAVEFORMS,
  exportFileName,
  frequencyMode,
  getAt,
  nextSite,
  pathLabel,
  placeMessages,
  protocolText,
  regionText,
  setAt,
  setFrequencyMode,
  siteChoices,
  siteEntry,
  siteParts,
  sidesFor,
  validityView,
} from '../protocol-model.js';
import { type FieldHandle, radioGroup, selectField, stepper, textField } from '../components/fields.js';
import { PulsePreview } from '../components/charts.js';
import { downloadText } from '../components/download.js';
import { choiceDialog } from '../components/dialog.js';
import { allEvidenceLines } from '../components/evidence.js';

type Validation = CallOutput<'validateProtocol'>;
type Figure = Validation['figures'][number]['figures'][number];

export interface EditorSession {
  readonly file: unknown;
  /** Where the draft came from, in words ("Copy of the built-in ..."). */
  readonly origin: string;
  /** The id it is saved under, when it is a saved user protocol. */
  readonly savedId?: string;
}

const VALIDATE_DEBOUNCE_MS = 300;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const WAVEFORM_TEXT: Record<string, string> = {
  'biphasic-symmetric': 'Biphasic, symmetric',
  'biphasic-asymmetric': 'Biphasic, asymmetric (charge-balanced)',
};
const MODE_TEXT: Record<FrequencyMode, string> = { steady: 'Steady frequency', 'dense-disperse': 'Dense-disperse (alternating)', burst: 'Burst' };
const SIDE_TEXT: Record<string, string> = { affected: 'affected side (chosen per patient)', left: 'left', right: 'right', midline: 'midline' };

export class ProtocolEditor {
  readonly el: HTMLElement;
  readonly #ctx: AppContext;
  readonly #form: HTMLFormElement;
  readonly #title = h('h2', { id: 'editor-title' }, 'Protocol editor');
  readonly #origin = h('p', { class: 'muted' });
  readonly #validity = h('div', { class: 'validity', role: 'status', 'aria-live': 'polite' });
  readonly #summary = h('div', { class: 'error-summary', hidden: true });
  readonly #useBtn: HTMLButtonElement;
  readonly #fields = new Map<string, FieldHandle>();
  readonly #previews = new Map<number, PulsePreview>();
  readonly #figureBoxes = new Map<number, HTMLElement>();
  /** Every value with its evidence status in words, as the library, the start dialog and the report show it. */
  readonly #evidence = h('div', { class: 'evidence-box', role: 'group', 'aria-labelledby': 'evidence-title' });
  #draft: Record<string, unknown> = {};
  #validation: Validation | undefined;
  #seq = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #savedId: string | undefined;
  #dirty = false;
  /** The file as opened or last saved (JSON): the draft differs from it when there are unsaved edits. */
  #baseline = '';
  #isOpen = false;
  /** The open "Save the changes?" question, if any (a second navigation waits for the same answer). */
  #asking: Promise<boolean> | undefined;
  readonly #onClose: () => void;
  readonly #onSaved: (id: string) => void;

  constructor(ctx: AppContext, handlers: { onClose: () => void; onSaved: (id: string) => void }) {
    this.#ctx = ctx;
    this.#onClose = handlers.onClose;
    this.#onSaved = handlers.onSaved;
    // Unsaved edits are never dropped by going to another screen: the editor asks first.
    ctx.guardLeaving('protocols', () => this.confirmLeave());
    // Reloading or closing the page with unsaved edits: the browser asks (Electron: window.ts).
    window.addEventListener('beforeunload', (e) => {
      if (!this.hasUnsavedEdits) return;
      e.preventDefault();
      e.returnValue = '';
    });
    this.#form = h('form', { class: 'editor-form', novalidate: true, 'aria-labelledby': 'editor-title', onsubmit: (e: Event) => e.preventDefault() });
    this.#useBtn = h('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => this.#use() }, 'Use for session');
    this.el = h(
      'section',
      { class: 'editor', 'aria-labelledby': 'editor-title' },
      h('div', { class: 'editor-head' }, this.#title, this.#origin),
      this.#summary,
      this.#form,
      // The actions stay in view at the bottom of the screen, with whether the protocol is valid.
      h(
        'div',
        { class: 'editor-bar' },
        this.#validity,
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', class: 'primary', onclick: () => void this.#save() }, 'Save protocol'),
          h('button', { type: 'button', class: 'secondary', onclick: () => this.#export() }, 'Export file'),
          this.#useBtn,
          h('button', { type: 'button', class: 'secondary', onclick: () => void this.#closeAsking() }, 'Close editor'),
        ),
      ),
    );
  }

  open(session: EditorSession): void {
    this.#draft = structuredClone(isRecord(session.file) ? session.file : {});
    this.#savedId = session.savedId;
    this.#dirty = false;
    this.#baseline = JSON.stringify(this.#draft);
    this.#isOpen = true;
    this.#validation = undefined;
    setText(this.#origin, session.origin);
    this.#render();
    this.#validateNow();
    this.#syncTitle();
    (this.#fields.get('name')?.control ?? this.#form).focus();
  }

  get draft(): unknown {
    return this.#draft;
  }

  /** Open, with a draft that differs from the file as opened or last saved. */
  get hasUnsavedEdits(): boolean {
    return this.#isOpen && JSON.stringify(this.#draft) !== this.#baseline;
  }

  /**
   * Before the editor goes (Close editor, another screen): with unsaved edits, ask Save / Discard /
   * Keep editing. True when the editor may go: nothing to save, saved, or discarded (the editor is
   * then closed). A save that fails keeps the editor, with the problems shown. The e-stop closes
   * the question as Keep editing: nothing is lost.
   */
  confirmLeave(): boolean | Promise<boolean> {
    if (!this.hasUnsavedEdits) return true;
    this.#asking ??= this.#askLeave().finally(() => {
      this.#asking = undefined;
    });
    return this.#asking;
  }

  async #askLeave(): Promise<boolean> {
    const name = typeof this.#draft.name === 'string' && this.#draft.name.trim() ? this.#draft.name : 'this protocol';
    const answer = await choiceDialog({
      title: `Save the changes to “${name}”?`,
      body: [
        h('p', {}, 'You changed this protocol and have not saved it.'),
        h('p', {}, 'Save keeps the changes (a protocol with problems is not saved: the editor stays open to fix them). Discard drops them. Keep editing goes back to the form.'),
      ],
      choices: [
        { value: 'keep', text: 'Keep editing', kind: 'secondary' },
        { value: 'discard', text: 'Discard', kind: 'danger' },
        { value: 'save', text: 'Save', kind: 'primary' },
      ],
      cancelValue: 'keep',
      inertWhileOpen: this.#ctx.behindDialogs(),
    });
    if (answer === 'keep') return false;
    if (answer === 'save') return this.#save();
    this.#close();
    return true;
  }

  async #closeAsking(): Promise<void> {
    if (await this.confirmLeave()) this.#close();
  }

  // ---- editing ----------------------------------------------------------------------------------

  #set(path: string, value: unknown, structural = false): void {
    setAt(this.#draft, path, value);
    this.#changed(structural);
  }

  #changed(structural: boolean): void {
    this.#dirty = true;
    this.#syncTitle();
    if (structural) this.#render();
    this.#updatePreviews();
    this.#scheduleValidate();
  }

  #syncTitle(): void {
    const name = typeof this.#draft.name === 'string' && this.#draft.name.trim() ? this.#draft.name : 'Untitled protocol';
    setText(this.#title, `Protocol editor: ${name}`);
    setFlag(this.#useBtn, 'hidden', !(this.#savedId !== undefined && !this.#dirty));
  }

  #scheduleValidate(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#showValidity('checking');
    this.#timer = setTimeout(() => this.#validateNow(), VALIDATE_DEBOUNCE_MS);
  }

  #validateNow(): void {
    this.#timer = undefined;
    const seq = ++this.#seq;
    const file = structuredClone(this.#draft);
    void this.#ctx.api.validateProtocol({ file }).then((r) => {
      if (seq !== this.#seq) return; // a newer edit is being checked
      if (!r.ok) {
        this.#showValidity('error', r.error.message);
        return;
      }
      this.#validation = r.data;
      this.#applyValidation();
    });
  }

  #showValidity(state: 'checking' | 'error', detail?: string): void {
    this.#validity.className = `validity ${state}`;
    if (state === 'checking') replaceChildren(this.#validity, h('span', { class: 'validity-text' }, 'Checking…'));
    else replaceChildren(this.#validity, svgIcon('warning'), h('span', { class: 'validity-text' }, `Could not check: ${detail ?? ''}`));
  }

  /**
   * The status in the bar at the bottom: valid, valid with warnings (each named, with a button
   * that takes you to its field), or the problems to fix.
   */
  #showValidation(v: Validation): void {
    const view = validityView(v, !this.#dirty && this.#savedId !== undefined);
    this.#validity.className = `validity ${view.state}`;
    const links: HTMLElement[] = [];
    const targets = new Set<FieldHandle>();
    for (const w of view.warnings) {
      const target = this.#fieldFor(w.path);
      if (!target || targets.has(target)) continue;
      targets.add(target);
      links.push(h('button', { type: 'button', class: 'link', onclick: () => this.#goTo(target) }, `Go to ${pathLabel(w.path)}`));
    }
    replaceChildren(
      this.#validity,
      svgIcon(view.state === 'valid' ? 'check' : view.state === 'warned' ? 'warning' : 'cross'),
      h('span', { class: 'validity-text' }, view.text),
      links.length > 0 ? h('span', { class: 'validity-links' }, links) : null,
    );
  }

  /** Focus a field and bring it to the middle of the screen (clear of the sticky header and bar). */
  #goTo(field: FieldHandle): void {
    field.control.focus({ preventScroll: true });
    field.control.scrollIntoView({ block: 'center' });
  }

  #applyValidation(): void {
    const v = this.#validation;
    if (!v) return;
    const shown = new Set(this.#fields.keys());
    const errors = placeMessages(v.errors, shown);
    const warnings = placeMessages(v.warnings, shown);
    for (const [path, field] of this.#fields) field.setMessages(errors.byPath.get(path) ?? [], warnings.byPath.get(path) ?? []);
    replaceChildren(this.#evidence, v.evidence ? allEvidenceLines(v.evidence) : h('p', { class: 'hint' }, 'Shown once the file passes the format checks above.'));
    const n = v.errors.length;
    this.#showValidation(v);
    // The summary lists every problem, each a button that takes you to its field.
    setFlag(this.#summary, 'hidden', n === 0);
    replaceChildren(
      this.#summary,
      n === 0
        ? null
        : [
            h('h3', {}, 'Problems'),
            h(
              'ul',
              {},
              v.errors.map((e) => {
                const target = this.#fieldFor(e.path);
                const label = pathLabel(e.path);
                return h('li', {}, target ? h('button', { type: 'button', class: 'link', onclick: () => this.#goTo(target) }, label) : h('strong', {}, label), `: ${e.message}`);
              }),
            ),
          ],
    );
    this.#renderFigures();
  }

  #fieldFor(path: string): FieldHandle | undefined {
    let p = path;
    while (p) {
      const f = this.#fields.get(p);
      if (f) return f;
      const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      if (cut <= 0) return undefined;
      p = p.slice(0, cut);
    }
    return undefined;
  }

  // ---- rendering ----------------------------------------------------------------------------------

  #render(): void {
    const focusedPath = document.activeElement instanceof HTMLElement && this.#form.contains(document.activeElement) ? document.activeElement.dataset.path : undefined;
    for (const p of this.#previews.values()) p.destroy();
    this.#previews.clear();
    this.#figureBoxes.clear();
    this.#fields.clear();
    replaceChildren(
      this.#form,
      this.#section('About', [
        this.#text('id', 'Id', { hint: 'Lower-case words joined by dashes, e.g. "knee-oa-short". A copy of a built-in needs its own id.' }),
        this.#text('name', 'Name'),
        this.#text('indication', 'Indication'),
        this.#text('description', 'Description', { multiline: true, optional: true }),
        this.#text('schedule', 'Schedule', { optional: true, hint: 'Sessions and spacing, e.g. "6 sessions over 4 weeks".' }),
        this.#text('aftercare', 'Aftercare advice', { multiline: true, hint: 'Printed on the session report.' }),
      ]),
      this.#section('Needle', [
        h('p', { class: 'hint' }, 'The charge density limit (Shannon k) is computed for this needle: conductive area = π × diameter × inserted length.'),
        h('div', { class: 'row' }, this.#number('electrode.diameterMm'), this.#number('electrode.insertedLengthMm')),
      ], 'electrode'),
      this.#section('Channels', [
        ...this.#list('channels').map((_c, i) => this.#channel(i)),
        h('button', { type: 'button', class: 'secondary', onclick: () => this.#addChannel() }, 'Add channel'),
      ], 'channels'),
      this.#section('Phases', [
        ...this.#list('phases').map((_p, i) => this.#phase(i)),
        h('button', { type: 'button', class: 'secondary', onclick: () => this.#addPhase() }, 'Add phase'),
      ], 'phases'),
      this.#section('Sources', [
        h('p', { class: 'hint' }, 'Which values each source verifies, and which are defaults you confirm (unverified). One field path per line, e.g. phases[0].pulseWidthUs.'),
        ...this.#list('sources').map((_s, i) => this.#source(i)),
        h('button', { type: 'button', class: 'secondary', onclick: () => this.#addSource() }, 'Add source'),
        h('h4', { id: 'evidence-title' }, 'How the values read to the clinician'),
        this.#evidence,
      ], 'sources'),
    );
    this.#updatePreviews();
    this.#applyValidation();
    if (focusedPath) (this.#form.querySelector<HTMLElement>(`[data-path="${CSS.escape(focusedPath)}"]`) ?? undefined)?.focus();
  }

  #list(path: string): unknown[] {
    const v = getAt(this.#draft, path);
    return Array.isArray(v) ? v : [];
  }

  #section(title: string, children: (Node | null)[], groupPath?: string): HTMLElement {
    const id = `sec-${title.toLowerCase()}`;
    const group = groupPath ? this.#group(groupPath) : null;
    return h('section', { class: 'editor-section', 'aria-labelledby': id }, h('h3', { id }, title), group, ...children);
  }

  /** A message slot for problems of a whole group ("channels", "phases[0]"). */
  #group(path: string): HTMLElement {
    const el = h('div', { class: 'group-messages', 'data-group': path });
    this.#fields.set(path, {
      el,
      control: el,
      setMessages: (errors, warnings = []) =>
        replaceChildren(
          el,
          errors.map((m) => h('p', { class: 'field-error' }, svgIcon('cross'), h('span', {}, m))),
          warnings.map((m) => h('p', { class: 'field-warning' }, svgIcon('warning'), h('span', {}, m))),
        ),
    });
    el.tabIndex = -1;
    return el;
  }

  #text(path: string, label: string, opts: { multiline?: boolean; optional?: boolean; hint?: string } = {}): HTMLElement {
    const v = getAt(this.#draft, path);
    const field = textField({
      label: opts.optional ? `${label} (optional)` : label,
      value: typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v),
      path,
      multiline: opts.multiline ?? false,
      ...(opts.hint ? { hint: opts.hint } : {}),
      onInput: (text) => this.#set(path, opts.optional && text.trim() === '' ? undefined : text),
    });
    this.#fields.set(path, field);
    return field.el;
  }

  #lines(path: string, label: string, hint: string): HTMLElement {
    const v = getAt(this.#draft, path);
    const field = textField({
      label,
      hint,
      multiline: true,
      rows: 3,
      value: Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('\n') : '',
      path,
      onInput: (text) =>
        this.#set(
          path,
          text
            .split('\n')
            .map((l) => l.trim())
            .filter((l) => l !== ''),
        ),
    });
    this.#fields.set(path, field);
    return field.el;
  }

  #number(path: string): HTMLElement {
    const key = path.replace(/\[[0-9]+\]/g, '[i]') as NumericKey;
    const spec = NUMERIC_FIELDS[key];
    const v = getAt(this.#draft, path);
    const field = stepper({
      label: spec.label,
      field: spec,
      value: typeof v === 'number' ? v : undefined,
      path,
      onInput: (value, text) => this.#set(path, value === undefined ? undefined : Number.isNaN(value) ? text : value),
    });
    if (typeof v === 'string') field.input.value = v;
    this.#fields.set(path, field);
    return field.el;
  }

  #select(path: string, label: string, options: readonly { value: string; text: string }[], structural = false): HTMLElement {
    const v = getAt(this.#draft, path);
    const field = selectField({ label, value: typeof v === 'string' ? v : undefined, options, path, onChange: (value) => this.#set(path, value, structural) });
    this.#fields.set(path, field);
    return field.el;
  }

  #channel(i: number): HTMLElement {
    const base = `channels[${i}]`;
    const ch = getAt(this.#draft, `${base}.channel`);
    const region = getAt(this.#draft, `${base}.region`);
    const legendId = `ch-legend-${i}`;
    return h(
      'fieldset',
      { class: 'item', 'aria-labelledby': legendId },
      h('legend', { id: legendId }, `Channel entry ${i + 1}${typeof ch === 'number' ? ` (output ${ch})` : ''}`),
      this.#group(base),
      h(
        'div',
        { class: 'row' },
        this.#number(`${base}.channel`),
        // The region decides the sides and the sites offered: changing it re-renders the channel.
        this.#select(`${base}.region`, 'Region', REGIONS.filter((r) => !FORBIDDEN_REGIONS.includes(r)).map((r) => ({ value: r, text: regionText(r) })), true),
        this.#select(`${base}.side`, 'Side', sidesFor(region).map((s) => ({ value: s, text: SIDE_TEXT[s] ?? s }))),
      ),
      this.#sites(i),
      h('button', { type: 'button', class: 'secondary danger-text', onclick: () => this.#set(base, undefined, true) }, `Remove channel entry ${i + 1}`),
    );
  }

  /**
   * The channel's needle sites: each a choice from the region's listed sites, with an optional
   * note beside it (free text is only ever a note; validation refuses one naming a forbidden area).
   */
  #sites(i: number): HTMLElement {
    const base = `channels[${i}]`;
    const region = getAt(this.#draft, `${base}.region`);
    const choices = siteChoices(region).map((s) => ({ value: s, text: s }));
    const sites = this.#list(`${base}.sites`);
    const legendId = `sites-legend-${i}`;
    return h(
      'fieldset',
      { class: 'sites-list', 'aria-labelledby': legendId },
      h('legend', { id: legendId }, `Needle sites of channel entry ${i + 1}`),
      h('p', { class: 'hint' }, `Sites listed for the ${regionText(typeof region === 'string' ? region : '')}; anything more specific goes in the note beside the site.`),
      this.#group(`${base}.sites`),
      sites.map((entry, j) => {
        const path = `${base}.sites[${j}]`;
        const parts = siteParts(entry);
        const site = selectField({
          label: `Site ${j + 1}`,
          value: parts.site === '' ? undefined : parts.site,
          options: choices,
          path,
          onChange: (value) => this.#set(path, siteEntry(value, siteParts(getAt(this.#draft, path)).note)),
        });
        this.#fields.set(path, site);
        const note = textField({
          label: `Note beside site ${j + 1} (optional)`,
          value: parts.note,
          path: `${path}.note`,
          maxLength: SITE_NOTE_MAX,
          onInput: (text) => this.#set(path, siteEntry(siteParts(getAt(this.#draft, path)).site, text)),
        });
        this.#fields.set(`${path}.note`, note);
        return h(
          'div',
          { class: 'row site-row' },
          site.el,
          note.el,
          h('button', { type: 'button', class: 'secondary danger-text', onclick: () => this.#set(path, undefined, true) }, `Remove site ${j + 1}`),
        );
      }),
      h('button', { type: 'button', class: 'secondary', disabled: choices.length === 0, onclick: () => this.#addSite(i) }, 'Add site'),
    );
  }

  #addSite(i: number): void {
    const base = `channels[${i}].sites`;
    const sites = this.#list(base);
    this.#set(`${base}[${sites.length}]`, nextSite(getAt(this.#draft, `channels[${i}].region`), sites), true);
    this.#fields.get(`${base}[${sites.length}]`)?.control.focus();
  }

  #phase(i: number): HTMLElement {
    const base = `phases[${i}]`;
    const phase = getAt(this.#draft, base);
    const mode = frequencyMode(phase);
    const legendId = `ph-legend-${i}`;
    const name = getAt(this.#draft, `${base}.name`);
    const modeGroup = radioGroup<FrequencyMode>({
      legend: 'Frequency',
      value: mode,
      inline: true,
      options: FREQUENCY_MODES.map((m) => ({ value: m, text: MODE_TEXT[m] })),
      onChange: (m) => {
        const p = getAt(this.#draft, base);
        if (isRecord(p)) {
          setFrequencyMode(p, m);
          this.#changed(true);
        }
      },
    });
    this.#fields.set(`${base}.pattern`, modeGroup);
    const modeFields =
      mode === 'steady'
        ? [this.#number(`${base}.frequencyHz`)]
        : mode === 'dense-disperse'
          ? [this.#number(`${base}.pattern.lowHz`), this.#number(`${base}.pattern.highHz`), this.#number(`${base}.pattern.dwellS`)]
          : [this.#number(`${base}.pattern.burstRateHz`), this.#number(`${base}.pattern.intraBurstHz`), this.#number(`${base}.pattern.pulsesPerBurst`)];
    const preview = new PulsePreview();
    this.#previews.set(i, preview);
    const figures = h('div', { class: 'figures', 'aria-live': 'polite' });
    this.#figureBoxes.set(i, figures);
    return h(
      'fieldset',
      { class: 'item phase', 'aria-labelledby': legendId },
      h('legend', { id: legendId }, `Phase ${i + 1}${typeof name === 'string' && name ? `: ${name}` : ''}`),
      this.#group(base),
      h(
        'div',
        { class: 'phase-grid' },
        h(
          'div',
          { class: 'phase-fields' },
          h('div', { class: 'row' }, this.#text(`${base}.name`, 'Phase name'), this.#number(`${base}.durationMin`)),
          this.#select(`${base}.waveform`, 'Waveform', WAVEFORMS.map((w) => ({ value: w, text: WAVEFORM_TEXT[w] ?? w }))),
          modeGroup.el,
          h('div', { class: 'row' }, ...modeFields),
          h('div', { class: 'row' }, this.#number(`${base}.pulseWidthUs`)),
          this.#group(`${base}.amplitude`),
          h('div', { class: 'row' }, this.#number(`${base}.amplitude.maxMa`), this.#number(`${base}.amplitude.rampMaPerS`)),
          this.#text(`${base}.amplitude.titration`, 'Titration rule', { optional: true, hint: 'How to titrate, e.g. "strong but comfortable".' }),
          this.#text(`${base}.notes`, 'Notes', { optional: true, multiline: true }),
        ),
        h('div', { class: 'phase-side' }, h('h4', {}, 'At the maximum amplitude'), preview.el, figures),
      ),
      h('button', { type: 'button', class: 'secondary danger-text', onclick: () => this.#set(base, undefined, true) }, `Remove phase ${i + 1}`),
    );
  }

  #source(i: number): HTMLElement {
    const base = `sources[${i}]`;
    const key = getAt(this.#draft, `${base}.key`);
    const legendId = `src-legend-${i}`;
    return h(
      'fieldset',
      { class: 'item', 'aria-labelledby': legendId },
      h('legend', { id: legendId }, `Source ${i + 1}${typeof key === 'string' && key ? `: ${key}` : ''}`),
      this.#group(base),
      h('div', { class: 'row' }, this.#text(`${base}.key`, 'Key'), this.#text(`${base}.doi`, 'DOI', { optional: true }), this.#text(`${base}.registry`, 'Trial registry id', { optional: true }), this.#text(`${base}.pmcid`, 'PubMed Central id', { optional: true })),
      this.#text(`${base}.citation`, 'Citation', { multiline: true }),
      h('div', { class: 'row' }, this.#lines(`${base}.verified`, 'Fields you checked', 'Against this source. Shown as your claim, never with the built-in library’s verified mark.'), this.#lines(`${base}.unverified`, 'Unverified fields', 'Defaults the clinician confirms: not from this source.')),
      this.#text(`${base}.note`, 'Note', { optional: true, multiline: true }),
      h('button', { type: 'button', class: 'secondary danger-text', onclick: () => this.#set(base, undefined, true) }, `Remove source ${i + 1}`),
    );
  }

  #addChannel(): void {
    const used = new Set(this.#list('channels').map((c) => (isRecord(c) ? c.channel : undefined)));
    let n = 1;
    while (used.has(n)) n++;
    const prev = this.#list('channels').at(-1);
    const region = isRecord(prev) ? prev.region : 'knee';
    this.#set(`channels[${this.#list('channels').length}]`, { channel: n, region, side: isRecord(prev) ? prev.side : 'affected', sites: [nextSite(region, [])] }, true);
    this.#fields.get(`channels[${this.#list('channels').length - 1}].channel`)?.control.focus();
  }

  #addPhase(): void {
    const prev = this.#list('phases').at(-1);
    const phase = isRecord(prev)
      ? { ...structuredClone(prev), name: `phase ${this.#list('phases').length + 1}` }
      : { name: 'stimulation', durationMin: 20, waveform: 'biphasic-symmetric', frequencyHz: 2, pulseWidthUs: 250, amplitude: { maxMa: 10, rampMaPerS: 0.5 } };
    this.#set(`phases[${this.#list('phases').length}]`, phase, true);
    this.#fields.get(`phases[${this.#list('phases').length - 1}].name`)?.control.focus();
  }

  #addSource(): void {
    this.#set(`sources[${this.#list('sources').length}]`, { key: '', citation: '', verified: [], unverified: [] }, true);
    this.#fields.get(`sources[${this.#list('sources').length - 1}].key`)?.control.focus();
  }

  #updatePreviews(): void {
    for (const [i, preview] of this.#previews) {
      const base = `phases[${i}]`;
      const wf = getAt(this.#draft, `${base}.waveform`);
      const pw = getAt(this.#draft, `${base}.pulseWidthUs`);
      const amp = getAt(this.#draft, `${base}.amplitude.maxMa`);
      preview.update(typeof wf === 'string' ? wf : 'biphasic-symmetric', typeof pw === 'number' ? pw : undefined, typeof amp === 'number' ? amp : undefined);
    }
  }

  #renderFigures(): void {
    const sets = this.#validation?.figures ?? [];
    for (const [i, box] of this.#figureBoxes) {
      const set = sets.find((f) => f.phaseIndex === i);
      if (!set) {
        replaceChildren(box, h('p', { class: 'hint' }, 'The charge figures appear when this phase’s values are complete and within range.'));
        continue;
      }
      replaceChildren(
        box,
        h('p', { class: 'figures-at' }, `Computed at ${withUnitText(set.atMa, 'mA')}:`),
        h(
          'table',
          { class: 'figures-table' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Figure'), h('th', { scope: 'col', class: 'num' }, 'Value'), h('th', { scope: 'col' }, 'Against its limit'))),
          h('tbody', {}, set.figures.map((f) => figureRow(f))),
        ),
      );
    }
  }

  // ---- actions ------------------------------------------------------------------------------------

  /** Save the draft; true when saved. */
  async #save(): Promise<boolean> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const r = await this.#ctx.api.saveProtocol({ file: structuredClone(this.#draft) });
    if (!r.ok) {
      this.#ctx.notify('error', `Not saved: ${r.error.message}`);
      this.#validateNow();
      const firstBad = this.#form.querySelector<HTMLElement>('[aria-invalid="true"]');
      firstBad?.focus();
      return false;
    }
    this.#savedId = r.data.id;
    this.#dirty = false;
    this.#baseline = JSON.stringify(this.#draft);
    this.#ctx.notify('info', `Saved “${typeof this.#draft.name === 'string' ? this.#draft.name : r.data.id}” as ${r.data.id}.`);
    this.#syncTitle();
    this.#validateNow();
    setText(this.#origin, `Your protocol ${r.data.id} (version ${r.data.hash.slice(0, 12)})`);
    this.#onSaved(r.data.id);
    return true;
  }

  #export(): void {
    downloadText(exportFileName(this.#draft), protocolText(this.#draft), 'application/json');
  }

  #use(): void {
    if (this.#savedId === undefined) return;
    this.#ctx.sessionProtocolId = this.#savedId;
    this.#ctx.navigate('session');
  }

  #close(): void {
    if (!this.#isOpen) return;
    this.#isOpen = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#seq++;
    for (const p of this.#previews.values()) p.destroy();
    this.#previews.clear();
    this.#onClose();
  }
}

const STATUS_TEXT: Record<Figure['status'], string> = { info: '', ok: 'Within limit', warning: 'Warning', blocked: 'Over the limit' };

function figureRow(f: Figure): HTMLElement {
  const icon = f.status === 'ok' ? svgIcon('check') : f.status === 'warning' ? svgIcon('warning') : f.status === 'blocked' ? svgIcon('cross') : null;
  const decimals = f.key === 'shannonK' ? 2 : 3;
  const unit = unitText(f.unit);
  const label = f.label.charAt(0).toUpperCase() + f.label.slice(1);
  return h(
    'tr',
    { class: `fig fig-${f.status}` },
    h('th', { scope: 'row' }, label),
    h('td', { class: 'num' }, withUnitText(f.value, f.unit, decimals)),
    h(
      'td',
      { class: 'status' },
      f.limit
        ? [icon, h('span', { class: 'status-word' }, STATUS_TEXT[f.status]), h('span', { class: 'limit' }, ` (${f.limit}${unit ? ` ${unit}` : ''})`)]
        : h('span', { class: 'muted' }, 'information'),
    ),
  );
}
