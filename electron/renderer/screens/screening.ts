/**
 * Screening before a session: a pseudonymous patient reference and the questionnaire for the
 * chosen protocol. Absolute contraindications block with the reason; each relative one needs its
 * own explicit acknowledgement; unanswered questions block. Nothing is answered by default.
 */
import type { CallOutput } from '../../../src/app/contract.js';
import type { AppContext } from '../context.js';
import { h, replaceChildren, setFlag, svgIcon, uid } from '../dom.js';
import { type Finding, type ScreeningForm, SIDE_CHOICE_TEXT, answerAt, buildAnswers, findingsByPath, screeningGroups, screeningVerdict, unanswered } from '../screening-model.js';
import { type TreatedSide, sidedRegionText, treatedSideText } from '../../../src/domain/protocols/treated-side.js';
import { textField } from '../components/fields.js';

type Outcome = CallOutput<'submitScreening'>;

/**
 * A session of a course: the patient is the course's, and the last session's answers are shown
 * beside each question. They are never filled in: every question is asked again (issue 14).
 */
export interface ScreeningPrefill {
  readonly patientRef: string;
  readonly last: NonNullable<CallOutput<'coursePrefill'>['last']> | null;
}

export class ScreeningPanel {
  readonly el: HTMLElement;
  readonly #ctx: AppContext;
  readonly #protocolId: string;
  readonly #body = h('div', { class: 'screening-body' });
  readonly #result = h('div', { class: 'screening-result', tabindex: '-1' });
  readonly #acks = h('div', { class: 'acks' });
  readonly #submit: HTMLButtonElement;
  readonly #answers = new Map<string, boolean | null>();
  readonly #acknowledged = new Set<string>();
  readonly #slots = new Map<string, HTMLElement>();
  readonly #progress = h('p', { class: 'hint', role: 'status' });
  #form: ScreeningForm | undefined;
  #patientRef = '';
  #refField: ReturnType<typeof textField> | undefined;
  /** Who is screening (the settings' clinician): recorded with every acknowledgement. */
  #clinician = '';
  #savedClinician = '';
  #clinicianField: ReturnType<typeof textField> | undefined;
  #busy = false;
  readonly #prefill: ScreeningPrefill | undefined;
  /** The treated side chosen (never preset: a course's last side is only shown beside it). */
  #side: TreatedSide | undefined;
  /** The headings of the site groups, renamed when the side is chosen ("At the right knee"). */
  #groupHeadings: HTMLElement[] = [];

