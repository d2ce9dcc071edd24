/**
 * The outcome questions of a session that belongs to a course (issue 14), for the Session screen:
 *
 * - before stimulation (screening cleared, electrodes being checked, no output yet): the patient's
 *   pain now, NPRS 0-10, recorded with `courseSession`, which also makes the session the next one
 *   of the course; the Start stays blocked until it is recorded;
 * - after the session ended (output off): the pain after, NPRS 0-10, and whether there was any
 *   adverse effect, each with its severity ("other" says what), recorded with `courseOutcomes`;
 *   at a milestone session also the Global Rating of Change (-7..+7) and the Patient-Specific
 *   Functional Scale (1-5 activities in the patient's words, each rated 0-10), with
 *   `courseMilestone` (either may be left out when it was not asked), and the scores of the licensed
 *   instruments (WOMAC, KOOS, ...) the clinician obtained on their own forms: each instrument by
 *   name and version, each score with its range, never the items' text; those made for the region
 *   the course treats first (`courseInstruments` says which fit).
 *
 * Nothing is answered by default: each question needs an explicit choice.
 */
import { ADVERSE_EFFECTS, type AdverseEffectInput, type CallOutput, type ContractError } from '../../../src/app/contract.js';
import type { AppContext, SessionCourse } from '../context.js';
import { h, replaceChildren, setFlag, svgIcon, uid } from '../dom.js';
import { radioGroup, stepper, textField } from '../components/fields.js';
import { num } from '../../../src/domain/format.js';
import { licensedScoreProblem, stepDecimals } from './patients-model.js';

type Joined = CallOutput<'courseSession'> & { readonly courseId: string; readonly sessionId: string; readonly nprsBefore: number };
type LicensedInstrument = CallOutput<'courseInstruments'>[number];
type LicensedInput = { instrumentId: string; version: string; scores: Record<string, number> };

const NPRS_OPTIONS = Array.from({ length: 11 }, (_, i) => ({ value: String(i) as `${number}`, text: String(i) }));
const NPRS_HINT = 'Numeric Pain Rating Scale: 0 is no pain, 10 the worst pain imaginable. Ask the patient; record their number.';

function nprsField(legend: string, onChange: (v: number) => void): ReturnType<typeof radioGroup<`${number}`>> {
  const field = radioGroup<`${number}`>({ legend, value: undefined, options: NPRS_OPTIONS, inline: true, onChange: (v) => onChange(Number(v)) });
  field.el.classList.add('nprs-scale');
  field.el.querySelector('legend')?.after(h('p', { class: 'hint' }, NPRS_HINT));
  return field;
}

function message(e: ContractError): string {
  const details = e.details?.map((d) => `${d.path}: ${d.message}`).join('; ');
  return details !== undefined && details !== '' ? details : e.message;
}

/** Before stimulation: NPRS now, joining the session to its course. */
export class CourseBeforeCard {
  readonly el: HTMLElement;
  readonly #ctx: AppContext;
  readonly #course: SessionCourse;
  readonly #onJoined: (j: Joined) => void;
  #nprs: number | undefined;
  #busy = false;

  constructor(ctx: AppContext, course: SessionCourse, onJoined: (j: Joined) => void) {
    this.#ctx = ctx;
    this.#course = course;
    this.#onJoined = onJoined;
    this.el = h('section', { class: 'card course-questions course-before', 'aria-labelledby': 'course-before-title' });
    this.#render();
  }

  #render(): void {
    const c = this.#course.course;
    const field = nprsField('Pain now, before stimulation (NPRS 0-10)', (v) => {
      this.#nprs = v;
      field.setMessages([]);
    });
    const record = h('button', { type: 'button', class: 'primary', 'data-session-control': true }, 'Record pain before');
    record.addEventListener('click', () => void this.#record(field, record));
    const last = c.sessions.filter((s) => s.nprsBefore !== null).at(-1);
    replaceChildren(
      this.el,
      h('h2', { id: 'course-before-title' }, `Session ${c.sessionsDone + 1} of ${c.plannedSessions}: course for ${c.patientRef}`),
      h('p', {}, `${c.protocol.name}. Ask the patient’s pain now, before any output; the start stays blocked until it is recorded.`),
      last ? h('p', { class: 'hint' }, `Last recorded before a session: ${last.nprsBefore}/10 (session ${last.number}).`) : null,
      field.el,
      h('div', { class: 'actions' }, record),
    );
  }

