/**
 * Patients: find or add a patient by their pseudonymous reference (never a name; the reference
 * rules are the core's, and a refused reference says why beside the field) or find them by a
 * clinic label; the patient's labels added and removed (a label that reads like a name, a date or
 * a contact detail is refused beside the field, with the reason); the patient's courses,
 * a course started from a protocol with its planned sessions and interval taken from the
 * protocol's schedule, a course closed (stopped needs a reason), and per course its timeline: each
 * session with its date, protocol, pain (NPRS) before and after, amplitude and charge per channel,
 * adverse effects, the milestone measures (GROC, PSFS, licensed totals such as WOMAC's), stops and alarms, with charts of pain and amplitude over the sessions.
 *
 * The course can be printed (window.print: patients.css hides everything but the course for
 * print), its report saved (the core's self-contained HTML, printable on A4 and Letter) and
 * exported as FHIR R4 (JSON) and CSV, as `edn course-report` writes them.
 * "Start session" opens the Session screen with the course's protocol and its last screening
 * answers shown; the answers are asked again (screens/session.ts).
 */
import './patients.css';
import type { CallOutput, ContractError } from '../../../src/app/contract.js';
import type { AppContext } from '../context.js';
import { h, replaceChildren, setFlag, svgIcon, uid } from '../dom.js';
import { dateTime, num } from '../../../src/domain/format.js';
import { getAt } from '../protocol-model.js';
import { radioGroup, selectField, stepper, textField } from '../components/fields.js';
import { downloadText } from '../components/download.js';
import { CourseChart, channelColour } from './patients-chart.js';
import { type Course, type TimelineRow, amplitudeColumns, courseProgress, exportFileName, nprsColumns, reportSessions, statusText, timeline } from './patients-model.js';

type Patient = CallOutput<'listPatients'>[number];

const REF_HINT = 'A code such as PT-0042, in your clinic’s format (by default 1-4 capital letters, a dash and 1-6 digits). Never a name, e-mail, phone number or date of birth. Find patient also finds patients by a clinic label.';
const LABEL_HINT = 'A tag your clinic groups patients by, such as “knee” or “trial-A”: 1-32 letters, digits, spaces, “_” or “-”. Never a name, a date or a contact detail.';
/** Planned sessions and the days between them: the store's bounds (src/course/store.ts PLAN_LIMITS, enforced there). */
const SESSIONS_FIELD = { label: 'Planned sessions', unit: 'sessions', min: 1, max: 999, step: 1, decimals: 0 } as const;
const INTERVAL_FIELD = { label: 'Interval between sessions', unit: 'days', min: 1, max: 365, step: 1, decimals: 0 } as const;

