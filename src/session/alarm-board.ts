/**
 * The alarm board: the alarms showing in a session, and what happens to them (raise, update,
 * acknowledge, rewrite after a cleared stop). What an alarm says is decided by the pure rules in
 * alarms.ts; the board keeps the list (highest priority first, oldest first within a priority),
 * numbers the alarms, stamps their time and records every raise, update and acknowledgement,
 * and every cleared stop, through the `record` it is given (the session's journal).
 *
 * Warnings are de-duplicated per channel and limit: each channel+limit is recorded once, one alarm
 * per limit names every channel over it and shows the latest values, and a limit whose alarm was
 * acknowledged is not raised again for a channel already warned.
 */
import type { Warning } from '../domain/safety/violation.js';
import { type AlarmPriority, type AlarmText, type ShownWarning, afterClear, decideWarning } from './alarms.js';
import type { RecordDataInput } from './journal-records.js';
import type { Alarm } from './views.js';

/** The records the board writes. */
export type AlarmBoardRecord =
  | { readonly type: 'alarm'; readonly data: RecordDataInput<'alarm'> }
  | { readonly type: 'alarm-ack'; readonly data: RecordDataInput<'alarm-ack'> }
  | { readonly type: 'stop-cleared'; readonly data: RecordDataInput<'stop-cleared'> }
  | { readonly type: 'warning'; readonly data: RecordDataInput<'warning'> };

const RANK: Readonly<Record<AlarmPriority, number>> = { high: 0, medium: 1, low: 2 };

export class AlarmBoard {
  readonly #now: () => number;
  readonly #record: (r: AlarmBoardRecord) => void;
  #alarms: Alarm[] = [];
  #seq = 0;
  /** The rule behind each alarm showing (alarms.ts), by alarm id. */
  readonly #rules = new Map<string, AlarmText>();
  /** Warning alarms by limit (alarm id, latest value per channel). */
  readonly #warningAlarms = new Map<string, ShownWarning>();
  /** Each channel+limit already warned (and recorded). */
  readonly #warnedOn = new Set<string>();
  /** One warning per limit, for the snapshot. */
  #warnings: Warning[] = [];

  constructor(now: () => number, record: (r: AlarmBoardRecord) => void) {
    this.#now = now;
    this.#record = record;
  }

  /** Unacknowledged alarms, highest priority first. */
  get alarms(): readonly Alarm[] {
    return this.#alarms;
  }

  /** The warnings of this session, one per limit. */
  get warnings(): readonly Warning[] {
    return this.#warnings;
  }

  /** Raise an alarm (recorded); returns its id. */
  raise(priority: AlarmPriority, cause: string, action: string, channel: number | undefined, rule?: AlarmText): string {
    const alarm: Alarm = { id: `A${++this.#seq}`, priority, cause, action, atMs: this.#now(), ...(channel === undefined ? {} : { channel }) };
    this.#alarms = [...this.#alarms, alarm].sort((a, b) => RANK[a.priority] - RANK[b.priority]);
    if (rule) this.#rules.set(alarm.id, rule);
    this.#record({ type: 'alarm', data: { id: alarm.id, priority, cause, action, ...(channel === undefined ? {} : { channel }) } });
    return alarm.id;
  }

  /** The warnings a guard check gave on `channel`: recorded once per channel+limit, one alarm per limit. */
  noteWarnings(warnings: readonly Warning[], channel: number): void {
    for (const w of warnings) {
      const key = `${w.limit}@${channel}`;
      const seen = this.#warnedOn.has(key);
      const showing = [...this.#warningAlarms.values()].filter((x) => this.#alarms.some((a) => a.id === x.id));
      if (seen && !showing.some((x) => x.limit === w.limit)) continue;
      const d = decideWarning(showing, w, channel);
      if (d.kind === 'same') continue;
      if (!seen) {
        this.#warnedOn.add(key);
        if (!this.#warnings.some((x) => x.limit === w.limit)) this.#warnings.push(w);
        this.#record({ type: 'warning', data: { channel, limit: w.limit, message: w.message, value: w.value, allowed: w.threshold } });
      }
      if (d.kind === 'raise') {
        const id = this.raise(d.alarm.priority, d.alarm.cause, d.alarm.action, channel, d.alarm);
        this.#warningAlarms.set(w.limit, { id, limit: w.limit, byChannel: d.byChannel });
        continue;
      }
      const first = d.alarm.channels[0];
      this.#alarms = this.#alarms.map((a) => (a.id === d.id ? { ...a, cause: d.alarm.cause, ...(first === undefined ? {} : { channel: first }) } : a));
      this.#rules.set(d.id, d.alarm);
      this.#warningAlarms.set(w.limit, { id: d.id, limit: w.limit, byChannel: d.byChannel });
      // A channel joining the alarm is recorded; a value moving within it is in the measurements.
      if (d.firstOnChannel) this.#record({ type: 'alarm', data: { id: d.id, priority: d.alarm.priority, cause: d.alarm.cause, action: d.alarm.action, channel } });
    }
  }

  /** Acknowledge a showing alarm (recorded); false when no such alarm is showing. */
  acknowledge(id: string, by: string): boolean {
    const alarm = this.#alarms.find((a) => a.id === id);
    if (!alarm) return false;
    this.#alarms = this.#alarms.filter((a) => a !== alarm);
    this.#record({ type: 'alarm-ack', data: { alarmId: id, by, cause: alarm.cause } });
    return true;
  }

  /**
   * The latch was cleared by `by` (recorded, like an acknowledgement): a showing e-stop alarm
   * stops saying "latched" (alarms.ts `afterClear`).
   */
  latchCleared(by: string): void {
    this.#record({ type: 'stop-cleared', data: { by } });
    this.#alarms = this.#alarms.map((a) => {
      const rule = this.#rules.get(a.id);
      if (!rule) return a;
      const next = afterClear(rule);
      this.#rules.set(a.id, next);
      return { ...a, cause: next.cause, action: next.action };
    });
  }

  /** A new session's warnings start afresh (showing alarms stay until acknowledged). */
  resetWarnings(): void {
    this.#warnings = [];
    this.#warningAlarms.clear();
    this.#warnedOn.clear();
  }

  /** Everything goes: a new session after the clinician has seen the last one's end. */
  clearAll(): void {
    this.resetWarnings();
    this.#alarms = [];
    this.#rules.clear();
  }
}
