/**
 * The abort and the e-stop on their own, on virtual time: the ESTOP frame first, before output is
 * marked off, the alarm, the state and the record; no e-stop frame when the port is gone (and the
 * loop stopped); a second abort while one runs ignored; an e-stop recorded at once and again with
 * the device's confirmation, the session ending only then, and said unconfirmed after
 * ACK_GIVE_UP_MS.
 */
import { describe, expect, it } from 'vitest';
import type { DeviceError } from '../../../src/device/errors.js';
import { ACK_GIVE_UP_MS } from '../../../src/device/timing.js';
import type { SessionState } from '../../../src/session/states.js';
import { StopSequence } from '../../../src/session/stop-sequence.js';
import { ManualScheduler, settle } from '../../support/virtual-time.js';

type Ack = { ok: true } | { ok: false; error: DeviceError };

function setup(initial: SessionState = 'running', opts: { anyOn?: boolean; clear?: Ack } = {}) {
  const s = new ManualScheduler();
  const log: string[] = [];
  let state: SessionState = initial;
  let ack: (a: Ack) => void = () => undefined;
  let journal: object = {};
  const stops = new StopSequence({
    scheduler: s,
    client: {
      estop: () => {
        log.push('ESTOP');
        return new Promise<Ack>((resolve) => (ack = resolve));
      },
      request: ((verb: string) => {
        log.push(verb);
        const a = opts.clear ?? { ok: true };
        return Promise.resolve(a.ok ? { ok: true, value: { latched: false } } : a);
      }) as never,
    },
    journal: {
      record: (type, data) => log.push(`${type} ${data.source} acked=${String(data.acked)}`),
      get current() {
        return journal;
      },
    },
    state: () => state,
    anyOn: () => opts.anyOn ?? false,
    allOff: () => log.push('all off'),
    enter: (to, reason) => {
      state = to;
      log.push(`state ${to}: ${reason}`);
    },
    endSession: (reason, detail) => log.push(`end ${reason}: ${detail}`),
    raise: (priority, cause, _action, channel) => log.push(`alarm ${priority} ${cause}${channel === undefined ? '' : ` ch${channel}`}`),
    stopLoop: () => log.push('loop stopped'),
    latchCleared: (by) => log.push(`latch cleared by ${by}`),
    publish: () => undefined,
  });
  return { s, stops, log, ack: (a: Ack) => ack(a), state: () => state, newJournal: () => (journal = {}) };
}

describe('StopSequence.abort', () => {
  it('ESTOP first, then output off, the alarm, the state and the end record; done once the device confirms', async () => {
    const t = setup();
    let finished = false;
    const p = t.stops.abort('the device watchdog tripped', false, { cause: 'Watchdog', action: 'Check', channel: 2 }).then(() => (finished = true));
    expect(t.stops.aborting).toBe(true);
    expect(t.log).toEqual(['ESTOP', 'all off', 'alarm high Watchdog ch2', 'state aborted: the device watchdog tripped', 'end aborted: the device watchdog tripped']);
    await settle();
    expect(finished).toBe(false);
    t.ack({ ok: true });
    await p;
    expect(t.stops.aborting).toBe(false);
  });

  it('H28 a second abort (or fault) while one runs sends nothing but ends with the first, once the ESTOP is confirmed; after it, an aborted session ignores more', async () => {
    const t = setup();
    const first = t.stops.abort('first');
    let secondDone = false;
    const second = t.stops.abort('second').then(() => (secondDone = true));
    await settle();
    expect(t.log.filter((l) => l === 'ESTOP')).toHaveLength(1);
    expect(secondDone).toBe(false); // what follows an abort (a new HELLO) must wait for the device's confirmation
    t.ack({ ok: true });
    await first;
    await second;
    expect(secondDone).toBe(true);
    await t.stops.abort('third');
    expect(t.log.filter((l) => l === 'ESTOP')).toHaveLength(1);
    expect(t.log.filter((l) => l.startsWith('alarm'))).toEqual(['alarm high first']);
  });

  it('with the port gone there is no ESTOP frame to write: output is marked off and the loop stops', async () => {
    const t = setup();
    await t.stops.abort('the port closed', true);
    expect(t.log).toEqual(['all off', 'alarm high the port closed', 'state aborted: the port closed', 'end aborted: the port closed', 'loop stopped']);
  });

  it('before a session (idle, connecting) nothing is sent; the port gone still stops the loop', async () => {
    const t = setup('idle');
    await t.stops.abort('x');
    expect(t.log).toEqual([]);
    await t.stops.abort('x', true);
    expect(t.log).toEqual(['loop stopped']);
  });

  it('a state that cannot become aborted still sends the ESTOP and raises the alarm, without a transition', async () => {
    const t = setup('completed');
    const p = t.stops.abort('late fault');
    t.ack({ ok: true });
    await p;
    expect(t.log).toEqual(['ESTOP', 'all off', 'alarm high late fault']);
  });
});

describe('StopSequence.estop', () => {
  it('recorded at once and again when confirmed; the session ends only with the confirmation', async () => {
    const t = setup('running');
    const r = t.stops.estop('button');
    expect(t.log).toEqual(['ESTOP', 'all off', expect.stringMatching(/^alarm high /), 'estop button acked=false', 'state stopped: emergency stop (button)']);
    t.ack({ ok: true });
    expect(await r).toEqual({ ok: true, value: undefined });
    expect(t.log.slice(-2)).toEqual(['estop button acked=true', 'end stopped: emergency stop (button)']);
  });

  it('unconfirmed within ACK_GIVE_UP_MS: recorded so, the record ends saying so, and the caller is told', async () => {
    const t = setup('running');
    const r = t.stops.estop('key');
    t.s.advance(ACK_GIVE_UP_MS - 1);
    await settle();
    expect(t.log.some((l) => l.startsWith('end'))).toBe(false);
    t.s.advance(1);
    const result = await r;
    expect(!result.ok && result.error.code).toBe('EstopUnconfirmed');
    expect(t.log.slice(-2)).toEqual(['estop key acked=false', 'end stopped: emergency stop (key): the device did not confirm']);
  });

  it('with nothing on it is recorded but raises no alarm; a confirmation after the journal changed is not written into the new one', async () => {
    const t = setup('ready');
    const r = t.stops.estop('key');
    expect(t.log.slice(0, 3)).toEqual(['ESTOP', 'all off', 'estop key acked=false']);
    expect(t.log.some((l) => l.startsWith('alarm'))).toBe(false);
    const before = [...t.log];
    t.newJournal();
    t.ack({ ok: true });
    await r;
    expect(t.log).toEqual(before);
  });
});

describe('StopSequence.clear', () => {
  it('CLEAR is written, and only once the device confirmed it is the latch shown and recorded as cleared', async () => {
    const t = setup('stopped');
    expect(await t.stops.clear('JD')).toEqual({ ok: true, value: undefined });
    expect(t.log).toEqual(['CLEAR', 'latch cleared by JD']);
  });

  it('a CLEAR the device refuses is a device error: the latch stays shown, nothing recorded', async () => {
    const t = setup('stopped', { clear: { ok: false, error: { code: 'AckTimeout', verb: 'CLEAR', seq: 4, attempts: 3, waitedMs: 600 } } });
    const r = await t.stops.clear('JD');
    expect(!r.ok && r.error.code).toBe('Device');
    expect(t.log).toEqual(['CLEAR']);
  });
});