  async #record(field: ReturnType<typeof nprsField>, button: HTMLButtonElement): Promise<void> {
    if (this.#busy) return;
    const nprs = this.#nprs;
    if (nprs === undefined) {
      field.setMessages(['Choose the patient’s pain now, 0 to 10.']);
      return;
    }
    const sessionId = this.#ctx.snapshot?.sessionId;
    this.#busy = true;
    button.disabled = true;
    const r = await this.#ctx.api.courseSession({ courseId: this.#course.course.id, nprsBefore: nprs });
    this.#busy = false;
    button.disabled = false;
    if (!r.ok) {
      field.setMessages([`Not recorded: ${message(r.error)}`]);
      return;
    }
    const joined: Joined = { ...r.data, courseId: this.#course.course.id, sessionId: sessionId ?? '', nprsBefore: nprs };
    replaceChildren(
      this.el,
      h('h2', { id: 'course-before-title' }, `Session ${r.data.sessionNumber} of ${this.#course.course.plannedSessions}: course for ${this.#course.course.patientRef}`),
      h('p', { class: 'recorded', role: 'status' }, svgIcon('check'), h('span', {}, `Pain before recorded: ${nprs}/10.${r.data.milestone ? ' This session is a milestone of the course.' : ''}`)),
    );
    this.#onJoined(joined);
  }
}

/** After the session: NPRS after and adverse effects with severity. */
export class CourseAfterCard {
  readonly el: HTMLElement;
  readonly #ctx: AppContext;
  readonly #joined: Joined;
  readonly #onDone: () => void;
  #nprs: number | undefined;
  #any: 'yes' | 'no' | undefined;
  readonly #chosen = new Map<AdverseEffectInput['kind'], { severity: AdverseEffectInput['severity'] | undefined; text: string }>();
  #busy = false;
  /** Pain after and adverse effects are recorded (a failed milestone call is retried alone). */
  #outcomesDone = false;
  #groc: number | undefined;
  readonly #psfs = Array.from({ length: 5 }, () => ({ activity: '', rating: undefined as number | undefined }));

  constructor(ctx: AppContext, joined: Joined, onDone: () => void) {
    this.#ctx = ctx;
    this.#joined = joined;
    this.#onDone = onDone;
    this.el = h('section', { class: 'card course-questions course-after', 'aria-labelledby': 'course-after-title' });
    this.#render();
  }

  #render(): void {
    const nprs = nprsField('Pain now, after the session (NPRS 0-10)', (v) => {
      this.#nprs = v;
      nprs.setMessages([]);
    });
    const effects = h('div', { class: 'adverse-list', hidden: true });
    const any = radioGroup<'yes' | 'no'>({
      legend: 'Any adverse effect during or after the session?',
      value: undefined,
      inline: true,
      options: [
        { value: 'no', text: 'None' },
        { value: 'yes', text: 'Yes' },
      ],
      onChange: (v) => {
        this.#any = v;
        any.setMessages([]);
        setFlag(effects, 'hidden', v !== 'yes');
      },
    });
    const itemErrors = new Map<string, (m: readonly string[]) => void>();
    for (const kind of ADVERSE_EFFECTS.kinds) effects.append(this.#effectItem(kind, itemErrors, () => any.setMessages([])));
    const milestone = this.#joined.milestone ? this.#milestoneFields() : undefined;
    const record = h('button', { type: 'button', class: 'primary', 'data-session-control': true }, 'Record outcomes');
    record.addEventListener('click', () => void this.#record({ nprs, any, itemErrors, milestone }, record));
    replaceChildren(
      this.el,
      h('h2', { id: 'course-after-title' }, `After session ${this.#joined.sessionNumber}: outcomes`),
      h('p', {}, `Pain before this session: ${this.#joined.nprsBefore}/10. Record these before starting a new session.`),
      nprs.el,
      any.el,
      effects,
      milestone?.el,
      h('div', { class: 'actions' }, record),
    );
  }

  #effectItem(kind: AdverseEffectInput['kind'], errors: Map<string, (m: readonly string[]) => void>, changed: () => void): HTMLElement {
    const boxId = uid('ae');
    const box = h('input', { id: boxId, type: 'checkbox', value: kind });
    const severity = radioGroup<AdverseEffectInput['severity']>({
      legend: `Severity of ${ADVERSE_EFFECTS.text[kind]}`,
      value: undefined,
      inline: true,
      options: ADVERSE_EFFECTS.severities.map((s) => ({ value: s, text: s.charAt(0).toUpperCase() + s.slice(1) })),
      onChange: (v) => {
        const e = this.#chosen.get(kind);
        if (e) e.severity = v;
        severity.setMessages([]);
      },
    });
    const text = textField({
      label: kind === 'other' ? 'What happened' : `Details of ${ADVERSE_EFFECTS.text[kind]} (optional)`,
      value: '',
      maxLength: 500,
      onInput: (v) => {
        const e = this.#chosen.get(kind);
        if (e) e.text = v;
        text.setMessages([]);
      },
    });
    const details = h('div', { class: 'severity', hidden: true }, severity.el, text.el);
    errors.set(`${kind}.severity`, (m) => severity.setMessages(m));
    errors.set(`${kind}.text`, (m) => text.setMessages(m));
    box.addEventListener('change', () => {
      if (box.checked) this.#chosen.set(kind, { severity: undefined, text: '' });
      else this.#chosen.delete(kind);
      setFlag(details, 'hidden', !box.checked);
      changed();
    });
    return h('div', { class: 'adverse-item' }, h('label', { class: 'choice', for: boxId }, box, h('span', {}, capitalise(ADVERSE_EFFECTS.text[kind]))), details);
  }

