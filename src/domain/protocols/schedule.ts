/**
 * A protocol's `schedule` (schema.ts, ScheduleSchema) as a course uses it: the planned number of
 * sessions and the days between them, and the schedule in words. The older free-text form has no
 * numbers: a course started from such a protocol is given them by the clinician.
 */
import type { ProtocolFile, ProtocolSchedule } from './schema.js';

export interface PlannedCourse {
  readonly sessions: number;
  readonly intervalDays: number;
  readonly weeks: number | null;
}

/** The planned numbers of a schedule, or undefined for none or the free-text form. */
export function plannedCourse(schedule: ProtocolFile['schedule']): PlannedCourse | undefined {
  if (schedule === undefined || typeof schedule === 'string') return undefined;
  return { sessions: schedule.sessions, intervalDays: schedule.intervalDays, weeks: schedule.weeks ?? null };
}

/** "10 sessions, every 4 days, over 6 weeks (1-2 sessions a week for 6 weeks, up to 10 sessions)" */
export function describeSchedule(schedule: string | ProtocolSchedule): string {
  if (typeof schedule === 'string') return schedule;
  const every = schedule.intervalDays === 1 ? 'daily' : schedule.intervalDays === 7 ? 'weekly' : `every ${schedule.intervalDays} days`;
  const over = schedule.weeks === undefined ? '' : `, over ${schedule.weeks} ${schedule.weeks === 1 ? 'week' : 'weeks'}`;
  const words = schedule.text === undefined ? '' : ` (${schedule.text})`;
  return `${schedule.sessions} ${schedule.sessions === 1 ? 'session' : 'sessions'}, ${every}${over}${words}`;
}
