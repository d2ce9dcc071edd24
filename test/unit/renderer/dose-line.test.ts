import { describe, expect, it } from 'vitest';
import { alarmViews, doseLine, refusalText, shownTargetMa } from '../../../electron/renderer/session-model.js';

const ch = (channel: number, targetMa: number, maxMa = 10) => ({ channel, targetMa, maxMa });

describe('H29 the Amplitude panel never shows a wrong target', () => {
  it('H29 targets that differ are both shown ("Targets 1.1 / 2.1 mA"), not the first channel\'s', () => {
    expect(doseLine([ch(1, 1.1), ch(2, 2.1)], undefined)).toBe('Targets 1.1 / 2.1 mA on channels 1 / 2 · maximum 10.0 mA');
    expect(doseLine([ch(1, 1), ch(2, 1)], undefined)).toBe('Target 1.0 mA on all channels · maximum 10.0 mA');
    expect(doseLine([ch(1, 1.1), ch(2, 2.1)], 2)).toBe('Target 2.1 mA on channel 2 · maximum 10.0 mA');
    expect(doseLine([ch(1, 1, 8), ch(2, 1, 10)], undefined)).toBe('Target 1.0 mA on all channels · maxima 8.0 / 10.0 mA');
    expect(doseLine([], undefined)).toBe('');
  });

  it('H29 a target is never shown above its channel\'s maximum', () => {
    expect(shownTargetMa(ch(2, 10.6))).toBe(10);
    expect(doseLine([ch(1, 5), ch(2, 10.6)], undefined)).toBe('Targets 5.0 / 10.0 mA on channels 1 / 2 · maximum 10.0 mA');
  });

  it('H29 a titration a channel cannot take says which channel and why, in words', () => {
    expect(refusalText([])).toBe('');
    expect(refusalText([{ channel: 2, reason: 'it is at its 10 mA maximum.' }, { channel: 1, reason: 'paused' }])).toBe('Channel 1 not changed: paused. Channel 2 not changed: it is at its 10 mA maximum.');
  });

  it('an alarm that names its channels is not prefixed with one of them', () => {
    const [v] = alarmViews([{ id: 'A1', priority: 'medium', cause: 'RMS current density is above 2 mA/cm² on channels 1 and 2 (2.1 mA/cm² on channel 1, 2.2 mA/cm² on channel 2) [SRC]', action: 'Watch', atMs: 0, channel: 1 }]);
    expect(v!.title).toMatch(/^RMS current density/);
  });
});