export class PatientsScreen {
  readonly el: HTMLElement;
  readonly #ctx: AppContext;
  readonly #findBox = h('section', { class: 'card patients-find', 'aria-labelledby': 'patients-find-title' });
  readonly #results = h('div', { class: 'patient-results' });
  readonly #patientBox = h('section', { class: 'card patient-view', 'aria-labelledby': 'patient-title', hidden: true, tabindex: '-1' });
  readonly #courseBox = h('section', { class: 'card course-view', 'aria-labelledby': 'course-title', hidden: true, tabindex: '-1' });
  #ref = '';
  #refField: ReturnType<typeof textField> | undefined;
  #patient: string | undefined;
  /** The open patient's clinic labels, as the store holds them. */
  #labels: string[] = [];
  /** What is typed in the add-a-label field (kept across re-renders). */
  #newLabel = '';
  #courses: Course[] = [];
  #courseId: string | undefined;
  #charts: CourseChart[] = [];
  /** The plan of the course being started, pre-filled from the chosen protocol's schedule. */
  #plan: { protocolId: string | undefined; sessions: number | undefined; intervalDays: number | undefined; startDate: string; scheduleText: string } = {
    protocolId: undefined,
    sessions: undefined,
    intervalDays: undefined,
    startDate: '',
    scheduleText: '',
  };

  constructor(ctx: AppContext) {
    this.#ctx = ctx;
    this.el = h(
      'section',
      { class: 'screen screen-patients', 'aria-labelledby': 'patients-title' },
      h('h1', { id: 'patients-title' }, 'Patients'),
      this.#findBox,
      this.#patientBox,
      this.#courseBox,
    );
    this.#renderFind();
    ctx.protocolsChanged.on(() => {
      if (this.#patient !== undefined) this.#renderPatient();
    });
    window.addEventListener('afterprint', () => document.body.classList.remove('print-course'));
  }

  shown(): void {
    if (this.#ctx.protocols.length === 0) void this.#ctx.refreshProtocols();
    void this.#find();
    // Back from a session of a course: show the course as it is now.
    if (this.#patient !== undefined) void this.#openPatient(this.#patient, this.#courseId);
  }

  // ---- find or add ---------------------------------------------------------------------------------

  #renderFind(): void {
    this.#refField = textField({
      label: 'Patient reference (pseudonymous)',
      hint: REF_HINT,
      value: this.#ref,
      path: 'ref',
      maxLength: 32,
      onInput: (v) => {
        this.#ref = v;
        this.#refField?.setMessages([]);
      },
    });
    this.#refField.control.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') void this.#find();
    });
    replaceChildren(
      this.#findBox,
      h('h2', { id: 'patients-find-title' }, 'Find or add a patient'),
      this.#refField.el,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => void this.#find() }, 'Find patient'),
        h('button', { type: 'button', class: 'primary', onclick: () => void this.#add() }, 'Add patient'),
      ),
      this.#results,
    );
  }

  async #find(): Promise<void> {
    const find = this.#ref.trim();
    const list = await this.#ctx.call('listPatients', find === '' ? {} : { find }, 'Find patient');
    if (!list) return;
    replaceChildren(
      this.#results,
      list.length === 0
        ? h('p', { role: 'status' }, find === '' ? 'No patients yet: add one by their reference.' : `No patient reference or label contains “${find}”. Add it as a new patient if it is a reference.`)
        : h(
            'ul',
            { class: 'patient-list', 'aria-label': find === '' ? 'Patients' : `Patients matching ${find}` },
            list.map((p) => h('li', {}, this.#patientButton(p))),
          ),
    );
  }

  #patientButton(p: Patient): HTMLButtonElement {
    return h(
      'button',
      { type: 'button', class: 'secondary patient-open', 'aria-current': p.ref === this.#patient ? 'true' : undefined, onclick: () => void this.#openPatient(p.ref) },
      h('strong', {}, p.ref),
      h('span', { class: 'muted' }, ` · ${p.courses} ${p.courses === 1 ? 'course' : 'courses'}${p.labels.length > 0 ? ` · ${p.labels.join(', ')}` : ''}`),
    );
  }

  async #add(): Promise<void> {
    const ref = this.#ref.trim();
    if (ref === '') {
      this.#refField?.setMessages(['Give the patient’s reference first.']);
      return;
    }
    const r = await this.#ctx.api.addPatient({ ref });
    if (!r.ok) {
      this.#refField?.setMessages([refMessage(r.error)]);
      return;
    }
    this.#ctx.notify('info', `Added patient ${r.data.ref}.`);
    await this.#find();
    await this.#openPatient(r.data.ref);
  }

  // ---- one patient ---------------------------------------------------------------------------------

  async #openPatient(ref: string, courseId?: string): Promise<void> {
    const courses = await this.#ctx.call('listCourses', { patientRef: ref }, `Courses of ${ref}`);
    if (!courses) return;
    const patients = await this.#ctx.call('listPatients', { find: ref }, `Patient ${ref}`);
    if (!patients) return;
    const changed = ref !== this.#patient;
    if (changed) this.#newLabel = '';
    this.#patient = ref;
    this.#labels = [...(patients.find((p) => p.ref === ref)?.labels ?? [])];
    this.#courses = [...courses].sort((a, b) => b.startDate.localeCompare(a.startDate) || b.id.localeCompare(a.id));
    for (const b of this.#results.querySelectorAll('button.patient-open')) {
      if (b.querySelector('strong')?.textContent === ref) b.setAttribute('aria-current', 'true');
      else b.removeAttribute('aria-current');
    }
    this.#renderPatient();
    if (courseId !== undefined && this.#courses.some((c) => c.id === courseId)) await this.#openCourse(courseId, false);
    else this.#closeCourseView();
    if (changed) this.#patientBox.focus();
  }

  #renderPatient(): void {
    const ref = this.#patient;
    if (ref === undefined) return;
    setFlag(this.#patientBox, 'hidden', false);
    replaceChildren(
      this.#patientBox,
      h('h2', { id: 'patient-title' }, `Patient ${ref}`),
      this.#labelsSection(ref),
      h('h3', {}, 'Courses'),
      this.#courses.length === 0
        ? h('p', {}, 'No course yet: start one below.')
        : h(
            'table',
            { class: 'courses' },
            h('caption', { class: 'sr-only' }, `Courses of ${ref}, newest first`),
            h('thead', {}, h('tr', {}, ['Protocol', 'Started', 'Status', 'Progress', ''].map((t) => h('th', { scope: 'col' }, t === '' ? h('span', { class: 'sr-only' }, 'Actions') : t)))),
            h(
              'tbody',
              {},
              this.#courses.map((c) =>
                h(
                  'tr',
                  { 'aria-current': c.id === this.#courseId ? 'true' : undefined },
                  h('td', {}, c.protocol.name),
                  h('td', {}, c.startDate),
                  h('td', {}, statusText(c)),
                  h('td', {}, courseProgress(c)),
                  h('td', {}, h('button', { type: 'button', class: 'secondary', 'aria-label': `Open course ${c.protocol.name} started ${c.startDate}`, onclick: () => void this.#openCourse(c.id, true) }, 'Open course')),
                ),
              ),
            ),
          ),
      this.#startCourseForm(ref),
    );
  }

  /** The patient's clinic labels: each removable, a new one checked by the core (never identifying). */
  #labelsSection(ref: string): HTMLElement {
    const titleId = uid('labels');
    const field = textField({
      label: 'New label',
      hint: LABEL_HINT,
      value: this.#newLabel,
      path: 'labels',
      maxLength: 32,
      onInput: (v) => {
        this.#newLabel = v;
        field.setMessages([]);
      },
    });
    const add = async (): Promise<void> => {
      const label = this.#newLabel.trim();
      if (label === '') {
        field.setMessages(['Type the label first.']);
        return;
      }
      if (this.#labels.includes(label)) {
        field.setMessages([`${ref} already has the label “${label}”.`]);
        return;
      }
      const refused = await this.#saveLabels(ref, [...this.#labels, label]);
      if (refused !== undefined) {
        field.setMessages([`Not added: ${refused}`]);
        return;
      }
      this.#newLabel = '';
      this.#renderPatient();
      this.#patientBox.querySelector<HTMLInputElement>('[data-path="labels"]')?.focus();
    };
    field.control.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') void add();
    });
    const messages = h('div', { class: 'field-messages', role: 'status' });
    const remove = async (label: string): Promise<void> => {
      const refused = await this.#saveLabels(ref, this.#labels.filter((l) => l !== label));
      if (refused !== undefined) {
        replaceChildren(messages, h('p', { class: 'field-error' }, svgIcon('cross'), h('span', {}, `Not removed: ${refused}`)));
        return;
      }
      this.#renderPatient();
      this.#patientBox.querySelector<HTMLElement>('[data-path="labels"]')?.focus();
    };
    return h(
      'section',
      { class: 'patient-labels', 'aria-labelledby': titleId },
      h('h3', { id: titleId }, 'Labels'),
      this.#labels.length === 0
        ? h('p', {}, 'No labels yet.')
        : h(
            'ul',
            { class: 'label-list', 'aria-label': `Labels of ${ref}` },
            this.#labels.map((l) =>
              h('li', {}, h('span', { class: 'label-chip' }, l), h('button', { type: 'button', class: 'secondary', 'aria-label': `Remove label ${l}`, onclick: () => void remove(l) }, 'Remove')),
            ),
          ),
      messages,
      h('div', { class: 'row label-add' }, field.el, h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => void add() }, 'Add label'))),
    );
  }

  /** Replace the patient's labels; the reason in words when the core refuses them. */
  async #saveLabels(ref: string, labels: string[]): Promise<string | undefined> {
    const r = await this.#ctx.api.setPatientLabels({ ref, labels });
    if (!r.ok) return refMessage(r.error);
    this.#labels = [...r.data.labels];
    this.#ctx.notify('info', `Labels of ${ref}: ${r.data.labels.length === 0 ? 'none' : r.data.labels.join(', ')}.`);
    await this.#find();
    return undefined;
  }

  #startCourseForm(ref: string): HTMLElement {
    const runnable = this.#ctx.protocols.filter((p) => p.problem === undefined);
    if (this.#plan.protocolId === undefined || !runnable.some((p) => p.id === this.#plan.protocolId)) {
      this.#plan.protocolId = runnable[0]?.id;
      if (this.#plan.protocolId !== undefined) void this.#loadSchedule(this.#plan.protocolId);
    }
    if (this.#plan.startDate === '') this.#plan.startDate = today();
    const formId = uid('start-course');
    const protocol = selectField({
      label: 'Protocol',
      value: this.#plan.protocolId,
      options: runnable.map((p) => ({ value: p.id, text: p.name })),
      onChange: (v) => {
        this.#plan.protocolId = v;
        void this.#loadSchedule(v);
      },
    });
    const sessions = stepper({ label: 'Planned sessions', field: SESSIONS_FIELD, value: this.#plan.sessions, onInput: (v) => (this.#plan.sessions = validWhole(v, SESSIONS_FIELD)) });
    const interval = stepper({ label: 'Interval between sessions', field: INTERVAL_FIELD, value: this.#plan.intervalDays, onInput: (v) => (this.#plan.intervalDays = validWhole(v, INTERVAL_FIELD)) });
    const dateId = uid('date');
    const date = h('input', { id: dateId, type: 'date', value: this.#plan.startDate, 'data-path': 'startDate' });
    date.addEventListener('change', () => (this.#plan.startDate = date.value));
    const messages = h('div', { class: 'field-messages', role: 'status' });
    return h(
      'section',
      { class: 'start-course', 'aria-labelledby': formId },
      h('h3', { id: formId }, 'Start a course'),
      runnable.length === 0 ? h('p', {}, 'No protocol can run: open the Protocols screen.') : null,
      protocol.el,
      h('p', { class: 'hint schedule-hint' }, this.#plan.scheduleText),
      h('div', { class: 'row' }, sessions.el, interval.el, h('div', { class: 'field' }, h('label', { for: dateId }, 'Start date'), date)),
      messages,
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', disabled: runnable.length === 0, onclick: () => void this.#startCourse(ref, messages) }, 'Start course')),
    );
  }

  /** Pre-fill planned sessions and interval from the protocol's schedule (the clinician may change them). */
  async #loadSchedule(protocolId: string): Promise<void> {
    const r = await this.#ctx.api.loadProtocol({ id: protocolId });
    if (!r.ok || this.#plan.protocolId !== protocolId) return;
    const sessions = getAt(r.data.file, 'schedule.sessions');
    const interval = getAt(r.data.file, 'schedule.intervalDays');
    const words = getAt(r.data.file, 'schedule.text') ?? getAt(r.data.file, 'schedule');
    const structured = typeof sessions === 'number' && typeof interval === 'number';
    this.#plan.sessions = structured ? sessions : undefined;
    this.#plan.intervalDays = structured ? interval : undefined;
    this.#plan.scheduleText = structured
      ? `From the protocol’s schedule: ${num(sessions, 0)} sessions, every ${num(interval, 0)} days${typeof words === 'string' ? ` (“${words}”)` : ''}. Change them if this patient’s plan differs.`
      : `This protocol has no planned schedule${typeof words === 'string' ? ` in numbers (it says “${words}”)` : ''}: give the planned sessions and the interval.`;
    this.#renderPatient();
  }

  async #startCourse(ref: string, messages: HTMLElement): Promise<void> {
    const { protocolId, sessions, intervalDays, startDate } = this.#plan;
    if (protocolId === undefined) return;
    if (sessions === undefined || intervalDays === undefined) {
      replaceChildren(messages, h('p', { class: 'field-error' }, svgIcon('cross'), h('span', {}, 'Give the planned sessions (1-999) and the interval between them (1-365 days) as whole numbers.')));
      return;
    }
    const r = await this.#ctx.api.startCourse({ patientRef: ref, protocolId, plannedSessions: sessions, intervalDays, ...(startDate !== '' ? { startDate } : {}) });
    if (!r.ok) {
      replaceChildren(messages, h('p', { class: 'field-error' }, svgIcon('cross'), h('span', {}, `Course not started: ${detailText(r.error)}`)));
      return;
    }
    this.#ctx.notify('info', `Started a course of ${r.data.plannedSessions} sessions of ${r.data.protocol.name} for ${ref}.`);
    await this.#openPatient(ref, r.data.id);
  }

  // ---- one course ----------------------------------------------------------------------------------

  #closeCourseView(): void {
    for (const c of this.#charts) c.destroy();
    this.#charts = [];
    this.#courseId = undefined;
    this.#courseBox.replaceChildren();
    setFlag(this.#courseBox, 'hidden', true);
  }

  async #openCourse(courseId: string, focus: boolean): Promise<void> {
    const course = this.#courses.find((c) => c.id === courseId);
    if (!course) return;
    this.#courseId = courseId;
    for (const row of this.#patientBox.querySelectorAll('tbody tr')) row.removeAttribute('aria-current');
    // The report adds amplitude, charge and stops from the journals; the rows stand without it.
    const report = course.sessions.length === 0 ? undefined : await this.#ctx.api.courseReport({ courseId, format: 'json' });
    if (this.#courseId !== courseId) return;
    const rows = timeline(course, report?.ok ? reportSessions(report.data.content) : undefined);
    const notices = report?.ok ? report.data.notices : report ? [`The course report could not be built (${report.error.message}): amplitude, charge and stops are not shown.`] : [];
    this.#renderCourse(course, rows, notices);
    if (focus) {
      this.#courseBox.focus();
      this.#courseBox.scrollIntoView({ block: 'start' });
    }
  }

  #renderCourse(c: Course, rows: readonly TimelineRow[], notices: readonly string[]): void {
    for (const chart of this.#charts) chart.destroy();
    this.#charts = [];
    const open = c.status === 'planned' || c.status === 'active';
    const next = c.sessionsDone + 1;
    // Past the plan a course may still go on (the store numbers extra sessions on), but the
    // clinician is told the plan is done and the button says the session is an extra one.
    const planDone = open && c.sessionsDone >= c.plannedSessions;
    setFlag(this.#courseBox, 'hidden', false);
    const pain = new CourseChart({ caption: 'Pain over the course: NPRS 0-10 before (solid) and after (dashed) each session', yLabel: 'NPRS (0-10)', yRange: [0, 10], decimals: 0 });
    const { channels, columns } = amplitudeColumns(rows);
    const amplitude = new CourseChart({ caption: 'Highest amplitude per session and channel, in mA', yLabel: 'Amplitude (mA)', decimals: 1 });
    this.#charts = [pain, amplitude];
    replaceChildren(
      this.#courseBox,
      h(
        'div',
        { class: 'screen-head' },
        h('h2', { id: 'course-title' }, `Course: ${c.protocol.name}`),
        h(
          'div',
          { class: 'actions course-actions' },
          open ? h('button', { type: 'button', class: planDone ? 'secondary' : 'primary', 'data-session-control': true, onclick: () => void this.#startSession(c) }, planDone ? `Start extra session ${next}` : `Start session ${next}`) : null,
          h('button', { type: 'button', class: 'secondary', onclick: () => this.#print() }, 'Print course'),
          h('button', { type: 'button', class: 'secondary', onclick: () => void this.#export(c, 'html') }, 'Export report (HTML)'),
          h('button', { type: 'button', class: 'secondary', onclick: () => void this.#export(c, 'fhir') }, 'Export FHIR'),
          h('button', { type: 'button', class: 'secondary', onclick: () => void this.#export(c, 'csv') }, 'Export CSV'),
        ),
      ),
      planDone ? h('p', { class: 'next-session' }, svgIcon('info'), h('span', {}, `All ${c.plannedSessions} planned sessions are done: close the course below, or start an extra session beyond the plan.`)) : null,
      notices.map((n) => h('p', { class: 'field-warning' }, svgIcon('warning'), h('span', {}, n))),
      h(
        'dl',
        { class: 'course-summary' },
        summary('Patient', c.patientRef),
        summary('Course', c.id),
        summary('Indication', c.indication),
        summary('Status', statusText(c)),
        summary('Sessions', `${c.sessionsDone} of ${c.plannedSessions} done, every ${c.intervalDays} ${c.intervalDays === 1 ? 'day' : 'days'}`),
        summary('Started', c.startDate),
        summary('Next due', open ? (c.nextDue ?? '—') : 'none (the course is closed)'),
      ),
      h('h3', {}, 'Timeline'),
      rows.length === 0 ? h('p', {}, 'No session yet.') : timelineTable(c, rows),
      rows.length === 0 ? null : h('div', { class: 'course-charts' }, pain.el, amplitude.el),
      open ? this.#closeForm(c) : null,
    );
    if (rows.length > 0) {
      pain.update(
        [
          { label: 'NPRS before', colour: '#0072B2', unit: '' },
          { label: 'NPRS after', colour: '#D55E00', dash: [8, 6], unit: '' },
        ],
        nprsColumns(rows),
      );
      amplitude.update(
        channels.map((ch) => ({ label: `Ch ${ch}`, colour: channelColour(ch), unit: ' mA' })),
        columns,
      );
    }
  }

  #closeForm(c: Course): HTMLElement {
    let status: 'completed' | 'stopped' | undefined;
    let reason = '';
    const titleId = uid('close');
    const statusField = radioGroup<'completed' | 'stopped'>({
      legend: 'How the course ends',
      value: undefined,
      inline: true,
      options: [
        { value: 'completed', text: 'Completed' },
        { value: 'stopped', text: 'Stopped early' },
      ],
      onChange: (v) => {
        status = v;
        statusField.setMessages([]);
      },
    });
    const reasonField = textField({
      label: 'Reason (required when stopped early)',
      value: '',
      path: 'reason',
      multiline: true,
      rows: 2,
      maxLength: 500,
      onInput: (v) => {
        reason = v;
        reasonField.setMessages([]);
      },
    });
    const submit = async (): Promise<void> => {
      if (status === undefined) {
        statusField.setMessages(['Choose whether the course was completed or stopped early.']);
        return;
      }
      const r = await this.#ctx.api.closeCourse({ courseId: c.id, status, ...(reason.trim() !== '' ? { reason: reason.trim() } : {}) });
      if (!r.ok) {
        const onReason = r.error.details?.some((d) => d.path === 'reason') ?? false;
        (onReason ? reasonField : statusField).setMessages([onReason ? 'Say why the course stopped: the reason is recorded with it.' : detailText(r.error)]);
        return;
      }
      this.#ctx.notify('info', `Course ${r.data.id} ${r.data.status === 'stopped' ? 'stopped' : 'completed'}.`);
      if (this.#patient !== undefined) await this.#openPatient(this.#patient, c.id);
    };
    return h(
      'section',
      { class: 'course-close', 'aria-labelledby': titleId },
      h('h3', { id: titleId }, 'Close the course'),
      statusField.el,
      reasonField.el,
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => void submit() }, 'Close course')),
    );
  }

  /** The next session of the course: its protocol, sites and last screening go to the Session screen. */
  async #startSession(c: Course): Promise<void> {
    const state = this.#ctx.snapshot?.state;
    if (state !== 'ready') {
      this.#ctx.notify('error', state === undefined || state === 'idle' || state === 'connecting' ? 'Start session: connect the stimulator (or the simulator) on the Device screen first.' : 'Start session: a session is already on the Session screen; finish it (or start a new one there) first.');
      return;
    }
    const prefill = await this.#ctx.call('coursePrefill', { courseId: c.id }, 'Start session');
    if (!prefill) return;
    this.#ctx.sessionCourse = prefill;
    this.#ctx.sessionProtocolId = prefill.course.protocol.id;
    this.#ctx.navigate('session');
  }

  #print(): void {
    // patients.css: under body.print-course only this course prints (summary, timeline, charts).
    document.body.classList.add('print-course');
    window.print();
  }

  /** The core's course report (self-contained HTML, printable on A4 and Letter) or an export. */
  async #export(c: Course, format: 'html' | 'fhir' | 'csv'): Promise<void> {
    const r = await this.#ctx.call('courseReport', { courseId: c.id, format }, format === 'html' ? 'Export report' : format === 'fhir' ? 'Export FHIR' : 'Export CSV');
    if (!r) return;
    downloadText(exportFileName(c.id, format), r.content, format === 'html' ? 'text/html' : format === 'fhir' ? 'application/fhir+json' : 'text/csv');
    if (r.notices.length > 0) this.#ctx.notify('error', `Exported, with a warning: ${r.notices.join(' ')}`);
  }
}

function timelineTable(c: Course, rows: readonly TimelineRow[]): HTMLElement {
  const dash = '—';
  const nprs = (v: number | null) => (v === null ? dash : `${v}/10`);
  return h(
    'div',
    { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Timeline (scrolls sideways when narrow)' },
    h(
      'table',
      { class: 'timeline' },
      h('caption', { class: 'sr-only' }, `Sessions of course ${c.id}, oldest first`),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Session', 'Date', 'Protocol', 'NPRS before', 'NPRS after', 'Amplitude (highest)', 'Charge delivered', 'Adverse effects', 'Milestone measures', 'Stops and alarms', 'Ended'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, String(r.number), r.milestone ? h('span', { class: 'milestone' }, ' (milestone)') : null),
            h('td', {}, r.date === null ? dash : dateTime(r.date)),
            h('td', {}, r.protocol),
            h('td', { class: 'num' }, nprs(r.nprsBefore)),
            h('td', { class: 'num' }, nprs(r.nprsAfter)),
            h('td', {}, r.channels === null || r.channels.length === 0 ? dash : r.channels.map((ch) => `ch${ch.channel} ${ch.maxMa === null ? dash : `${num(ch.maxMa, 1)} mA`}`).join(', ')),
            h('td', {}, r.channels === null || r.channels.length === 0 ? dash : r.channels.map((ch) => `ch${ch.channel} ${ch.chargeUc === null ? dash : `${num(ch.chargeUc, 0)} µC`}`).join(', ')),
            h('td', {}, r.adverse === null ? 'not asked' : r.adverse.length === 0 ? 'none' : r.adverse.join('; ')),
            h('td', { class: 'measures' }, r.measures.length === 0 ? dash : r.measures.join('; ')),
            h('td', {}, r.stops === null ? dash : r.stops.length === 0 ? 'none' : r.stops.join('; ')),
            h('td', { class: 'end-reason' }, r.ended),
          ),
        ),
      ),
    ),
  );
}

function summary(term: string, value: string): HTMLElement[] {
  return [h('dt', {}, term), h('dd', {}, value)];
}

/** A refused reference in words: the core's reason (PATIENT_REF_INVALID: ...) without its code. */
function refMessage(e: ContractError): string {
  return detailText(e).replace(/^[A-Z_]+: /, '');
}

function detailText(e: ContractError): string {
  const details = e.details?.map((d) => `${d.path}: ${d.message}`).join('; ');
  return details !== undefined && details !== '' ? details : e.message;
}

function validWhole(v: number | undefined, f: { min: number; max: number }): number | undefined {
  return v !== undefined && Number.isInteger(v) && v >= f.min && v <= f.max ? v : undefined;
}

function today(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
