import { describe, expect, it } from 'vitest';
import type { Warning } from '../../../src/domain/safety/violation.js';
import { HARD_LIMITS } from '../../../src/domain/safety/limits.js';
import { afterClear, channelsText, comparedNumbers, decideWarning, estopAlarm, estopSourceText, type ShownWarning } from '../../../src/session/alarms.js';

const rms = (value: number): Warning => ({
  limit: HARD_LIMITS.rmsDensityWarnMaPerCm2.key,
  field: 'amplitudeMa',
  value,
  threshold: HARD_LIMITS.rmsDensityWarnMaPerCm2.value,
  unit: 'mA/cm2',
  source: 'SRC',
  message: 'ignored',
});

describe('alarm rules (src/session/alarms.ts)', () => {
  it('names channels in words', () => {
    expect(channelsText([2, 1, 2])).toBe('channels 1 and 2');
    expect(channelsText([3])).toBe('channel 3');
    expect(channelsText([3, 1, 2])).toBe('channels 1, 2 and 3');
  });

  it('shows a compared value at the precision that makes the comparison true', () => {
    expect(comparedNumbers(2.004, 2, 'above')).toEqual({ value: '2.004', threshold: '2' });
    expect(comparedNumbers(2.04, 2, 'above')).toEqual({ value: '2.04', threshold: '2' });
    expect(comparedNumbers(3.16227, 3.1622, 'above')).toEqual({ value: '3.1623', threshold: '3.1622' });
    expect(comparedNumbers(1.99, 2, 'below')).toEqual({ value: '1.99', threshold: '2' });
  });

  it('a warning alarm names its channel and a value that is above the limit as shown', () => {
    const d = decideWarning([], rms(2.0041), 1);
    expect(d.kind).toBe('raise');
    if (d.kind !== 'raise') return;
    expect(d.alarm.cause).toBe('RMS current density 2.004 mA/cm² is above 2 mA/cm² on channel 1 [SRC]');
    expect(d.alarm.channels).toEqual([1]);
  });

  it('two channels over the same limit give one alarm naming both; the same channel updates the value', () => {
    const first = decideWarning([], rms(2.04), 1);
    if (first.kind !== 'raise') throw new Error('expected raise');
    const showing: ShownWarning[] = [{ id: 'A1', limit: rms(0).limit, byChannel: first.byChannel }];
    const second = decideWarning(showing, rms(2.1), 2);
    expect(second.kind).toBe('update');
    if (second.kind !== 'update') return;
    expect(second.id).toBe('A1');
    expect(second.firstOnChannel).toBe(true);
    expect(second.alarm.channels).toEqual([1, 2]);
    expect(second.alarm.cause).toBe('RMS current density is above 2 mA/cm² on channels 1 and 2 (2.04 mA/cm² on channel 1, 2.1 mA/cm² on channel 2) [SRC]');
    // The same channel at the same shown value: nothing new.
    const both: ShownWarning[] = [{ id: 'A1', limit: rms(0).limit, byChannel: second.byChannel }];
    expect(decideWarning(both, rms(2.1), 2).kind).toBe('same');
    // The value follows the condition.
    const later = decideWarning(both, rms(2.5), 1);
    expect(later.kind).toBe('update');
    if (later.kind === 'update') {
      expect(later.firstOnChannel).toBe(false);
      expect(later.alarm.cause).toContain('2.5 mA/cm² on channel 1');
    }
  });

  it('an e-stop names its source and is an alarm only when output was on', () => {
    expect(estopAlarm('keyboard', true)?.cause).toBe('Emergency stop by the Escape key: all output is off and latched');
    expect(estopAlarm('button', true)?.cause).toContain('the Emergency stop button');
    expect(estopAlarm('signal', true)?.priority).toBe('high');
    expect(estopAlarm('ui-unresponsive', true)?.cause).toContain('the screen not responding');
    expect(estopAlarm('keyboard', false)).toBeUndefined();
    expect(estopSourceText('device')).toBe('the device');
    expect(estopSourceText('odd')).toBe('"odd"');
  });

  it('after Clear stop the alarm no longer says latched or asks to clear', () => {
    const a = estopAlarm('keyboard', true)!;
    const c = afterClear(a);
    expect(`${c.cause} ${c.action}`).not.toMatch(/latched|clear the stop/i);
    expect(c.cause).toContain('the Escape key');
    const w = decideWarning([], rms(2.5), 1);
    if (w.kind === 'raise') expect(afterClear(w.alarm)).toEqual(w.alarm);
  });
});
