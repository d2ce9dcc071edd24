/**
 * The journaler: everything the session writes into its journal, and when.
 *
 * - It opens the journal of a new session (no journal, no session: a journal that cannot be
 *   opened, or whose first record cannot be written, refuses the session).
 * - Records are typed by kind (journal-records.ts) and a record our own code built wrongly never
 *   takes output control down with it: it is said (`onRecordError`) and the session continues.
 * - The journal stays open after the session's end record, so what still happens (a device fault
 *   or current after the stop, an alarm acknowledged, a stop cleared, a note) is recorded after
 *   it: nothing the device reports is lost. It is closed when the next session opens one, or on
 *   disconnect, newSession, cancel and dispose.
 * - A journal that fails holds its records (the backlog, journal.ts); its first failure is itself
 *   recorded into the backlog (when and why), the session is told while it is open
 *   (`onFailure`), and the held records are retried every JOURNAL_RETRY_MS from the session loop.
 * - The device's 10 Hz telemetry becomes 1 Hz summaries (TelemetrySummariser), written while the
 *   session is open and flushed at its end; the summariser also counts each channel's charge.
 * - The wire's commands and replies are recorded as they were sent (heartbeats and telemetry
 *   lines left out: events are recorded as what they mean, telemetry as summaries).
 */
import type { SchedulerLike, Subscription } from 'rxjs';
import { decodeDeviceLine } from '../../firmware-protocol/index.js';
import { type RecordDataInput, type RecordType, type TelSample, TelemetrySummariser } from './journal-records.js';
import type { RecorderFactory, SessionRecorder } from './recorder.js';

/** A journal that failed is retried this often, ms, so its held records reach the disk once space returns. */
export const JOURNAL_RETRY_MS = 1000;
/** Telemetry is summarised over windows this long, ms (1 Hz summaries of the device's 10 Hz TEL). */
export const TELEMETRY_SUMMARY_MS = 1000;

export interface JournalerOptions {
  readonly scheduler: SchedulerLike;
  /** Opens the journal of a new session. Without it nothing is recorded (tests only). */
  readonly factory: RecorderFactory | undefined;
  /** A record could not be appended (a bug in how it was built): said, and the session goes on. */
  readonly onRecordError: (message: string) => void;
  /** The journal failed while its session was open (`text` says how, for the abort's reason). */
  readonly onFailure: (text: string) => void;
}

/** Why a journal did not open: it could not be created, or its first record could not be written. */
export type OpenRefusal = { readonly kind: 'open' | 'write'; readonly message: string };

export class Journaler {
  readonly #scheduler: SchedulerLike;
  readonly #factory: RecorderFactory | undefined;
  readonly #onRecordError: (message: string) => void;
  readonly #onFailure: (text: string) => void;
  #recorder: SessionRecorder | undefined;
  #failureSub: Subscription | undefined;
  /** Between the session-start and session-end records. */
  #sessionOpen = false;
  #lastFlushTry = -Infinity;
  #summariser: TelemetrySummariser;

  constructor(options: JournalerOptions) {
    this.#scheduler = options.scheduler;
    this.#factory = options.factory;
    this.#onRecordError = options.onRecordError;
    this.#onFailure = options.onFailure;
    this.#summariser = new TelemetrySummariser(options.scheduler.now(), TELEMETRY_SUMMARY_MS);
  }

  /** A journal is open (during its session, or after its end record until it is closed). */
  get isOpen(): boolean {
    return this.#recorder !== undefined;
  }

  /** The journal open now (compare to tell whether the same one is still open after an await). */
  get current(): SessionRecorder | undefined {
    return this.#recorder;
  }

  /** Between the session-start and session-end records. */
  get sessionOpen(): boolean {
    return this.#sessionOpen;
  }

  /** Where the records go, for people. */
  get location(): string | undefined {
    return this.#recorder?.location;
  }

  /** The session is open and its journal cannot write (output must not go on unrecorded). */
  get failingSession(): boolean {
    return this.#sessionOpen && (this.#recorder?.failed ?? false);
  }

  /** Telemetry and charge start afresh (a new session's channels). */
  resetTelemetry(): void {
    this.#summariser = new TelemetrySummariser(this.#scheduler.now(), TELEMETRY_SUMMARY_MS);
  }

