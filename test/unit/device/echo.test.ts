import { describe, expect, it } from 'vitest';
import { echoMismatch } from '../../../src/device/echo.js';

describe('H18 echoMismatch: what a reply must repeat of its request', () => {
  it('H18 accepts a faithful echo of every verb', () => {
    expect(echoMismatch('AMP', { ch: 2, amp: 4000 }, { ch: 2, amp: 4000 })).toBeUndefined();
    expect(echoMismatch('START', { ch: 1 }, { ch: 1 })).toBeUndefined();
    expect(echoMismatch('SET', { ch: 3, amp: 0 }, { ch: 3, crc: 'ABCD' })).toBeUndefined();
    expect(echoMismatch('STOP', {}, {})).toBeUndefined();
    expect(echoMismatch('STOP', { ch: 1 }, { ch: 1 })).toBeUndefined();
    expect(echoMismatch('IMP', { ch: 4 }, { ch: 4, z: 1500 })).toBeUndefined();
    expect(echoMismatch('ESTOP', {}, { latched: true })).toBeUndefined();
    expect(echoMismatch('CLEAR', {}, { latched: false })).toBeUndefined();
    expect(echoMismatch('HB', {}, {})).toBeUndefined();
  });

  it('H18 names the field, what was sent and what came back', () => {
    expect(echoMismatch('AMP', { ch: 2, amp: 4000 }, { ch: 2, amp: 20000 })).toEqual({ field: 'amp', sent: '4000', got: '20000' });
    expect(echoMismatch('AMP', { ch: 2, amp: 4000 }, { ch: 1, amp: 4000 })).toEqual({ field: 'ch', sent: '2', got: '1' });
    expect(echoMismatch('START', { ch: 1 }, { ch: 2 })).toEqual({ field: 'ch', sent: '1', got: '2' });
    expect(echoMismatch('SET', { ch: 1 }, { ch: 2, crc: 'ABCD' })).toEqual({ field: 'ch', sent: '1', got: '2' });
    expect(echoMismatch('STOP', {}, { ch: 3 })).toEqual({ field: 'ch', sent: '(none)', got: '3' });
    expect(echoMismatch('STOP', { ch: 3 }, {})).toEqual({ field: 'ch', sent: '3', got: '(none)' });
    expect(echoMismatch('IMP', { ch: 1 }, { ch: 2, z: 1 })).toEqual({ field: 'ch', sent: '1', got: '2' });
    expect(echoMismatch('ESTOP', {}, { latched: false })).toEqual({ field: 'latched', sent: '1 (expected)', got: '0' });
    expect(echoMismatch('CLEAR', {}, { latched: true })).toEqual({ field: 'latched', sent: '0 (expected)', got: '1' });
  });
});
