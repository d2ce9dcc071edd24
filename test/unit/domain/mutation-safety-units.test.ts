// The number words every limit, warning and alarm is said in (src/domain/units.ts), written against
// the surviving mutants of the safety-guard group (MUTATION.md): the unit constructors keep their
// number, formatNumber spells out what is not a finite number and trims only decimals, and
// comparedNumbers says "above"/"below" only of numbers shown so (H2 H3: a warning's words).
import { describe, expect, it } from 'vitest';
import { comparedNumbers, formatNumber, ma, maPerS, ms, s, withUnit } from '../../../src/domain/units.js';

describe('units.ts: constructors and formatNumber', () => {
  it('the unit constructors return the number they were given', () => {
    expect([ma(2.5), s(1200), ms(250), maPerS(0.5)]).toEqual([2.5, 1200, 250, 0.5]);
  });

  it('NaN and the infinities are spelled out, never hidden as a number', () => {
    expect(formatNumber(Number.NaN)).toBe('NaN');
    expect(formatNumber(Number.POSITIVE_INFINITY)).toBe('Infinity');
    expect(formatNumber(Number.NEGATIVE_INFINITY)).toBe('-Infinity');
  });

  it('only decimals are trimmed: whole numbers keep their zeros, -0 is 0', () => {
    expect(formatNumber(20)).toBe('20');
    expect(formatNumber(100, 0)).toBe('100');
    expect(formatNumber(2.5)).toBe('2.5');
    expect(formatNumber(2.0004)).toBe('2');
    expect(formatNumber(-0.0001)).toBe('0');
    expect(formatNumber(-0.25, 1)).toBe('-0.3');
    expect(withUnit(250, 'us')).toBe('250 µs');
    expect(withUnit(1.524, 'k', 2)).toBe('1.52');
  });
});

describe('units.ts: comparedNumbers (H2 H3)', () => {
  it('"below" is shown below at the fewest decimals that make it so', () => {
    expect(comparedNumbers(1.99961234, 2, 'below')).toEqual({ value: '1.9996', threshold: '2' });
    expect(comparedNumbers(1.5, 2, 'below', 0)).toEqual({ value: '1.5', threshold: '2' });
  });

  it('a comparison that is false is never made to look true: both numbers in full', () => {
    expect(comparedNumbers(1.99961234, 2, 'above')).toEqual({ value: '1.99961234', threshold: '2' });
    expect(comparedNumbers(2.00031234, 2, 'below')).toEqual({ value: '2.00031234', threshold: '2' });
    expect(comparedNumbers(2, 2, 'above')).toEqual({ value: '2', threshold: '2' });
    expect(comparedNumbers(Number.NaN, 2, 'above')).toEqual({ value: 'NaN', threshold: '2' });
  });

  it('it goes as far as toFixed is exact (20 decimals) before the full forms', () => {
    expect(comparedNumbers(1e-20, 0, 'above')).toEqual({ value: '0.00000000000000000001', threshold: '0' });
    expect(comparedNumbers(1e-21, 0, 'above')).toEqual({ value: '1e-21', threshold: '0' });
  });

  it('infinities compare as spelled out', () => {
    expect(comparedNumbers(Number.POSITIVE_INFINITY, 2, 'above')).toEqual({ value: 'Infinity', threshold: '2' });
    expect(comparedNumbers(2, Number.NEGATIVE_INFINITY, 'above')).toEqual({ value: '2', threshold: '-Infinity' });
  });
});
