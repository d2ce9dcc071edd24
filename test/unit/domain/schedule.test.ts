/**
 * The protocol's `schedule`: the planned course (sessions, interval, weeks, words), or the older
 * free-text form. Errors name the field, the value and the bound, like every protocol error.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSchedule, plannedCourse } from '../../../src/domain/protocols/schedule.js';
import { protocolJsonSchema } from '../../../src/domain/protocols/schema.js';
import { formatProtocolError, parseProtocolText, validateProtocol } from '../../../src/domain/protocols/validate.js';

const base = () => JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../fixtures/protocols/valid/base.json'), 'utf8')) as Record<string, unknown>;

function errors(schedule: unknown): string[] {
  const r = validateProtocol({ ...base(), schedule });
  return r.ok ? [] : r.errors.map(formatProtocolError);
}

describe('schedule', () => {
  it('reads the planned course and keeps the older text form (a protocol without planned numbers)', () => {
    const planned = validateProtocol({ ...base(), schedule: { sessions: 6, intervalDays: 7, weeks: 6, text: 'weekly' } });
    expect(planned.ok && plannedCourse(planned.protocol.schedule)).toEqual({ sessions: 6, intervalDays: 7, weeks: 6 });
    const text = validateProtocol({ ...base(), schedule: 'weekly' });
    expect(text.ok).toBe(true);
    expect(text.ok && plannedCourse(text.protocol.schedule)).toBeUndefined();
    const none = { ...base() };
    delete none['schedule'];
    const without = validateProtocol(none);
    expect(without.ok && plannedCourse(without.protocol.schedule)).toBeUndefined();
  });

  it.each([
    [{ sessions: 0, intervalDays: 7 }, 'schedule.sessions: 0 sessions: a course has at least 1'],
    [{ sessions: 6.5, intervalDays: 7 }, 'schedule.sessions: 6.5 is not a whole number of sessions'],
    [{ sessions: 60, intervalDays: 7 }, 'schedule.sessions: 60 sessions is above 52, the most a course in this format plans'],
    [{ sessions: 6, intervalDays: 0 }, 'schedule.intervalDays: 0 days: sessions are at least 1 day apart'],
    [{ sessions: 6, intervalDays: 120 }, 'schedule.intervalDays: 120 days is above 90, the longest interval this format plans'],
    [{ sessions: 6 }, 'schedule.intervalDays: required field is missing (a number)'],
    [{ sessions: 10, intervalDays: 7, weeks: 6 }, 'schedule.intervalDays: 10 sessions 7 days apart take 63 days, more than the 6 weeks (42 days) of the schedule'],
    [{ sessions: 6, intervalDays: 7, sesions: 6 }, 'schedule.sesions: unknown field "sesions" (did you mean "sessions"?); allowed here: sessions, intervalDays, weeks, text'],
    [42, 'schedule: expected a schedule: an object such as {"sessions": 6, "intervalDays": 7} (or, in the older form, text), got number 42'],
    ['', 'schedule: must not be empty'],
  ])('%j is refused: %s', (schedule, message) => {
    expect(errors(schedule)).toEqual([message]);
  });

  it('source paths may name the fields of a schedule, and only those that exist', () => {
    const file = base() as { sources: { verified: string[]; unverified: string[] }[] };
    file.sources[0]!.verified.push('schedule.sessions');
    file.sources[0]!.unverified.push('schedule.weeks');
    const r = validateProtocol({ ...file, schedule: { sessions: 6, intervalDays: 7 } });
    expect(r.ok ? [] : r.errors.map(formatProtocolError)).toEqual(['sources[0].unverified[' + String(file.sources[0]!.unverified.length - 1) + ']: "schedule.weeks" is not a field of this protocol (write paths like "phases[0].pulseWidthUs")']);
  });

  it('errors in a file carry the line of the field', () => {
    const text = JSON.stringify({ ...base(), schedule: { sessions: 6, intervalDays: 0 } }, null, 2);
    const r = parseProtocolText(text, 'p.json');
    expect(r.ok).toBe(false);
    const e = r.ok ? undefined : r.errors[0];
    expect(e?.path).toBe('schedule.intervalDays');
    expect(text.split('\n')[(e?.line ?? 0) - 1]).toContain('"intervalDays": 0');
  });

  it('is in the JSON Schema as either form', () => {
    const schema = protocolJsonSchema() as { properties: { schedule: { anyOf: { type?: string; properties?: Record<string, unknown> }[] } } };
    const forms = schema.properties.schedule.anyOf;
    expect(forms.map((f) => f.type)).toEqual(['string', 'object']);
    expect(Object.keys(forms[1]!.properties ?? {})).toEqual(['sessions', 'intervalDays', 'weeks', 'text']);
  });

  it('reads in words', () => {
    expect(describeSchedule({ sessions: 10, intervalDays: 4, weeks: 6, text: '1-2 a week' })).toBe('10 sessions, every 4 days, over 6 weeks (1-2 a week)');
    expect(describeSchedule({ sessions: 1, intervalDays: 7 })).toBe('1 session, weekly');
    expect(describeSchedule('weekly')).toBe('weekly');
  });
});
