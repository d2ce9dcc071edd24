// Writes firmware-protocol/vectors/behaviour/answers.json (run: npx tsx test/firmware/make-behaviour-vectors.ts).
// The lines carry real CRCs because they are made with the codec; the file is what implementations test against.
import { writeFileSync } from 'node:fs';
import { encode, frame, setReadbackCrc } from '../../firmware-protocol/index.js';
const E = (event: string, args: object = {}) => encode({ type: 'event', event, args } as never);
const O = (seq: number, verb: string, args: object = {}) => encode({ type: 'ok', seq, verb, args } as never);
const req = (seq: number, verb: string, args: object = {}) => encode({ type: 'request', seq, verb, args } as never);
const SET1 = (seq: number, over: object = {}) => req(seq, 'SET', { ch: 1, mode: 'CONT', f: 2000, pw: 250, wf: 'SYM', amp: 4000, dur: 1, ramp: 1000, ...over });
const boot = { at: [0, 1], match: { type: 'event', event: 'BOOT', args: { proto: 1 } } };
const helloOk = (seq: number, at: number) => ({ at: [at, at + 1], match: { type: 'ok', seq, verb: 'HELLO', args: { proto: 1, ch: 4 } } });
const ok = (seq: number, verb: string, at: number, args?: object) => ({ at: [at, at + 1], match: { type: 'ok', seq, verb, ...(args ? { args } : {}) } });
const line = (l: string, at: number) => ({ at: [at, at + 1], line: l });
const err = (seq: number | null, code: string, at: number, msg?: string) => ({ at: [at, at + 1], match: { type: 'err', seq, args: { code, ...(msg ? { msg } : {}) } } });
const tel = (at: number, ch: number, amp: number) => ({ at: [at, at + 1], match: { type: 'event', event: 'TEL', args: { ch, amp } } });