  /**
   * Open the journal of session `sessionId` (closing the last one) and write its start record.
   * Refused when the journal cannot be created or the start record cannot be written.
   */
  open(sessionId: string, start: RecordDataInput<'session-start'>): { readonly ok: true } | { readonly ok: false; readonly error: OpenRefusal } {
    this.close();
    try {
      this.#recorder = this.#factory?.(sessionId);
    } catch (e) {
      return { ok: false, error: { kind: 'open', message: `cannot open the session journal: ${e instanceof Error ? e.message : String(e)}` } };
    }
    this.resetTelemetry();
    this.record('session-start', start);
    const recorder = this.#recorder;
    if (recorder?.failed) {
      const why = recorder.failureText?.() ?? 'the write failed';
      this.close();
      return { ok: false, error: { kind: 'write', message: why } };
    }
    this.#sessionOpen = true;
    let told = false;
    this.#failureSub = recorder?.failures$.subscribe((f) => {
      // The failure itself goes into the held backlog, so the record says when and why.
      if (!told) {
        told = true;
        const failure = f as { operation?: unknown; code?: unknown; message?: unknown; pending?: unknown };
        this.record('journal-failure', {
          operation: typeof failure.operation === 'string' ? failure.operation : 'write',
          code: typeof failure.code === 'string' ? failure.code : 'UNKNOWN',
          message: (typeof failure.message === 'string' && failure.message.length > 0 ? failure.message : 'write failed').slice(0, 2000),
          pending: typeof failure.pending === 'number' ? failure.pending : 0,
        });
      }
      if (this.#sessionOpen) this.#onFailure(recorder.failureText?.() ?? 'write failed');
    });
    return { ok: true };
  }

  /** Append one record, when a journal is open. */
  record<K extends RecordType>(type: K, data: RecordDataInput<K>): void {
    if (!this.#recorder) return;
    try {
      this.#recorder.append(type, data);
    } catch (e) {
      // A record our own code built wrongly is a bug; it must not take output control down with it.
      this.#onRecordError(e instanceof Error ? e.message : String(e));
    }
  }

  /** Write the session's end record (after the last telemetry summary); the journal stays open. */
  end(data: RecordDataInput<'session-end'>): void {
    if (!this.#recorder || !this.#sessionOpen) return;
    this.#writeSummary(this.#summariser.flush(this.#scheduler.now()));
    this.record('session-end', data);
    this.#sessionOpen = false;
  }

  /** Close the journal (the caller ends an open session first). */
  close(): void {
    const recorder = this.#recorder;
    if (!recorder) return;
    this.#recorder = undefined;
    this.#sessionOpen = false;
    this.#failureSub?.unsubscribe();
    this.#failureSub = undefined;
    recorder.close();
  }

  /** One TEL sample; a summary that is due is written while the session is open. */
  telemetry(tel: TelSample): void {
    const due = this.#summariser.add(this.#scheduler.now(), tel);
    if (this.#sessionOpen) this.#writeSummary(due);
  }

  /** The channel was started (START): the device's charge count begins again. */
  started(channel: number): void {
    this.#summariser.restarted(channel);
  }

  /** Charge delivered on `channel` since the session's telemetry began, µC. */
  chargeUc(channel: number): number {
    return this.#summariser.chargeUc(channel);
  }

  /** From the session loop: the telemetry summary when due, and the retry of a failed journal. */
  tick(): void {
    const now = this.#scheduler.now();
    if (this.#sessionOpen) this.#writeSummary(this.#summariser.tick(now));
    // Records held by a failed journal are written as soon as the disk takes them again.
    if (this.#recorder?.failed && now - this.#lastFlushTry >= JOURNAL_RETRY_MS) {
      this.#lastFlushTry = now;
      this.#recorder.flush?.();
    }
  }

  /** A line the device client sent (`tx`) or received (`rx`). */
  traffic(dir: 'tx' | 'rx', line: string): void {
    if (!this.#recorder) return;
    if (dir === 'tx') {
      const m = /^(\d+) ([A-Z]+)/.exec(line);
      if (!m || m[2] === 'HB') return;
      this.record('command', { seq: Number(m[1]), verb: m[2] as RecordDataInput<'command'>['verb'], line });
      return;
    }
    if (!/^\d/.test(line)) return; // events are recorded as what they mean, telemetry as summaries
    const d = decodeDeviceLine(line);
    if (!d.ok || d.message.type === 'event') return;
    if (d.message.type === 'ok') {
      if (d.message.verb === 'HB') return;
      this.record('ack', { seq: d.message.seq, verb: d.message.verb, ok: true, line });
    } else {
      this.record('ack', { seq: d.message.seq, verb: null, ok: false, code: d.message.args.code, line });
    }
  }

  #writeSummary(summary: RecordDataInput<'telemetry'> | undefined): void {
    if (summary) this.record('telemetry', summary);
  }
}
