// Three decisions taken after the first draft of the spec (PROTOCOL.md §6.2, §6.10, §12.3).
import { describe, expect, it } from 'vitest';
import { codeOf, makeRig, program } from './rig.js';

describe('retries interleaved with heartbeats', () => {
  it('a retried START after an HB gets the stored OK, not STATE (HB does not replace the stored request)', () => {
    const r = makeRig();
    r.hello();
    expect(r.request('SET', program()).type).toBe('ok');
    const start = r.line('START', { ch: 1 });
    const first = r.raw(`${start}\n`);
    expect(first[0]).toMatchObject({ type: 'ok', verb: 'START' });
    expect(r.request('HB', {}).type).toBe('ok'); // the host's heartbeat lane, between the two
    expect(r.request('STATUS', {}).type).toBe('ok');
    const retry = r.raw(`${start}\n`); // the OK was "lost": the host re-sends the same line
    expect(retry).toEqual(first);
    expect(r.sim.snapshot().counters.repeatsAnswered).toBe(1);
  });
});

describe('IMP while e-stopped', () => {
  it('is refused with LATCHED: a test pulse is current', () => {
    const r = makeRig();
    r.hello();
    expect(r.request('ESTOP', {}).type).toBe('ok');
    expect(codeOf(r.request('IMP', { ch: 1 }))).toBe('LATCHED');
    expect(r.request('CLEAR', {}).type).toBe('ok');
    expect(r.request('IMP', { ch: 1 }).type).toBe('ok');
  });
});

describe('dense-disperse frequencies', () => {
  it('refuses f >= f2 with RANGE', () => {
    const r = makeRig();
    r.hello();
    const reply = r.request('SET', { ch: 1, mode: 'DD', f: 100_000, f2: 2000, dwell: 3000, pw: 250, wf: 'SYM', amp: 1000, dur: 60, ramp: 1000 });
    expect(codeOf(reply)).toBe('RANGE');
    expect(r.request('SET', { ch: 1, mode: 'DD', f: 2000, f2: 100_000, dwell: 3000, pw: 250, wf: 'SYM', amp: 1000, dur: 60, ramp: 1000 }).type).toBe('ok');
  });
});