  /** GROC and PSFS at a milestone session: nothing chosen by default; either may be left out. */
  #milestoneFields(): Milestone {
    const titleId = uid('milestone');
    const groc = radioGroup<`${number}`>({
      legend: 'Global Rating of Change (-7 to +7)',
      value: undefined,
      inline: true,
      options: Array.from({ length: 15 }, (_, i) => i - 7).map((v) => ({ value: String(v) as `${number}`, text: v > 0 ? `+${v}` : String(v) })),
      onChange: (v) => {
        this.#groc = Number(v);
        groc.setMessages([]);
      },
    });
    groc.el.classList.add('nprs-scale');
    groc.el
      .querySelector('legend')
      ?.after(h('p', { class: 'hint' }, '“Since the start of this course of treatment, how would you describe your condition now?” -7 a very great deal worse, 0 about the same, +7 a very great deal better.'));
    const rowErrors: ((m: readonly string[]) => void)[] = [];
    const rows = this.#psfs.map((row, i) => {
      const activity = textField({
        label: `Activity ${i + 1}`,
        value: '',
        maxLength: 80,
        onInput: (v) => {
          row.activity = v;
          activity.setMessages([]);
        },
      });
      const ratingId = uid('psfs');
      const rating = h('select', { id: ratingId }, h('option', { value: '' }, 'Not rated'), Array.from({ length: 11 }, (_, r) => h('option', { value: String(r) }, String(r))));
      rating.addEventListener('change', () => {
        row.rating = rating.value === '' ? undefined : Number(rating.value);
        activity.setMessages([]);
      });
      rowErrors.push((m) => activity.setMessages(m));
      return h('div', { class: 'row psfs-row' }, activity.el, h('div', { class: 'field' }, h('label', { for: ratingId }, `Rating of activity ${i + 1} (0-10)`), rating));
    });
    const licensed = new LicensedScores(this.#ctx, this.#joined.courseId);
    const psfsId = uid('psfs-title');
    const psfsMessages = h('div', { class: 'field-messages' });
    const el = h(
      'section',
      { class: 'course-milestone', 'aria-labelledby': titleId },
      h('h3', { id: titleId }, 'Milestone measures'),
      h('p', { class: 'hint' }, 'This session is a milestone of the course. Leave a measure out if it was not asked.'),
      groc.el,
      h(
        'fieldset',
        { class: 'field psfs', 'aria-labelledby': psfsId },
        h('legend', { id: psfsId }, 'Patient-Specific Functional Scale'),
        h('p', { class: 'hint' }, 'Up to five activities the patient has difficulty with, in their words (keep the same ones at each milestone), each rated 0 (unable) to 10 (as before the problem).'),
        rows,
        psfsMessages,
      ),
      licensed.el,
    );
    return {
      el,
      licensed,
      setGrocMessages: (m) => groc.setMessages(m),
      rowErrors,
      setPsfsMessages: (m) => replaceChildren(psfsMessages, m.map((t) => h('p', { class: 'field-error' }, svgIcon('cross'), h('span', {}, t)))),
    };
  }

  /** The milestone values to record, or the problems of the rows half filled in. */
  #milestoneInput(f: Milestone): MilestoneInput | undefined {
    let ok = true;
    const licensed = f.licensed.input();
    if (licensed === undefined) ok = false;
    const psfs: { activity: string; rating: number }[] = [];
    this.#psfs.forEach((row, i) => {
      const activity = row.activity.trim();
      if (activity === '' && row.rating === undefined) return;
      if (activity === '' || row.rating === undefined) {
        f.rowErrors[i]?.([activity === '' ? 'Name the activity, or set its rating back to “Not rated”.' : 'Rate this activity 0-10, or leave its name empty.']);
        ok = false;
        return;
      }
      psfs.push({ activity, rating: row.rating });
    });
    if (!ok) return undefined;
    return { ...(this.#groc !== undefined ? { groc: this.#groc } : {}), ...(psfs.length > 0 ? { psfs } : {}), ...(licensed !== undefined && licensed.length > 0 ? { licensed } : {}) };
  }

  async #record(
    f: { nprs: ReturnType<typeof nprsField>; any: ReturnType<typeof radioGroup<'yes' | 'no'>>; itemErrors: Map<string, (m: readonly string[]) => void>; milestone: Milestone | undefined },
    button: HTMLButtonElement,
  ): Promise<void> {
    if (this.#busy) return;
    const milestone = f.milestone ? this.#milestoneInput(f.milestone) : {};
    if (milestone === undefined) return;
    if (this.#outcomesDone) {
      await this.#recordMilestone(f.milestone, milestone, button);
      return;
    }
    let ok = true;
    if (this.#nprs === undefined) {
      f.nprs.setMessages(['Choose the patient’s pain now, 0 to 10.']);
      ok = false;
    }
    if (this.#any === undefined) {
      f.any.setMessages(['Say whether there was any adverse effect (None, or Yes and which).']);
      ok = false;
    }
    const effects: AdverseEffectInput[] = [];
    if (this.#any === 'yes') {
      if (this.#chosen.size === 0) {
        f.any.setMessages(['Tick each adverse effect there was, or choose None.']);
        ok = false;
      }
      for (const [kind, e] of this.#chosen) {
        const text = e.text.trim();
        if (e.severity === undefined) {
          f.itemErrors.get(`${kind}.severity`)?.(['Choose how severe it was.']);
          ok = false;
        }
        if (kind === 'other' && text === '') {
          f.itemErrors.get(`${kind}.text`)?.(['Say what happened.']);
          ok = false;
        }
        if (e.severity !== undefined) effects.push({ kind, severity: e.severity, ...(text !== '' ? { text } : {}) });
      }
    }
    if (!ok || this.#nprs === undefined) return;
    this.#busy = true;
    button.disabled = true;
    const r = await this.#ctx.api.courseOutcomes({ nprsAfter: this.#nprs, adverseEffects: effects });
    this.#busy = false;
    button.disabled = false;
    if (!r.ok) {
      f.any.setMessages([`Not recorded: ${message(r.error)}`]);
      return;
    }
    this.#outcomesDone = true;
    this.#said = `pain ${this.#joined.nprsBefore}/10 before, ${this.#nprs}/10 after; adverse effects: ${describeEffects(effects)}`;
    await this.#recordMilestone(f.milestone, milestone, button);
  }

  #said = '';

  async #recordMilestone(f: Milestone | undefined, input: MilestoneInput, button: HTMLButtonElement): Promise<void> {
    let measures = '';
    if (f && (input.groc !== undefined || input.psfs !== undefined || input.licensed !== undefined)) {
      this.#busy = true;
      button.disabled = true;
      const m = await this.#ctx.api.courseMilestone(input);
      this.#busy = false;
      button.disabled = false;
      if (!m.ok) {
        const again = 'Pain and adverse effects are recorded; the milestone measures are not';
        const onLicensed = m.error.details?.some((d) => d.path.startsWith('licensed')) ?? m.error.message.startsWith('licensed[');
        if (onLicensed) {
          f.licensed.showRefusal(m.error, `${again}. Correct the scores marked below and press Record outcomes again.`);
          return;
        }
        const onPsfs = m.error.details?.some((d) => d.path.startsWith('psfs')) ?? false;
        (onPsfs ? f.setPsfsMessages : f.setGrocMessages)([`${again}: ${message(m.error)}. Correct them and press Record outcomes again.`]);
        return;
      }
      measures = m.data.recorded
        .map((x) => (x.instrumentId === 'groc' ? `GROC ${signed(x.scores['score'])}` : x.instrumentId === 'psfs' ? `PSFS mean ${x.scores['mean'] ?? '—'}` : f.licensed.describe(x)))
        .join(', ');
    }
    replaceChildren(
      this.el,
      h('h2', { id: 'course-after-title' }, `After session ${this.#joined.sessionNumber}: outcomes`),
      h('p', { class: 'recorded', role: 'status' }, svgIcon('check'), h('span', {}, `Recorded: ${this.#said}${measures ? `; ${measures}` : ''}.`)),
    );
    this.#onDone();
  }
}