const scenarios = [
  {
    name: 'a request-direction line to a device: a valid reply or event is BAD_FRAME, one with bad arguments is BAD_ARG, with its seq when it has one',
    answers: 'PROTOCOL.md §4.4 "Direction": the direction is checked after step 11',
    until: 300,
    steps: [
      { at: 5, send: frame('7 OK HB x=1') },
      { at: 15, send: frame('! TEL') },
      { at: 25, send: frame('7 OK HB') },
      { at: 35, send: frame('! WDOG') },
      { at: 45, send: frame('8 OK PING') },
    ],
    expect: [boot, err(7, 'BAD_ARG', 5), err(null, 'BAD_ARG', 15), line(encode({ type: 'err', seq: null, args: { code: 'BAD_FRAME' } }), 25), line(encode({ type: 'err', seq: null, args: { code: 'BAD_FRAME' } }), 35), err(8, 'UNKNOWN_VERB', 45, "OK answers unknown verb 'PING'")],
  },
  {
    name: 'a refused request is the stored pair: its retry gets the same ERR, an HB in between changes nothing, a new seq is executed afresh',
    answers: 'PROTOCOL.md §12.3',
    until: 300,
    steps: [
      { at: 5, send: req(0, 'HELLO', { vmin: 1, vmax: 1 }) },
      { at: 15, send: req(1, 'START', { ch: 1 }) },
      { at: 25, send: req(2, 'HB') },
      { at: 35, send: req(1, 'START', { ch: 1 }) },
      { at: 45, send: SET1(3) },
      { at: 55, send: req(1, 'START', { ch: 1 }) },
      { at: 65, send: req(4, 'STOP') },
    ],
    expect: [
      boot,
      helloOk(0, 5),
      err(1, 'STATE', 15, 'channel 1 is OFF, not STAGED'),
      ok(2, 'HB', 25),
      err(1, 'STATE', 35, 'channel 1 is OFF, not STAGED'),
      ok(3, 'SET', 45, { ch: 1, crc: setReadbackCrc({ ch: 1, mode: 'CONT', f: 2000, pw: 250, wf: 'SYM', amp: 4000, dur: 1, ramp: 1000 }) }),
      ok(1, 'START', 55, { ch: 1 }),
      ok(4, 'STOP', 65, {}),
    ],
  },
  {
    name: 'TEL every 100 ms from START with the set point on the ramp, DONE at START + dur, no TEL at or after DONE',
    answers: 'PROTOCOL.md §7.3 sampling and §12.5 tolerances (device clock)',
    tel: true,
    until: 1900,
    steps: [
      { at: 5, send: req(0, 'HELLO', { vmin: 1, vmax: 1 }) },
      { at: 15, send: SET1(1, { amp: 500, ramp: 1000 }) },
      { at: 25, send: req(2, 'START', { ch: 1 }) },
      ...[275, 525, 775].map((at, i) => ({ at, send: req(3 + i, 'HB') })),
    ],
    expect: [
      boot,
      helloOk(0, 5),
      ok(1, 'SET', 15),
      ok(2, 'START', 25, { ch: 1 }),
      tel(125, 1, 100),
      tel(225, 1, 200),
      ok(3, 'HB', 275),
      tel(325, 1, 300),
      tel(425, 1, 400),
      tel(525, 1, 500),
      ok(4, 'HB', 525),
      tel(625, 1, 500),
      tel(725, 1, 500),
      ok(5, 'HB', 775),
      tel(825, 1, 500),
      tel(925, 1, 500),
      { at: [1025, 1035], line: E('DONE', { ch: 1 }) },
      { at: [1775, 1785], line: E('WDOG') },
    ],
  },
  {
    name: 'the watchdog trips in [wdog, wdog + 10 ms) after the last valid frame, never before; invalid lines do not feed it',
    answers: 'PROTOCOL.md §11 and §12.5',
    until: 3000,
    steps: [
      { at: 5, send: req(0, 'HELLO', { vmin: 1, vmax: 1 }) },
      { at: 500, send: req(1, 'HB') },
      { at: 900, send: '1 HB *0000' },
      { at: 1400, send: frame('2 HB x=1') },
      { at: 1600, send: req(3, 'HB') },
    ],
    expect: [
      boot,
      helloOk(0, 5),
      ok(1, 'HB', 500),
      line(encode({ type: 'err', seq: null, args: { code: 'BAD_CRC' } }), 900),
      { at: [1500, 1510], line: E('WDOG') },
      err(2, 'BAD_ARG', 1400),
      err(3, 'NO_HELLO', 1600),
    ].sort((a, b) => a.at[0]! - b.at[0]!),
  },
  {
    name: 'STATUS up is ms since the last power-up or reset: a reboot starts it again from 0',
    answers: 'PROTOCOL.md §6.9',
    until: 1000,
    steps: [
      { at: 500, send: req(0, 'STATUS') },
      { at: 600, fault: 'reboot' },
      { at: 750, send: req(1, 'STATUS') },
    ],
    expect: [boot, ok(0, 'STATUS', 500, { up: 500, latched: false, s1: 'OFF' }), { at: [600, 601], match: { type: 'event', event: 'BOOT' } }, ok(1, 'STATUS', 750, { up: 150 })],
  },
  {
    name: 'an OPEN load is a property of the electrodes: it stays OPEN after the fault until reconnected, and a START into it faults again within one tick',
    answers: 'PROTOCOL.md §7.3 faults',
    until: 600,
    steps: [
      { at: 5, send: req(0, 'HELLO', { vmin: 1, vmax: 1 }) },
      { at: 15, send: SET1(1, { dur: 60 }) },
      { at: 25, send: req(2, 'START', { ch: 1 }) },
      { at: 55, fault: 'open:1' },
      { at: 105, send: req(3, 'IMP', { ch: 1 }) },
      { at: 115, send: SET1(4, { dur: 60 }) },
      { at: 125, send: req(5, 'START', { ch: 1 }) },
      { at: 205, fault: 'load:1:1500' },
      { at: 215, send: req(6, 'IMP', { ch: 1 }) },
      { at: 225, send: req(7, 'STOP') },
    ],
    expect: [
      boot,
      helloOk(0, 5),
      ok(1, 'SET', 15),
      ok(2, 'START', 25),
      { at: [55, 65], line: E('FAULT', { ch: 1, code: 'OPEN' }) },
      ok(3, 'IMP', 105, { ch: 1, z: 'OPEN' }),
      ok(4, 'SET', 115),
      ok(5, 'START', 125),
      { at: [125, 135], line: E('FAULT', { ch: 1, code: 'OPEN' }) },
      ok(6, 'IMP', 215, { ch: 1, z: 1500 }),
      ok(7, 'STOP', 225),
    ],
  },
  {
    name: 'CHARGE with a device whose qmax is below amax x pwmax',
    answers: 'PROTOCOL.md §6.2 CHARGE, §13 (a narrower qmax: edn simulate --qmax, either implementation)',
    device: { qmax: 3000 },
    until: 300,
    steps: [
      { at: 5, send: req(0, 'HELLO', { vmin: 1, vmax: 1 }) },
      { at: 15, send: SET1(1, { amp: 10000, pw: 600 }) },
      { at: 25, send: SET1(2, { amp: 5000, pw: 600 }) },
      { at: 35, send: req(3, 'START', { ch: 1 }) },
      { at: 45, send: req(4, 'AMP', { ch: 1, amp: 6000 }) },
      { at: 55, send: req(5, 'STOP') },
    ],
    expect: [
      boot,
      { at: [5, 6], match: { type: 'ok', seq: 0, verb: 'HELLO', args: { qmax: 3000, amax: 20000, pwmax: 600 } } },
      err(1, 'CHARGE', 15, 'amp x pw 6000 nC above qmax 3000 nC'),
      ok(2, 'SET', 25),
      ok(3, 'START', 35),
      err(4, 'CHARGE', 45, 'amp x pw 3600 nC above qmax 3000 nC'),
      ok(5, 'STOP', 55),
    ],
  },
  {
    name: 'INTERNAL: an output stage that does not confirm a START, or an impedance check that fails, is ERR code=INTERNAL and changes nothing',
    answers: 'PROTOCOL.md §8 INTERNAL (stage-fail: edn simulate --fault stage-fail:N, either implementation)',
    until: 300,
    steps: [
      { at: 5, send: req(0, 'HELLO', { vmin: 1, vmax: 1 }) },
      { at: 15, send: SET1(1, { dur: 60 }) },
      { at: 20, fault: 'stage-fail:2' },
      { at: 25, send: req(2, 'START', { ch: 1 }) },
      { at: 35, send: req(3, 'IMP', { ch: 2 }) },
      { at: 45, send: req(4, 'STATUS') },
      { at: 55, send: req(5, 'START', { ch: 1 }) },
      { at: 65, send: req(6, 'STOP') },
    ],
    expect: [
      boot,
      helloOk(0, 5),
      ok(1, 'SET', 15),
      err(2, 'INTERNAL', 25, 'output stage did not respond'),
      err(3, 'INTERNAL', 35, 'impedance measurement failed'),
      ok(4, 'STATUS', 45, { latched: false, s1: 'STAGED' }),
      ok(5, 'START', 55),
      ok(6, 'STOP', 65),
    ],
  },
  {
    name: 'FAULT INTERNAL (device-wide): every output off, latched, the session kept',
    answers: 'PROTOCOL.md §7.3 faults, §9',
    until: 300,
    steps: [
      { at: 5, send: req(0, 'HELLO', { vmin: 1, vmax: 1 }) },
      { at: 15, send: SET1(1, { dur: 60 }) },
      { at: 25, send: req(2, 'START', { ch: 1 }) },
      { at: 45, fault: 'internal' },
      { at: 55, send: req(3, 'STATUS') },
      { at: 65, send: req(4, 'START', { ch: 1 }) },
      { at: 75, send: req(5, 'HB') },
    ],
    expect: [
      boot,
      helloOk(0, 5),
      ok(1, 'SET', 15),
      ok(2, 'START', 25),
      { at: [45, 46], line: E('FAULT', { ch: 0, code: 'INTERNAL' }) },
      ok(3, 'STATUS', 55, { latched: true, s1: 'OFF' }),
      err(4, 'LATCHED', 65),
      ok(5, 'HB', 75),
    ],
  },
  {
    name: 'ESTOP, the watchdog and a device-wide fault leave every channel OFF, a DONE one too',
    answers: 'PROTOCOL.md §9 (all -> OFF)',
    until: 1500,
    steps: [
      { at: 5, send: req(0, 'HELLO', { vmin: 1, vmax: 1 }) },
      { at: 15, send: SET1(1) },
      { at: 25, send: req(2, 'START', { ch: 1 }) },
      { at: 505, send: req(3, 'HB') },
      { at: 1105, send: req(4, 'STATUS') },
      { at: 1115, send: req(5, 'ESTOP') },
      { at: 1125, send: req(6, 'STATUS') },
    ],
    expect: [
      boot,
      helloOk(0, 5),
      ok(1, 'SET', 15),
      ok(2, 'START', 25),
      ok(3, 'HB', 505),
      { at: [1025, 1035], line: E('DONE', { ch: 1 }) },
      ok(4, 'STATUS', 1105, { s1: 'DONE' }),
      line(O(5, 'ESTOP', { latched: true }), 1115),
      ok(6, 'STATUS', 1125, { latched: true, s1: 'OFF' }),
    ],
  },
  {
    name: 'the power-up BOOT is sent once, at power-up, whether or not a host listens; HELLO and STATUS carry the same boot id',
    answers: 'PROTOCOL.md §7.3 BOOT (a host that opens the port later may miss it: it MUST NOT wait for it)',
    until: 3000,
    steps: [
      { at: 2500, send: req(0, 'STATUS') },
      { at: 2510, send: req(1, 'HELLO', { vmin: 1, vmax: 1 }) },
    ],
    expect: [boot, ok(0, 'STATUS', 2500, { up: 2500 }), helloOk(1, 2510)],
  },
];
const file = {
  description:
    'Behaviour vectors (PROTOCOL.md §14.6): short sessions with the device lines they must produce, each answering a point the spec had left open. Run against the simulator and the C firmware on virtual time by test/firmware/behaviour.test.ts.',
  scenarios,
};
writeFileSync(new URL('../../firmware-protocol/vectors/behaviour/answers.json', import.meta.url), JSON.stringify(file, null, 2) + '\n');

