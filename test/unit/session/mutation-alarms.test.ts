// The alarm rules' every word, written against the surviving mutants of src/session/alarms.ts
// (MUTATION.md, session group): the e-stop's source named for each source the host knows (H7 H27),
// the cleared stop's words, a warning alarm's name, unit, channels, action and rule (H2 H3), the
// de-duplication per limit, and a device FAULT's words per code and channel (H13).
import { describe, expect, it } from 'vitest';
import { HARD_LIMITS } from '../../../src/domain/safety/limits.js';
import type { Warning } from '../../../src/domain/safety/violation.js';
import { type AlarmText, type ShownWarning, afterClear, channelsText, decideWarning, estopAlarm, estopSourceText, faultAlarm, warningAlarm } from '../../../src/session/alarms.js';

const RMS = HARD_LIMITS.rmsDensityWarnMaPerCm2.key;
const K = HARD_LIMITS.shannonKWarn.key;

function warning(limit: string, value: number, threshold: number, unit: string): Warning {
  return { limit, field: 'amplitudeMa', value, threshold, unit, source: 'SRC', message: 'not shown on the alarm' };
}
const rms = (value: number): Warning => warning(RMS, value, 2, 'mA/cm²');
const k = (value: number): Warning => warning(K, value, 1.5, '');

describe('alarms.ts: channels and the e-stop (H7 H27)', () => {
  it('no channel is the whole device; channels are named ascending, each once', () => {
    expect(channelsText([])).toBe('all channels');
    expect(channelsText([4, 4])).toBe('channel 4');
    expect(channelsText([4, 2, 3, 1, 2])).toBe('channels 1, 2, 3 and 4');
  });

  it.each([
    ['button', 'the Emergency stop button'],
    ['keyboard', 'the Escape key'],
    ['signal', 'a stop signal to the program'],
    ['device', 'the device'],
    ['renderer-crash', 'the screen stopping (renderer crash)'],
    ['ui-unresponsive', 'the screen not responding'],
    ['window-close', 'the window closing'],
    ['connection-lost', 'the connection to the screen being lost'],
    ['shutdown', 'the application shutting down'],
    ['pedal', '"pedal"'],
  ])('the e-stop source %s is said as %s', (source, words) => {
    expect(estopSourceText(source)).toBe(words);
    expect(estopAlarm(source, true)?.cause).toBe(`Emergency stop by ${words}: all output is off and latched`);
  });

  it('an e-stop with output on is a high alarm for the whole device; with nothing on it is no alarm', () => {
    expect(estopAlarm('keyboard', true)).toStrictEqual({
      priority: 'high',
      cause: 'Emergency stop by the Escape key: all output is off and latched',
      action: 'Check the patient; clear the stop to start a new session',
      channels: [],
      rule: 'estop',
    });
    expect(estopAlarm('keyboard', false)).toBeUndefined();
  });

  it('a cleared stop no longer says latched or "clear the stop"; other alarms are left as they are', () => {
    const stop = estopAlarm('button', true)!;
    expect(afterClear(stop)).toStrictEqual({
      ...stop,
      cause: 'Emergency stop by the Emergency stop button: all output is off (the stop is cleared)',
      action: 'Check the patient before a new session',
    });
    const other: AlarmText = { priority: 'medium', cause: 'x: all output is off and latched', action: 'a', channels: [1], rule: 'warning:x' };
    expect(afterClear(other)).toBe(other);
    // only the sentence's own ending is rewritten, not the same words inside a longer text
    const inside: AlarmText = { ...stop, cause: 'Emergency stop by "x: all output is off and latched" (a source name)' };
    expect(afterClear(inside).cause).toBe(inside.cause);
  });
});