interface MilestoneInput {
  groc?: number;
  psfs?: { activity: string; rating: number }[];
  licensed?: LicensedInput[];
}

interface Milestone {
  readonly el: HTMLElement;
  readonly licensed: LicensedScores;
  readonly setGrocMessages: (m: readonly string[]) => void;
  readonly setPsfsMessages: (m: readonly string[]) => void;
  readonly rowErrors: readonly ((m: readonly string[]) => void)[];
}

/**
 * The scores of licensed (score-only) instruments at a milestone: the clinician scores the patient
 * on their own licensed form and enters the totals here. Each instrument is shown by name and
 * version, each score with its range and direction; the items' text is never shown (the
 * instrument files hold none). The instruments made for the region the course treats come
 * first, the others behind a disclosure. Empty fields record nothing; a value outside its range,
 * off its step or not a number is refused beside its field before anything is sent.
 */
class LicensedScores {
  readonly el: HTMLElement;
  readonly #messages = h('div', { class: 'field-messages', role: 'status' });
  readonly #body = h('div', { class: 'licensed-list' }, h('p', { class: 'hint' }, 'Loading the instruments…'));
  #instruments: LicensedInstrument[] = [];
  /** `${instrumentId}.${scoreId}` -> what is typed (undefined: empty; NaN: not a number). */
  readonly #values = new Map<string, number | undefined>();
  readonly #fields = new Map<string, ReturnType<typeof stepper>>();

