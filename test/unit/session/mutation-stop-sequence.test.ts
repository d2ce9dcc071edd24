/**
 * The mutants left alive in stop-sequence.ts by its own test (MUTATION.md, the session group),
 * killed through the part's context on virtual time, by what reached the (fake) device and the
 * records: an abort while connecting sends nothing, an aborted session left as it is when the
 * port goes, a re-entrant abort (its own alarm failing) ignored while the first runs, an e-stop
 * in a state that cannot become `stopped` sent and recorded without a transition or a second end
 * record, and the unconfirmed e-stop's whole message.
 */
import { describe, expect, it } from 'vitest';
import type { DeviceError } from '../../../src/device/errors.js';
import { ACK_GIVE_UP_MS } from '../../../src/device/timing.js';
import type { SessionState } from '../../../src/session/states.js';
import { StopSequence } from '../../../src/session/stop-sequence.js';
import { ManualScheduler, settle } from '../../support/virtual-time.js';

type Ack = { ok: true } | { ok: false; error: DeviceError };

/** The log holds, in order, each frame written to the device, each effect, each record. */
function setup(initial: SessionState, opts: { anyOn?: boolean; onRaise?: (stops: StopSequence) => void } = {}) {
  const s = new ManualScheduler();
  const log: string[] = [];
  let state: SessionState = initial;
  const acks: ((a: Ack) => void)[] = [];
  const stops: StopSequence = new StopSequence({
    scheduler: s,
    client: {
      estop: () => {
        log.push('ESTOP');
        return new Promise<Ack>((resolve) => acks.push(resolve));
      },
      request: ((verb: string) => {
        log.push(verb);
        return Promise.resolve({ ok: true, value: { latched: false } });
      }) as never,
    },
    journal: { record: (type, data) => log.push(`${type} ${data.source} acked=${String(data.acked)}`), current: {} },
    state: () => state,
    anyOn: () => opts.anyOn ?? false,
    allOff: () => log.push('all off'),
    enter: (to, reason) => {
      state = to;
      log.push(`state ${to}: ${reason}`);
    },
    endSession: (reason, detail) => log.push(`end ${reason}: ${detail}`),
    raise: (priority, cause) => {
      log.push(`alarm ${priority} ${cause}`);
      opts.onRaise?.(stops);
    },
    stopLoop: () => log.push('loop stopped'),
    latchCleared: (by) => log.push(`latch cleared by ${by}`),
    publish: () => undefined,
  });
  return { s, stops, log, ackAll: (a: Ack) => acks.splice(0).forEach((f) => f(a)), state: () => state };
}

describe('StopSequence.abort, mutation survivors', () => {
  it('H22 while connecting there is no session: nothing is sent or raised; the port gone only stops the loop', async () => {
    const t = setup('connecting');
    await t.stops.abort('the handshake failed');
    expect(t.log).toEqual([]);
    expect(t.state()).toBe('connecting');
    await t.stops.abort('the port closed', true);
    expect(t.log).toEqual(['loop stopped']);
    expect(t.stops.aborting).toBe(false);
  });

  it('H22 an aborted session is left as it is when the port then goes: no frame, no alarm, no second end, the loop left running', async () => {
    const t = setup('aborted');
    await t.stops.abort('the port closed', true);
    await t.stops.abort('a late fault');
    expect(t.log).toEqual([]);
    expect(t.state()).toBe('aborted');
  });

  it('H5 an abort started from inside the first one (its alarm failing to record) is ignored: one ESTOP frame, one alarm', async () => {
    let nested: Promise<void> | undefined;
    const t = setup('running', {
      onRaise: (stops) => {
        nested ??= stops.abort('the alarm could not be recorded');
      },
    });
    const first = t.stops.abort('the device reported a fault');
    await settle();
    expect(nested).toBeDefined();
    expect(t.log).toEqual(['ESTOP', 'all off', 'alarm high the device reported a fault', 'state aborted: the device reported a fault', 'end aborted: the device reported a fault']);
    t.ackAll({ ok: true });
    await first;
    await nested; // the nested one ends with the first
    expect(t.log.filter((l) => l === 'ESTOP')).toHaveLength(1);
  });

  it('H5 in a state that cannot become aborted, a second abort while the first waits for its confirmation sends no second frame', async () => {
    const t = setup('completed');
    const first = t.stops.abort('late fault');
    expect(t.stops.aborting).toBe(true);
    const second = t.stops.abort('another late fault');
    await settle();
    expect(t.log).toEqual(['ESTOP', 'all off', 'alarm high late fault']);
    t.ackAll({ ok: true });
    await first;
    await second;
    expect(t.stops.aborting).toBe(false);
    // Once it is over, the next one is taken again.
    const next = t.stops.abort('a third fault');
    t.ackAll({ ok: true });
    await next;
    expect(t.log.slice(3)).toEqual(['ESTOP', 'all off', 'alarm high a third fault']);
  });
});

describe('StopSequence.estop, mutation survivors', () => {
  it('H5 an e-stop with no session (idle) is sent and recorded, confirmed, with no state change and no end record', async () => {
    const t = setup('idle');
    const r = t.stops.estop('key');
    t.ackAll({ ok: true });
    expect(await r).toEqual({ ok: true, value: undefined });
    expect(t.log).toEqual(['ESTOP', 'all off', 'estop key acked=false', 'estop key acked=true']);
    expect(t.state()).toBe('idle');
  });

  it('H5 a second e-stop after the session stopped is sent and recorded again, but ends the session only once', async () => {
    const t = setup('running', { anyOn: true });
    const first = t.stops.estop('button');
    t.ackAll({ ok: true });
    await first;
    const mark = t.log.length;
    const second = t.stops.estop('keyboard');
    t.ackAll({ ok: true });
    expect(await second).toEqual({ ok: true, value: undefined });
    expect(t.log.slice(mark)).toEqual(['ESTOP', 'all off', 'alarm high Emergency stop by the Escape key: all output is off and latched', 'estop keyboard acked=false', 'estop keyboard acked=true']);
    expect(t.log.filter((l) => l.startsWith('end '))).toEqual(['end stopped: emergency stop (button)']);
    expect(t.log.filter((l) => l.startsWith('state '))).toEqual(['state stopped: emergency stop (button)']);
  });

  it('H5 unconfirmed within ACK_GIVE_UP_MS: the caller is told in words that it is being repeated', async () => {
    const t = setup('running');
    const r = t.stops.estop('button');
    t.s.advance(ACK_GIVE_UP_MS);
    await settle();
    expect(await r).toEqual({
      ok: false,
      error: { code: 'EstopUnconfirmed', message: 'the device has not confirmed the emergency stop yet; it is being repeated until it does' },
    });
  });
});
