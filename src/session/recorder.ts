/**
 * What the runner needs from a journal. The JSON Lines journal (journal.ts) implements it; tests
 * may use an in-memory one.
 */
import type { Observable } from 'rxjs';
import type { RecordDataInput, RecordType } from './journal-records.js';

export interface SessionRecorder {
  /**
   * Append one record, its data typed by its kind (journal-records.ts). Safety-relevant records
   * are on disk (fsync) when this returns.
   */
  append<T extends RecordType>(type: T, data: RecordDataInput<T>): void;
  /** True once a write failed; the records it could not write are held, not lost. */
  readonly failed: boolean;
  /** Emits when a write fails. */
  readonly failures$: Observable<unknown>;
  /** The last failure in words ("disk full (ENOSPC) at 09:31:05"), when there was one. */
  failureText?(): string | undefined;
  /** Try to write the held records now; true when nothing is held any more. */
  flush?(): boolean;
  /** Where the records go, for people (a file path). */
  readonly location: string;
  close(): void;
}

export type RecorderFactory = (sessionId: string) => SessionRecorder;