  constructor(ctx: AppContext, courseId: string) {
    const titleId = uid('licensed');
    this.el = h(
      'section',
      { class: 'licensed-scores', 'aria-labelledby': titleId },
      h('h4', { id: titleId }, 'Scores from your own forms (licensed instruments)'),
      h('p', { class: 'hint' }, 'Score the patient on your own licensed form, then enter its scores here; the items’ text is not reproduced. Leave a score empty if it was not obtained.'),
      this.#messages,
      this.#body,
    );
    void this.#load(ctx, courseId);
  }

  async #load(ctx: AppContext, courseId: string): Promise<void> {
    const r = await ctx.api.courseInstruments({ courseId });
    if (!r.ok) {
      replaceChildren(this.#body, h('p', { class: 'field-warning' }, svgIcon('warning'), h('span', {}, `The licensed instruments could not be listed (${message(r.error)}); the other measures can still be recorded.`)));
      return;
    }
    this.#instruments = r.data;
    const fits = r.data.filter((i) => i.fits);
    const others = r.data.filter((i) => !i.fits);
    replaceChildren(
      this.#body,
      fits.length === 0 ? h('p', { class: 'hint' }, 'No instrument in the library is made for the region this course treats.') : fits.map((i) => this.#instrument(i)),
      others.length === 0
        ? null
        : h('details', { class: 'sources licensed-others' }, h('summary', {}, `Instruments for other regions (${others.length})`), others.map((i) => this.#instrument(i))),
    );
  }

  #instrument(i: LicensedInstrument): HTMLElement {
    const legendId = uid('instrument');
    return h(
      'fieldset',
      { class: 'field licensed-instrument', 'aria-labelledby': legendId, 'data-instrument': i.id },
      h('legend', { id: legendId }, `${i.name}, version ${i.version}`),
      h('p', { class: 'hint' }, i.description ?? (i.licence === 'licensed' ? 'Licensed: score it on your own licensed form.' : 'Scored on a form used elsewhere.')),
      h(
        'div',
        { class: 'row' },
        i.scores.map((sc) => {
          const key = `${i.id}.${sc.id}`;
          const field = stepper({
            label: `${sc.name} score of ${i.name}`,
            field: { label: sc.name, unit: sc.unit, min: sc.min, max: sc.max, step: sc.step, decimals: stepDecimals(sc.step) },
            value: undefined,
            hint: `${sc.direction === 'lower-is-better' ? 'Lower is better' : 'Higher is better'}${sc.mcid !== null ? `; MCID ${num(sc.mcid)} ${sc.unit}` : ''}.`,
            onInput: (v) => {
              this.#values.set(key, v);
              field.setMessages([]);
              replaceChildren(this.#messages);
            },
          });
          // The visible label is the score's name (the legend names the instrument); its accessible name says both.
          field.el.querySelector('label')?.replaceChildren(sc.name, h('span', { class: 'sr-only' }, ` score of ${i.name}`));
          this.#fields.set(key, field);
          return field.el;
        }),
      ),
    );
  }

  /** The scores typed, per instrument; undefined (with the problems beside their fields) when one is not valid. */
  input(): LicensedInput[] | undefined {
    let ok = true;
    const out: LicensedInput[] = [];
    for (const i of this.#instruments) {
      const scores: Record<string, number> = {};
      for (const sc of i.scores) {
        const key = `${i.id}.${sc.id}`;
        const v = this.#values.get(key);
        if (v === undefined) continue;
        const problem = licensedScoreProblem(v, sc);
        if (problem !== undefined) {
          this.#fields.get(key)?.setMessages([`${i.name} ${sc.name}: ${problem}`]);
          ok = false;
          continue;
        }
        scores[sc.id] = v;
      }
      if (Object.keys(scores).length > 0) out.push({ instrumentId: i.id, version: i.version, scores });
    }
    return ok ? out : undefined;
  }

  /** The core refused the scores: each problem beside its field where it names one, the rest above. */
  showRefusal(e: ContractError, lead: string): void {
    const sent = this.input() ?? [];
    const rest: string[] = [];
    for (const d of e.details ?? [{ path: '', message: e.message }]) {
      const m = /^licensed\[(\d+)\]\.scores\.(.+)$/.exec(d.path);
      const entry = m ? sent[Number(m[1])] : undefined;
      const field = entry && m ? this.#fields.get(`${entry.instrumentId}.${m[2] ?? ''}`) : undefined;
      if (field) field.setMessages([d.message]);
      else rest.push(d.message);
    }
    replaceChildren(this.#messages, [lead, ...rest].map((t) => h('p', { class: 'field-error' }, svgIcon('cross'), h('span', {}, t))));
  }

  /** "WOMAC Osteoarthritis Index (LK3.1 (Likert)): Total 40". */
  describe(x: { instrumentId: string; scores: Record<string, number> }): string {
    const i = this.#instruments.find((y) => y.id === x.instrumentId);
    const scores = Object.entries(x.scores).map(([id, v]) => `${i?.scores.find((s) => s.id === id)?.name ?? id} ${num(v)}`);
    return `${i ? `${i.name} (${i.version})` : x.instrumentId}: ${scores.join(', ')}`;
  }
}

function signed(v: number | undefined): string {
  return v === undefined ? '—' : v > 0 ? `+${v}` : String(v);
}

function describeEffects(effects: readonly AdverseEffectInput[]): string {
  return effects.length === 0 ? 'none' : effects.map((e) => `${e.kind === 'other' ? `other: ${e.text ?? ''}` : ADVERSE_EFFECTS.text[e.kind]} (${e.severity})`).join('; ');
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export type { Joined };
