// The limit tables themselves (src/domain/safety/limits.ts), against the safety-limits group's
// surviving mutants (MUTATION.md): the tables are frozen all the way down, so no code can raise a
// limit at run time (H1 H2 H3), and the output monitor's tolerance is offset plus gain (H18).
import { describe, expect, it } from 'vitest';
import { HARD_LIMITS, OUTPUT_MONITOR, deepFreeze, measuredToleranceMa } from '../../../src/domain/safety/limits.js';

describe('deepFreeze and the frozen limit tables (H1 H2 H3)', () => {
  it('HARD_LIMITS cannot be raised at run time: the table, each limit and its refs are frozen', () => {
    expect(Object.isFrozen(HARD_LIMITS)).toBe(true);
    for (const limit of Object.values(HARD_LIMITS)) {
      expect(Object.isFrozen(limit)).toBe(true);
      expect(Object.isFrozen(limit.refs)).toBe(true);
    }
    expect(() => {
      (HARD_LIMITS.amplitudeMaxMa as { value: number }).value = 25;
    }).toThrow(TypeError);
    expect(() => {
      (HARD_LIMITS.amplitudeMaxMa.refs as unknown as string[]).push('FORGED');
    }).toThrow(TypeError);
    expect(HARD_LIMITS.amplitudeMaxMa.value).toBe(20);
    expect(Object.isFrozen(OUTPUT_MONITOR.measuredToleranceMa)).toBe(true);
  });

  it('freezes a nested graph of objects and arrays, and returns the same object', () => {
    const graph = { a: { b: [1, { c: 2 }] }, d: [[3]] };
    expect(deepFreeze(graph)).toBe(graph);
    for (const part of [graph, graph.a, graph.a.b, graph.a.b[1], graph.d, graph.d[0]]) expect(Object.isFrozen(part)).toBe(true);
  });

  it('stops at what is already frozen, so a graph with a cycle is frozen and the call returns', () => {
    const cyclic: { name: string; self?: unknown; list: unknown[] } = { name: 'loop', list: [] };
    cyclic.self = cyclic;
    cyclic.list.push(cyclic);
    expect(deepFreeze(cyclic)).toBe(cyclic);
    expect(Object.isFrozen(cyclic) && Object.isFrozen(cyclic.list)).toBe(true);
  });

  it('returns numbers, strings, null and undefined as they are, and leaves functions unfrozen', () => {
    expect(deepFreeze(5)).toBe(5);
    expect(deepFreeze('text')).toBe('text');
    expect(deepFreeze(null)).toBeNull();
    expect(deepFreeze(undefined)).toBeUndefined();
    const f = () => 1;
    const holder = deepFreeze({ f });
    expect(Object.isFrozen(holder)).toBe(true);
    expect(Object.isFrozen(f)).toBe(false);
  });
});

describe('measuredToleranceMa: how far a measured current may read above its set point (H18)', () => {
  const offset = OUTPUT_MONITOR.measuredToleranceMa.value;
  const percent = OUTPUT_MONITOR.measuredTolerancePercent.value;

  it('is the offset alone at 0 mA, and offset plus the percentage of the set point above it', () => {
    expect([offset, percent]).toEqual([0.3, 5]); // SAFETY.md's figures; the safety-case test ties them to the document
    expect(measuredToleranceMa(0)).toBe(0.3);
    expect(measuredToleranceMa(10)).toBeCloseTo(0.8, 12);
    expect(measuredToleranceMa(20)).toBeCloseTo(1.3, 12);
    expect(measuredToleranceMa(4)).toBeCloseTo(0.5, 12);
  });
});