describe('alarms.ts: warning alarms (H2 H3)', () => {
  it('a unitless warning (Shannon k) has no space before a missing unit, and the whole text is exact', () => {
    expect(warningAlarm(k(1.52), new Map([[2, 1.52]]))).toStrictEqual({
      priority: 'medium',
      cause: 'Shannon k 1.52 is above 1.5 on channel 2 [SRC]',
      action: 'Watch the site; lower the amplitude if in doubt',
      channels: [2],
      rule: `warning:${K}`,
    });
  });

  it('an old record unit "mA/cm2" is shown as mA/cm²; an unknown limit is named by its key', () => {
    expect(warningAlarm(warning(RMS, 2.5, 2, 'mA/cm2'), new Map([[1, 2.5]])).cause).toBe('RMS current density 2.5 mA/cm² is above 2 mA/cm² on channel 1 [SRC]');
    expect(warningAlarm(warning('futureLimit', 7, 5, 'V'), new Map([[1, 7]])).cause).toBe('futureLimit 7 V is above 5 V on channel 1 [SRC]');
  });

  it('with no channel given it speaks of the warning itself on all channels', () => {
    const a = warningAlarm(rms(2.0041), new Map());
    expect(a.cause).toBe('RMS current density 2.004 mA/cm² is above 2 mA/cm² on all channels [SRC]');
    expect(a.channels).toEqual([]);
  });

  it('three channels are listed ascending with each one value, whatever order they came in', () => {
    const a = warningAlarm(rms(2.1), new Map([[3, 2.3], [1, 2.1], [2, 2.2]]));
    expect(a.channels).toEqual([1, 2, 3]);
    expect(a.cause).toBe('RMS current density is above 2 mA/cm² on channels 1, 2 and 3 (2.1 mA/cm² on channel 1, 2.2 mA/cm² on channel 2, 2.3 mA/cm² on channel 3) [SRC]');
  });

  it('a warning on another limit raises its own alarm, not an update of the one showing', () => {
    const showing: ShownWarning[] = [{ id: 'A1', limit: K, byChannel: new Map([[1, 1.52]]) }];
    const d = decideWarning(showing, rms(2.2), 1);
    expect(d).toStrictEqual({ kind: 'raise', alarm: warningAlarm(rms(2.2), new Map([[1, 2.2]])), byChannel: new Map([[1, 2.2]]), firstOnChannel: true });
  });

  it('a second channel on the showing limit is an update that is new for that channel; the same channel again is not', () => {
    const showing: ShownWarning[] = [{ id: 'A7', limit: RMS, byChannel: new Map([[1, 2.1]]) }];
    const d = decideWarning(showing, rms(2.3), 2);
    expect(d).toStrictEqual({ kind: 'update', id: 'A7', alarm: warningAlarm(rms(2.3), new Map([[1, 2.1], [2, 2.3]])), byChannel: new Map([[1, 2.1], [2, 2.3]]), firstOnChannel: true });
    const again = decideWarning(showing, rms(2.4), 1);
    expect(again).toMatchObject({ kind: 'update', id: 'A7', firstOnChannel: false });
    // a value that shows the same at two decimals (2.1001 is shown as 2.1) is no change
    expect(decideWarning(showing, rms(2.1001), 1)).toStrictEqual({ kind: 'same' });
  });
});

describe('alarms.ts: device FAULT words (H13)', () => {
  it.each([
    ['OPEN', 2, 'Channel 2 open circuit', 'check the clip on the needle, then clear'],
    ['COMPLIANCE', 3, 'Channel 3 reached the compliance voltage (the load is too high for the amplitude)', 'check needle contact and depth, then clear'],
    ['OVERCURRENT', 1, 'Device over-current: every output is off', 'remove the needles from the circuit and check the device'],
    ['INTERNAL', 4, 'Device internal fault: every output is off', 'stop using the device and report it'],
    ['BROWNOUT', 1, 'Device fault BROWNOUT', 'check the device'],
  ])('%s on channel %i', (code, ch, cause, action) => {
    expect(faultAlarm(code, ch)).toStrictEqual({ cause, action, channel: ch });
  });

  it('a fault on channel 0 is the whole device: no channel is named', () => {
    expect(faultAlarm('INTERNAL', 0)).toStrictEqual({ cause: 'Device internal fault: every output is off', action: 'stop using the device and report it' });
    expect(faultAlarm('BROWNOUT', 0)).toStrictEqual({ cause: 'Device fault BROWNOUT', action: 'check the device' });
    expect('channel' in faultAlarm('OVERCURRENT', 0)).toBe(false);
  });
});
