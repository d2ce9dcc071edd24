/**
 * The runner raises the alarms of src/session/alarms.ts (virtual time, the simulator behind a
 * tap that records what reached the device and can make the device say more).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BUILT_IN_FILES } from '../../../src/domain/protocols/library/index.js';
import { validateProtocol } from '../../../src/domain/protocols/validate.js';
import type { JournalRecord } from '../../../src/session/journal-records.js';
import { buildReport } from '../../../src/session/report.js';
import { harness } from '../../support/session-harness.js';

let open: ReturnType<typeof harness>[] = [];
function make(...args: Parameters<typeof harness>) {
  const h = harness(...args);
  open.push(h);
  return h;
}
afterEach(() => {
  for (const h of open) h.dispose();
  open = [];
});

async function running(targetMa: number, file = 'knee-oa-periosteal.json') {
  const h = make();
  const v = validateProtocol(BUILT_IN_FILES[file]);
  if (!v.ok) throw new Error('fixture');
  await h.ready(v.protocol);
  expect((await h.call(h.runner.start({ targetMa }))).ok).toBe(true);
  await h.until(() => h.runner.state === 'running', 60_000, 'running');
  return h;
}

describe('alarms raised by the runner', () => {
  it('H30 an open circuit on channels 1 and 2 together: both faults journaled, both alarms shown, none dropped', async () => {
    const h = await running(3);
    // Channel 2's FAULT follows channel 1's in the same read, while the first abort is under way.
    h.tap.rewrite = (m) =>
      m.type === 'event' && m.event === 'FAULT' && m.args.ch === 1 ? [m, { type: 'event', event: 'FAULT', args: { ch: 2, code: 'OPEN' } }] : m;
    h.sim.setLoad(1, 'OPEN');
    await h.until(() => h.runner.state === 'aborted', 2000, 'aborted');
    await h.run(1000);
    expect(h.output()).toEqual([]);
    expect(h.recorder().ofType('fault')).toEqual([expect.objectContaining({ code: 'OPEN', channel: 1 }), expect.objectContaining({ code: 'OPEN', channel: 2 })]);
    const causes = h.runner.snapshot.alarms.map((a) => a.cause);
    expect(causes).toContain('Channel 1 open circuit');
    expect(causes).toContain('Channel 2 open circuit');
    // The report built from that record lists both faults.
    const records = h.recorder().records.map((r, seq) => ({ seq, ts: new Date(r.t).toISOString(), ...r })) as unknown as JournalRecord[];
    const faults = buildReport(records).events.filter((e) => e.kind === 'fault').map((e) => e.text);
    expect(faults).toEqual([expect.stringMatching(/^Fault OPEN, channel 1/), expect.stringMatching(/^Fault OPEN, channel 2/)]);
  });

  it('H30 a device FAULT that arrives after the abort has settled is journaled after the end record and alarmed', async () => {
    const h = await running(3);
    h.sim.setLoad(1, 'OPEN');
    await h.until(() => h.runner.state === 'aborted', 2000, 'aborted');
    await h.run(2000);
    h.tap.say({ type: 'event', event: 'FAULT', args: { ch: 2, code: 'OPEN' } });
    await h.run(100);
    const types = h.recorder().records.map((r) => r.type);
    const end = types.indexOf('session-end');
    expect(end).toBeGreaterThan(-1);
    expect(h.recorder().ofType('fault')).toEqual([expect.objectContaining({ channel: 1 }), expect.objectContaining({ channel: 2 })]);
    expect(types.lastIndexOf('fault')).toBeGreaterThan(end);
    expect(h.runner.snapshot.alarms.filter((a) => a.channel === 2).map((a) => a.cause)).toEqual(['Channel 2 open circuit']);
  });

  it('an e-stop with nothing on reaches the device and is recorded, but raises no alarm to acknowledge', async () => {
    const h = make();
    await h.ready();
    expect(h.runner.state).toBe('checking-electrodes');
    const before = h.tap.written.length;
    const p = h.runner.estop('keyboard');
    expect(h.tap.written.slice(before).map((w) => w.line)).toEqual([expect.stringMatching(/^\d+ ESTOP \*[0-9A-F]{4}$/)]);
    expect((await h.call(p)).ok).toBe(true);
    expect(h.recorder().ofType('estop')).toEqual([expect.objectContaining({ source: 'keyboard' }), { source: 'keyboard', acked: true }]);
    expect(h.runner.snapshot.alarms).toEqual([]);
    expect(h.recorder().ofType('alarm')).toEqual([]);
  });

  it('an e-stop with output on names its source; after Clear stop nothing says latched', async () => {
    const h = await running(3);
    expect((await h.call(h.runner.estop('button'))).ok).toBe(true);
    expect(h.runner.snapshot.alarms[0]).toMatchObject({ priority: 'high', cause: 'Emergency stop by the Emergency stop button: all output is off and latched' });
    expect((await h.call(h.runner.clear())).ok).toBe(true);
    const text = h.runner.snapshot.alarms.map((a) => `${a.cause} ${a.action}`).join(' ');
    expect(text).toContain('the Emergency stop button');
    expect(text).not.toMatch(/latched|clear the stop/i);
  });

  it('two channels over the same limit: one alarm naming both, each channel journaled once, values shown above the limit', async () => {
    const h = await running(5, 'dense-disperse-2-100.json');
    await h.run(10_000);
    const rms = h.runner.snapshot.alarms.filter((a) => a.cause.startsWith('RMS current density'));
    expect(rms).toHaveLength(1);
    expect(rms[0]!.cause).toMatch(/^RMS current density is above 2 mA\/cm² on channels 1 and 2 \(/);
    for (const m of rms[0]!.cause.matchAll(/([\d.]+) mA\/cm² on channel \d/g)) expect(Number(m[1])).toBeGreaterThan(2);
    const warned = h.recorder().ofType('warning') as { channel: number; limit: string }[];
    expect(warned.filter((w) => w.limit === 'rmsDensityWarnMaPerCm2').map((w) => w.channel).sort()).toEqual([1, 2]);
  });
});
