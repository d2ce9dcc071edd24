/**
 * The alarm board on its own (virtual time, records captured): ordering, numbering, the record of
 * every raise / update / acknowledgement, warning de-duplication, and the rewrite after a clear.
 */
import { describe, expect, it } from 'vitest';
import type { Warning } from '../../../src/domain/safety/violation.js';
import { AlarmBoard, type AlarmBoardRecord } from '../../../src/session/alarm-board.js';
import { estopAlarm } from '../../../src/session/alarms.js';
import { ManualScheduler } from '../../support/virtual-time.js';

function board() {
  const s = new ManualScheduler();
  const records: AlarmBoardRecord[] = [];
  return { s, records, board: new AlarmBoard(() => s.now(), (r) => records.push(r)) };
}

const kWarning = (value: number): Warning => ({
  limit: 'shannonKWarn',
  field: 'amplitudeMa',
  value,
  threshold: 1.5,
  unit: '',
  source: 'Shannon 1992',
  message: `k ${value} is above 1.5`,
});

describe('AlarmBoard', () => {
  it('keeps the highest priority first and the oldest first within a priority, each stamped and recorded', () => {
    const { s, records, board: b } = board();
    s.advanceTo(100);
    b.raise('low', 'low one', 'a', undefined);
    s.advanceTo(200);
    b.raise('medium', 'medium one', 'b', 2);
    s.advanceTo(300);
    b.raise('high', 'high one', 'c', undefined);
    b.raise('medium', 'medium two', 'd', undefined);
    expect(b.alarms.map((a) => [a.id, a.cause, a.atMs])).toEqual([
      ['A3', 'high one', 300],
      ['A2', 'medium one', 200],
      ['A4', 'medium two', 300],
      ['A1', 'low one', 100],
    ]);
    expect(records.map((r) => r.type)).toEqual(['alarm', 'alarm', 'alarm', 'alarm']);
    expect(records[1]).toEqual({ type: 'alarm', data: { id: 'A2', priority: 'medium', cause: 'medium one', action: 'b', channel: 2 } });
    expect(records[0]!.data).not.toHaveProperty('channel');
  });

  it('an acknowledged alarm goes and the acknowledgement is recorded; an unknown id changes nothing', () => {
    const { records, board: b } = board();
    const id = b.raise('high', 'Channel 1 open circuit', 'check the clip', 1);
    expect(b.acknowledge('A99', 'PT')).toBe(false);
    expect(b.acknowledge(id, 'JD')).toBe(true);
    expect(b.alarms).toEqual([]);
    expect(b.acknowledge(id, 'JD')).toBe(false);
    expect(records.filter((r) => r.type === 'alarm-ack')).toEqual([{ type: 'alarm-ack', data: { alarmId: id, by: 'JD', cause: 'Channel 1 open circuit' } }]);
  });

  it('one alarm per limit across channels; each channel+limit recorded once; the same value again changes nothing', () => {
    const { records, board: b } = board();
    b.noteWarnings([kWarning(1.6)], 1);
    b.noteWarnings([kWarning(1.6)], 1);
    b.noteWarnings([kWarning(1.7)], 2);
    expect(b.alarms).toHaveLength(1);
    expect(b.alarms[0]!.cause).toMatch(/on channels 1 and 2/);
    expect(b.warnings).toHaveLength(1);
    expect(records.filter((r) => r.type === 'warning').map((r) => (r.data as { channel: number }).channel)).toEqual([1, 2]);
    // Raised once, then updated once when channel 2 joined.
    expect(records.filter((r) => r.type === 'alarm')).toHaveLength(2);
  });

  it('a limit whose alarm was acknowledged is not raised again for a channel already warned, but is for a new one', () => {
    const { board: b } = board();
    b.noteWarnings([kWarning(1.6)], 1);
    b.acknowledge(b.alarms[0]!.id, 'JD');
    b.noteWarnings([kWarning(1.9)], 1);
    expect(b.alarms).toEqual([]);
    b.noteWarnings([kWarning(1.8)], 2);
    expect(b.alarms.map((a) => a.cause)).toEqual([expect.stringMatching(/on channel 2/)]);
  });

  it('after the latch is cleared an e-stop alarm no longer says latched; other alarms are untouched; the clear is recorded', () => {
    const { board: b, records } = board();
    const e = estopAlarm('keyboard', true)!;
    b.raise(e.priority, e.cause, e.action, undefined, e);
    b.raise('medium', 'The device restarted', 'Check the device', undefined);
    b.latchCleared('JD');
    expect(records.filter((r) => r.type === 'stop-cleared')).toEqual([{ type: 'stop-cleared', data: { by: 'JD' } }]);
    expect(b.alarms[0]!.cause).toBe('Emergency stop by the Escape key: all output is off (the stop is cleared)');
    expect(b.alarms[1]!.cause).toBe('The device restarted');
    expect(b.alarms.map((a) => `${a.cause} ${a.action}`).join(' ')).not.toMatch(/latched|clear the stop/);
  });

  it('clearAll empties the board and the warnings, and numbering goes on', () => {
    const { board: b } = board();
    b.noteWarnings([kWarning(1.6)], 1);
    b.clearAll();
    expect([b.alarms, b.warnings]).toEqual([[], []]);
    expect(b.raise('low', 'x', 'y', undefined)).toBe('A2');
  });
});