  constructor(ctx: AppContext, protocolId: string, protocolName: string, onBack: () => void, prefill?: ScreeningPrefill) {
    this.#ctx = ctx;
    this.#protocolId = protocolId;
    this.#prefill = prefill;
    if (prefill) this.#patientRef = prefill.patientRef;
    this.#submit = h('button', { type: 'button', class: 'primary big', 'data-session-control': true, onclick: () => void this.#send() }, 'Submit screening');
    this.el = h(
      'section',
      { class: 'card screening', 'aria-labelledby': 'screening-title' },
      h('div', { class: 'screen-head' }, h('h2', { id: 'screening-title' }, `Screening for ${protocolName}`), h('button', { type: 'button', class: 'secondary', onclick: onBack }, 'Change protocol')),
      h('p', { class: 'hint' }, 'Every question needs an answer; nothing is assumed. An absolute contraindication blocks the session; a relative one needs your explicit acknowledgement.'),
      prefill ? lastScreeningNote(prefill) : null,
      this.#body,
      this.#result,
      this.#acks,
      h('div', { class: 'actions sticky-actions' }, this.#progress, this.#submit),
    );
    void this.#load();
  }

  async #load(): Promise<void> {
    replaceChildren(this.#body, h('p', {}, 'Loading the questionnaire…'));
    const settings = await this.#ctx.api.getSettings({});
    if (settings.ok) this.#clinician = this.#savedClinician = settings.data.clinician;
    const form = await this.#ctx.call('screeningForm', { protocolId: this.#protocolId }, 'Screening form');
    if (!form) {
      replaceChildren(this.#body, h('p', { class: 'field-error' }, 'The questionnaire could not be loaded.'));
      return;
    }
    this.#form = form;
    this.#render();
  }

  #render(): void {
    const form = this.#form;
    if (!form) return;
    this.#slots.clear();
    this.#refField = textField({
      label: 'Patient reference (pseudonymous)',
      hint: 'A code such as PT-0042, in your clinic’s format (by default 1-4 capital letters, a dash and 1-6 digits). Never a name, e-mail, phone number or date of birth.',
      value: this.#patientRef,
      path: 'patientRef',
      maxLength: 32,
      onInput: (v) => {
        this.#patientRef = v;
      },
    });
    this.#slots.set('patientRef', this.#refField.el.querySelector('.field-messages') ?? this.#refField.el);
    this.#clinicianField = textField({
      label: 'Clinician (initials or staff id)',
      hint: 'Recorded with the session and with each acknowledgement.',
      value: this.#clinician,
      path: 'clinician',
      maxLength: 32,
      onInput: (v) => {
        this.#clinician = v;
      },
    });
    this.#slots.set('clinician', this.#clinicianField.el.querySelector('.field-messages') ?? this.#clinicianField.el);
    this.#groupHeadings = [];
    replaceChildren(
      this.#body,
      h('div', { class: 'row' }, this.#refField.el, this.#clinicianField.el),
      this.#sideChoice(form),
      screeningGroups(form, this.#side).map((g) => {
        const gid = uid('grp');
        const heading = h('h3', { id: gid }, g.title);
        this.#groupHeadings.push(heading);
        return h(
          'section',
          { class: 'question-group', 'aria-labelledby': gid },
          heading,
          g.items.map((item) => {
            const name = uid('q');
            const slot = h('div', { class: 'field-messages', id: uid('msg') });
            this.#slots.set(item.path, slot);
            const radio = (value: boolean, text: string) => {
              const input = h('input', { type: 'radio', name, value: String(value), 'data-path': item.path });
              input.checked = this.#answers.get(item.path) === value;
              input.addEventListener('change', () => {
                if (input.checked) this.#answer(item.path, value);
              });
              return h('label', { class: 'choice' }, input, h('span', {}, text));
            };
            return h(
              'fieldset',
              { class: `question severity-${item.question.severity}`, 'aria-describedby': slot.id, 'data-path': item.path },
              h('legend', {}, item.question.text),
              h('p', { class: 'question-meta' }, item.question.severity === 'absolute' ? 'Absolute contraindication if yes' : 'Relative contraindication if yes: needs acknowledgement', ` · ${item.question.source}`),
              h('div', { class: 'choices inline' }, radio(true, 'Yes'), radio(false, 'No')),
              this.#lastAnswer(item.path),
              slot,
            );
          }),
        );
      }),
    );
    this.#updateProgress();
  }

  /**
   * "Treated side": a required native radio group (Tab enters it, the arrows choose), for a
   * protocol with channels on the affected side; nothing is chosen until the clinician chooses.
   * A course's last side is shown beside it as a suggestion, never filled in.
   */
  #sideChoice(form: ScreeningForm): HTMLElement | null {
    if (form.sideChoices.length === 0) return null;
    const name = uid('side');
    const slot = h('div', { class: 'field-messages', id: uid('msg') });
    this.#slots.set('side', slot);
    const last = this.#prefill?.last?.side;
    const radios = form.sideChoices.map((side) => {
      const input = h('input', { type: 'radio', name, value: side, required: true, 'data-path': 'side' });
      input.checked = this.#side === side;
      input.addEventListener('change', () => {
        if (input.checked) this.#chooseSide(side);
      });
      return h('label', { class: 'choice' }, input, h('span', {}, SIDE_CHOICE_TEXT[side]));
    });
    return h(
      'fieldset',
      { class: 'side-choice', 'aria-describedby': slot.id, 'data-path': 'side' },
      h('legend', {}, 'Treated side'),
      h(
        'p',
        { class: 'hint' },
        form.sideChoices.includes('bilateral')
          ? 'Which side are the needles on? Bilateral puts the first half of the channels on the left and the second half on the right. Asked every session.'
          : 'Which side are the needles on? Asked every session; the electrode check, the cards and the record name it.',
      ),
      h('div', { class: 'choices inline' }, radios),
      last === undefined || last === null ? null : h('p', { class: 'hint last-answer' }, `Last session (${this.#prefill?.last?.sessionNumber ?? ''}): ${treatedSideText(last)} (a suggestion: choose again)`),
      slot,
    );
  }

  #chooseSide(side: TreatedSide): void {
    this.#side = side;
    this.#slots.get('side')?.replaceChildren();
    const form = this.#form;
    if (!form) return;
    screeningGroups(form, side).forEach((g, i) => {
      const heading = this.#groupHeadings[i];
      if (heading) heading.textContent = g.title;
    });
  }

  /** The last session's answer to this question, shown (not filled in). */
  #lastAnswer(path: string): HTMLElement | null {
    const last = this.#prefill?.last;
    if (!last) return null;
    const a = answerAt(last.screeningAnswers, path);
    return h('p', { class: 'hint last-answer' }, `Last session (${last.sessionNumber}): ${a === true ? 'Yes' : a === false ? 'No' : 'not asked'}`);
  }

  #answer(path: string, value: boolean): void {
    this.#answers.set(path, value);
    // A changed answer makes the previous result stale.
    this.#slots.get(path)?.replaceChildren();
    this.#updateProgress();
  }

  #updateProgress(): void {
    if (!this.#form) return;
    const open = unanswered(this.#form, this.#answers);
    this.#progress.textContent = open === 0 ? 'All questions answered.' : `${open} question${open === 1 ? '' : 's'} still unanswered.`;
  }

  async #send(): Promise<void> {
    const form = this.#form;
    if (!form || this.#busy) return;
    this.#busy = true;
    this.#submit.disabled = true;
    for (const slot of this.#slots.values()) slot.replaceChildren();
    const clinician = this.#clinician.trim();
    if (clinician !== this.#savedClinician) {
      const saved = await this.#ctx.api.setSettings({ clinician });
      if (!saved.ok) {
        this.#busy = false;
        this.#submit.disabled = false;
        this.#slots.get('clinician')?.append(h('p', { class: 'field-error' }, svgIcon('cross'), h('span', {}, saved.error.details?.map((d) => d.message).join('; ') || saved.error.message)));
        return;
      }
      this.#savedClinician = saved.data.clinician;
    }
    if (form.sideChoices.length > 0 && this.#side === undefined) {
      this.#busy = false;
      this.#submit.disabled = false;
      const message = `choose the treated side (${form.sideChoices.map((c) => SIDE_CHOICE_TEXT[c].toLowerCase()).join(', ')}) before the electrode check`;
      this.#slots.get('side')?.append(h('p', { class: 'field-error' }, svgIcon('cross'), h('span', {}, message)));
      this.#showError(message);
      return;
    }
    const answers = buildAnswers(form, this.#patientRef, this.#answers);
    const r = await this.#ctx.api.submitScreening({ protocolId: this.#protocolId, answers, acknowledgements: [...this.#acknowledged], ...(this.#side === undefined ? {} : { side: this.#side }) });
    this.#busy = false;
    this.#submit.disabled = false;
    if (!r.ok) {
      // Field problems (e.g. the patient reference) go beside their field.
      const details = r.error.details ?? [];
      for (const d of details) {
        const slot = this.#slots.get(d.path.replace(/^answers\.patientRef$/, 'patientRef'));
        slot?.append(h('p', { class: 'field-error' }, svgIcon('cross'), h('span', {}, d.message)));
      }
      this.#showError(r.error.message);
      return;
    }
    this.#showOutcome(r.data);
    // Cleared: the session moves on to the electrode step, and focus with it (after the result
    // took focus, which would cancel an intent made before).
    if (r.data.status === 'cleared') this.#ctx.focus.request({ kind: 'submit-screening' });
  }

  #showOutcome(outcome: Outcome): void {
    const byPath = findingsByPath(outcome.findings);
    for (const [path, findings] of byPath) {
      const slot = this.#slots.get(path);
      if (!slot) continue;
      slot.append(...findings.map((f) => findingLine(f)));
    }
    this.#showResult(outcome.status, screeningVerdict(outcome.status, outcome.findings), outcome.findings);
  }

  /** A refused submission: the reason in words; the acknowledgements already ticked stay as they are. */
  #showError(message: string): void {
    this.#result.className = 'screening-result result-blocked';
    this.#result.setAttribute('role', 'alert');
    replaceChildren(this.#result, h('div', { class: 'result-head' }, svgIcon('stop'), h('h3', {}, `Not submitted: ${message}`)));
    this.#result.focus();
  }

  #showResult(status: Outcome['status'], verdict: string, findings: readonly Finding[]): void {
    const listed = findings.filter((f) => f.kind === 'absolute' || f.kind === 'mismatch' || (f.kind === 'unanswered' && !this.#slots.has(f.path)));
    const openCount = findings.filter((f) => f.kind === 'unanswered').length;
    const relative = findings.filter((f) => f.kind === 'relative');
    const cls = status === 'cleared' ? 'ok' : status === 'needs-acknowledgement' ? 'attention' : 'blocked';
    this.#result.className = `screening-result result-${cls}`;
    this.#result.setAttribute('role', 'alert');
    replaceChildren(
      this.#result,
      h('div', { class: 'result-head' }, svgIcon(cls === 'ok' ? 'check' : cls === 'attention' ? 'warning' : 'stop'), h('h3', {}, verdict)),
      listed.length > 0 ? h('ul', {}, listed.map((f) => h('li', {}, f.message))) : null,
      openCount > 0 && listed.some((f) => f.kind === 'absolute') ? h('p', {}, `Also ${openCount} question${openCount === 1 ? '' : 's'} still need${openCount === 1 ? 's' : ''} an answer (marked below).`) : null,
    );
    // One checkbox per relative finding, each an explicit acknowledgement.
    setFlag(this.#acks, 'hidden', relative.length === 0);
    replaceChildren(
      this.#acks,
      relative.length === 0
        ? null
        : h(
            'fieldset',
            { class: 'ack-list' },
            h('legend', {}, 'Acknowledge each relative contraindication'),
            h('p', { class: 'hint' }, 'Tick each one you have considered and accept for this session; your acknowledgement is recorded with your name. Then submit again.'),
            relative.map((f) => {
              const box = h('input', { type: 'checkbox', value: f.id });
              box.checked = this.#acknowledged.has(f.id);
              box.addEventListener('change', () => {
                if (box.checked) this.#acknowledged.add(f.id);
                else this.#acknowledged.delete(f.id);
              });
              return h('label', { class: 'choice ack' }, box, h('span', {}, `I acknowledge: ${f.message}`));
            }),
          ),
    );
    this.#result.focus();
  }
}

function lastScreeningNote(p: ScreeningPrefill): HTMLElement {
  const last = p.last;
  if (!last) return h('p', { class: 'last-screening' }, `First session of this course for ${p.patientRef}: every question is asked.`);
  const sites = last.sites.map((s) => `channel ${s.channel}: ${sidedRegionText(s.region, s.side)} ${s.sites.join(', ')}`).join('; ');
  return h(
    'div',
    { class: 'last-screening' },
    h('p', {}, h('strong', {}, `Session ${last.sessionNumber} of this course was screened before. `), 'Its answers are shown beside each question: ask each one again and answer what the patient says today.'),
    h('p', { class: 'hint' }, `Sites last time: ${sites || '—'}.${last.acknowledged.length > 0 ? ` Acknowledged last time: ${last.acknowledged.join(', ')}.` : ''}`),
  );
}

function findingLine(f: Finding): HTMLElement {
  const icon = f.kind === 'absolute' ? 'stop' : f.kind === 'relative' ? 'warning' : 'info';
  const label = f.kind === 'absolute' ? 'Blocks the session: ' : f.kind === 'relative' ? 'Needs acknowledgement: ' : 'Needs an answer: ';
  return h('p', { class: `finding finding-${f.kind}` }, svgIcon(icon), h('span', {}, h('strong', {}, label), f.message));
}
