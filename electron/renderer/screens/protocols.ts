/**
 * Protocols: the library (built-in and your own, with their sources and which values each source
 * verifies), import and export of protocol files, duplicating a built-in to customise it, and the
 * editor.
 */
import type { AppContext, ProtocolSummary } from '../context.js';
import { h, replaceChildren, setFlag, svgIcon } from '../dom.js';
import { num } from '../../../src/domain/format.js';
import { cardWarningText, duplicateProtocol, exportFileName, parseImport, protocolText, sourcesSummary } from '../protocol-model.js';
import { downloadText } from '../components/download.js';
import { evidenceLines } from '../components/evidence.js';
import { ProtocolEditor } from './protocol-editor.js';

export class ProtocolsScreen {
  readonly el: HTMLElement;
  readonly #ctx: AppContext;
  readonly #library: HTMLElement;
  readonly #list = h('div', { class: 'protocol-list' });
  readonly #editor: ProtocolEditor;
  readonly #fileInput: HTMLInputElement;
  #editing = false;

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
    this.#editor = new ProtocolEditor(ctx, {
      onClose: () => this.#showLibrary(),
      onSaved: () => void ctx.refreshProtocols(),
    });
    this.#fileInput = h('input', { type: 'file', id: 'import-file', accept: '.json,application/json', class: 'file-input' });
    this.#fileInput.addEventListener('change', () => void this.#import());
    this.#library = h(
      'div',
      { class: 'library' },
      h(
        'div',
        { class: 'screen-head' },
        h('h1', { id: 'protocols-title' }, 'Protocols'),
        h('div', { class: 'actions' }, h('div', { class: 'file-pick' }, this.#fileInput, h('label', { class: 'button secondary file-label', for: 'import-file' }, 'Import protocol file'))),
      ),
      h('p', { class: 'hint' }, 'Built-in protocols cannot be changed: duplicate one to customise it. Values marked unverified are defaults you confirm, not figures from the source.'),
      this.#list,
    );
    this.el = h('section', { class: 'screen screen-protocols', 'aria-labelledby': 'protocols-title' }, this.#library, this.#editor.el);
    setFlag(this.#editor.el, 'hidden', true);
    ctx.protocolsChanged.on((list) => this.#renderList(list));
  }

  shown(): void {
    if (!this.#editing) void this.#ctx.refreshProtocols();
  }

  #showLibrary(): void {
    this.#editing = false;
    setFlag(this.#editor.el, 'hidden', true);
    setFlag(this.#library, 'hidden', false);
    void this.#ctx.refreshProtocols();
  }

  #showEditor(): void {
    this.#editing = true;
    setFlag(this.#library, 'hidden', true);
    setFlag(this.#editor.el, 'hidden', false);
  }

  #renderList(list: readonly ProtocolSummary[]): void {
    const sorted = [...list].sort((a, b) => Number(b.builtIn) - Number(a.builtIn) || a.name.localeCompare(b.name));
    replaceChildren(this.#list, sorted.length === 0 ? h('p', {}, 'No protocols found.') : sorted.map((p) => this.#card(p)));
  }

  #card(p: ProtocolSummary): HTMLElement {
    const titleId = `proto-${p.id}`;
    const warning = cardWarningText(p.warnings);
    const actions = [
      p.problem === undefined ? h('button', { type: 'button', class: 'primary', onclick: () => this.#use(p.id) }, 'Use for session') : null,
      p.builtIn
        ? h('button', { type: 'button', class: 'secondary', onclick: () => void this.#duplicate(p) }, 'Duplicate to customise')
        : h('button', { type: 'button', class: 'secondary', onclick: () => void this.#edit(p) }, 'Edit'),
      h('button', { type: 'button', class: 'secondary', onclick: () => void this.#export(p) }, 'Export file'),
    ];
    return h(
      'article',
      { class: `protocol-card${p.problem ? ' has-problem' : ''}`, 'aria-labelledby': titleId },
      h('div', { class: 'card-head' }, h('h2', { id: titleId }, p.name), h('span', { class: `badge ${p.builtIn ? 'badge-builtin' : 'badge-user'}` }, p.builtIn ? 'Built-in' : 'Your protocol')),
      h('p', {}, p.indication),
      h('p', { class: 'muted' }, `${num(p.totalMin, 2)} min · ${p.phases.join('; ')}`),
      p.problem ? h('p', { class: 'field-error' }, svgIcon('cross'), h('span', {}, `Cannot run: ${p.problem}`)) : null,
      // A warning mark in words beside its icon (never colour alone): what the editor warns about.
      warning === undefined ? null : h('p', { class: 'field-warning card-warning' }, svgIcon('warning'), h('span', {}, warning)),
      h(
        'details',
        { class: 'sources' },
        h('summary', {}, sourcesSummary(p)),
        p.sources.map((s) =>
          h(
            'div',
            { class: 'source' },
            h('p', {}, h('strong', {}, s.key), ` — ${s.citation}`),
            evidenceLines(p.evidence, s.key),
          ),
        ),
        // Stimulation values no source mentions (a protocol of your own): defaults you confirm too.
        evidenceLines(p.evidence, undefined).map((line) => h('div', { class: 'source' }, line)),
      ),
      h('div', { class: 'actions' }, actions),
    );
  }

  #use(id: string): void {
    this.#ctx.sessionProtocolId = id;
    this.#ctx.navigate('session');
  }

  async #load(id: string) {
    return this.#ctx.call('loadProtocol', { id }, 'Load protocol');
  }

  async #duplicate(p: ProtocolSummary): Promise<void> {
    const loaded = await this.#load(p.id);
    if (!loaded) return;
    const copy = duplicateProtocol(loaded.file, new Set(this.#ctx.protocols.map((x) => x.id)));
    this.#editor.open({ file: copy, origin: `Copy of the built-in “${p.name}”: not saved yet. Change it, then save it under its new id.` });
    this.#showEditor();
  }

  async #edit(p: ProtocolSummary): Promise<void> {
    const loaded = await this.#load(p.id);
    if (!loaded) return;
    this.#editor.open({ file: loaded.file, origin: `Your protocol ${p.id} (version ${p.hash.slice(0, 12)})`, savedId: p.id });
    this.#showEditor();
  }

  async #export(p: ProtocolSummary): Promise<void> {
    const loaded = await this.#load(p.id);
    if (loaded) downloadText(exportFileName(loaded.file), protocolText(loaded.file), 'application/json');
  }

  async #import(): Promise<void> {
    const file = this.#fileInput.files?.[0];
    this.#fileInput.value = '';
    if (!file) return;
    if (file.size > 1_000_000) {
      this.#ctx.notify('error', `${file.name} is too large for a protocol file (over 1 MB).`);
      return;
    }
    const parsed = parseImport(await file.text(), file.name);
    if (!parsed.ok) {
      this.#ctx.notify('error', parsed.message);
      return;
    }
    this.#editor.open({ file: parsed.file, origin: `Imported from ${file.name}: not saved yet. Check it, then save it.` });
    this.#showEditor();
  }
}
