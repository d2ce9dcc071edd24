/**
 * The session's record from its start to its close, over the journaler (journaler.ts):
 * - `open` gives the session its id and writes the start record with everything known so far
 *   (the pseudonymous patient reference, the clinician when given, the protocol, the device and
 *   its limits, the cleared screening, the app version). No journal, no session: a journal that
 *   cannot be created, or whose first record cannot be written, refuses the session with the
 *   reason and what to do, and nothing starts;
 * - `end` writes the end record once (how it ended, the final state, the stimulation time in all
 *   and per phase, with the clock held first); the journal stays open after it, so what still
 *   happens is recorded in the session it belongs to;
 * - `close` ends a session still open ("closed without an end") and closes the journal;
 * - `note`, `control` and `course` write the clinician's notes, changes of control and the
 *   treatment course's records into the open journal, refused when none is open or the data is
 *   wrong (a note that identifies someone; a course record that does not fit its schema, named).
 * The runner's state is reached only through the context.
 */
import type { TreatedSide } from '../domain/protocols/treated-side.js';
import type { Protocol } from '../domain/protocols/derive.js';
import { notePrivacyProblem } from '../domain/privacy.js';
import type { ScreeningCleared } from '../domain/screening.js';
import type { DeviceClient } from '../device/client.js';
import type { SessionClock } from './clock.js';
import { DATA_SCHEMAS, type RecordDataInput, protocolRecord } from './journal-records.js';
import type { Journaler } from './journaler.js';
import { type SessionResult, done, invalid, journalUnavailable, refuse } from './results.js';
import type { SessionContext } from './session-context.js';
import type { EndReason } from './states.js';

export interface SessionPlan {
  readonly protocol: Protocol;
  /** Initials or staff id of the clinician running the session (optional). */
  readonly clinician?: string;
  /** The treated side of the protocol's "affected" channels (the service checks it: sideChoiceProblem). */
  readonly side?: TreatedSide;
}

/** The treatment course's record kinds a session's journal takes (src/course). */
export type CourseRecordType = 'course' | 'outcome' | 'adverse-effects';

export interface SessionRecordsContext extends Pick<SessionContext, 'state'> {
  readonly client: Pick<DeviceClient, 'info' | 'transportName'>;
  readonly clock: Pick<SessionClock, 'hold' | 'elapsedMs' | 'phaseStimulationMs'>;
  readonly journal: Pick<Journaler, 'open' | 'end' | 'close' | 'record' | 'isOpen' | 'sessionOpen'>;
  /** A fresh session id. */
  readonly newSessionId: () => string;
  /** Recorded in every session's start record. */
  readonly appVersion: string;
}

export class SessionRecords {
  readonly #ctx: SessionRecordsContext;
  #sessionId: string | undefined;
  /** The protocol of the session whose journal is open (its phases are in the end record). */
  #protocol: Protocol | undefined;

  constructor(ctx: SessionRecordsContext) {
    this.#ctx = ctx;
  }

  /** The id of the last session opened. */
  get sessionId(): string | undefined {
    return this.#sessionId;
  }

  /** Open the session's journal (closing the last one) and write its start record; no journal, no session. */
  open(plan: SessionPlan, screening: ScreeningCleared): SessionResult {
    const { client, journal } = this.#ctx;
    const device = client.info;
    if (!device) return refuse('NotConnected', 'the device is not connected');
    this.close();
    this.#sessionId = this.#ctx.newSessionId();
    this.#protocol = plan.protocol;
    const opened = journal.open(this.#sessionId, {
      sessionId: this.#sessionId,
      patientRef: screening.patientRef,
      ...(plan.clinician === undefined ? {} : { clinician: plan.clinician }),
      protocol: protocolRecord(plan.protocol),
      ...(plan.side === undefined ? {} : { side: plan.side }),
      device: {
        transport: client.transportName,
        model: device.model,
        firmware: device.firmware,
        serial: device.serial,
        bootId: device.bootId,
        protocolVersion: device.protocolVersion,
        limits: device.limits,
      },
      // Only a cleared screening issues a ScreeningCleared, and journal-records.ts checks that a
      // cleared record fits the schema (`_screeningFits`); the domain's type is readonly and says
      // ScreeningRecord whatever its status, so it is converted here, and the journal validates it.
      screening: screening.record as unknown as RecordDataInput<'session-start'>['screening'],
      app: { version: this.#ctx.appVersion },
    });
    if (opened.ok) return done;
    if (opened.error.kind === 'open') return journalUnavailable(opened.error.message);
    // The very first record could not be written (a full disk, a read-only data directory): no
    // session starts; the clinician is told why and may try again once it is fixed.
    return journalUnavailable(`cannot write the session journal (${opened.error.message}): nothing was started; free space or fix the data directory, then submit the screening again`);
  }

  /** Write the session's end record, when its session is open: the clock is held first. */
  end(reason: EndReason, detail: string | undefined): void {
    const { clock, journal } = this.#ctx;
    if (!journal.isOpen || !journal.sessionOpen) return;
    clock.hold();
    const phases = this.#protocol?.phases ?? [];
    journal.end({
      reason,
      ...(detail === undefined ? {} : { detail }),
      finalState: this.#ctx.state(),
      stimulationS: clock.elapsedMs() / 1000,
      phases: phases.map((_, index) => ({ index, stimulationS: clock.phaseStimulationMs(index) / 1000 })),
    });
  }

  /** Close the journal of the last session, if one is open (records after its end included). */
  close(): void {
    if (this.#ctx.journal.sessionOpen) this.end('aborted', 'closed without an end');
    this.#ctx.journal.close();
  }

  /** A clinician's note (1-2000 characters, nothing identifying), journaled with the session time. */
  note(text: string): SessionResult {
    const trimmed = text.trim();
    if (trimmed.length === 0 || trimmed.length > 2000) return invalid('a note must be 1-2000 characters');
    const identifying = notePrivacyProblem(trimmed);
    if (identifying) return invalid(identifying);
    if (!this.#ctx.journal.isOpen) return refuse('NoSession', 'notes belong to a session: there is none open');
    this.#ctx.journal.record('note', { text: trimmed });
    return done;
  }

  /** Control of the session passed to another user interface (src/app/control.ts decides who). */
  control(change: RecordDataInput<'control'>): SessionResult {
    if (!this.#ctx.journal.isOpen) return refuse('NoSession', 'no session record is open');
    this.#ctx.journal.record('control', change);
    return done;
  }

  /** A record of the treatment course, checked against its schema first: a bad value is named and not written. */
  course<K extends CourseRecordType>(type: K, data: RecordDataInput<K>): SessionResult {
    if (!this.#ctx.journal.isOpen) return refuse('NoSession', 'no session record is open');
    const checked = DATA_SCHEMAS[type].safeParse(data);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      return invalid(`${type} record: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
    }
    this.#ctx.journal.record(type, data);
    return done;
  }
}
