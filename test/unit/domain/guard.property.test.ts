// Property-based safety tests of the guard (fast-check, >= 2000 cases each). Every check is
// recomputed here independently (own formulas, not physics.ts), so a bug in the guard cannot hide
// in the oracle.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type GuardContext, type Violation, checkAmplitudeChange, checkStimulation } from '../../../src/domain/safety/guard.js';
import type { DeviceLimits, Electrode, Pattern, ProtocolLimits, StimulationParams } from '../../../src/domain/stimulation.js';

const RUNS = 2500;
const EPS = 1e-9;

// ---- generators: mostly plausible values, with boundaries and garbage mixed in ----

function num(lo: number, hi: number, extra: readonly number[] = []) {
  return fc.oneof(
    { weight: 8, arbitrary: fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true }) },
    { weight: 1, arbitrary: fc.constantFrom(lo, hi, ...extra, 0, -1, NaN, Infinity, -Infinity, hi * 2) },
  );
}

const pattern: fc.Arbitrary<Pattern> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('continuous' as const), frequencyHz: num(0.5, 160, [1, 2, 150]) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('dense-disperse' as const), lowHz: num(0.5, 20, [1, 2]), highHz: num(10, 170, [100, 150]), dwellS: num(0.05, 70, [0.1, 3, 60]) }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('burst' as const), burstRateHz: num(0.5, 10, [1, 2]), intraBurstHz: num(20, 170, [100, 150]), pulsesPerBurst: fc.oneof(fc.integer({ min: 0, max: 110 }), fc.constant(2.5)) }),
  },
);

const params: fc.Arbitrary<StimulationParams> = fc.record({
  channel: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: fc.constantFrom(0, -1, 9, 1.5, NaN) }),
  pattern,
  pulseWidthUs: num(30, 700, [50, 250, 600]),
  waveform: fc.oneof({ weight: 9, arbitrary: fc.constantFrom('biphasic-symmetric' as const, 'biphasic-asymmetric' as const) }, { weight: 1, arbitrary: fc.constant('monophasic' as never) }),
  amplitudeMa: num(0, 25, [20, 10]),
  durationS: num(1, 4000, [3600]),
  rampMaPerS: num(0.01, 1.5, [1]),
});

const electrode: fc.Arbitrary<Electrode> = fc.record({
  kind: fc.constant('needle' as const),
  diameterMm: num(0.05, 0.6, [0.1, 0.3, 0.5]),
  insertedLengthMm: num(0.5, 120, [1, 40, 100]),
});

const range = (lo: [number, number], hi: [number, number]) =>
  fc.record({ min: fc.double({ min: lo[0], max: lo[1], noNaN: true }), max: fc.double({ min: hi[0], max: hi[1], noNaN: true }) });

const device: fc.Arbitrary<DeviceLimits> = fc.record({
  channels: fc.integer({ min: 1, max: 8 }),
  frequencyHz: range([0.5, 3], [50, 300]),
  pulseWidthUs: range([20, 100], [300, 1000]),
  amplitudeMa: range([0, 0.5], [5, 40]),
  maxChargePerPhaseUc: fc.double({ min: 1, max: 20, noNaN: true }),
  maxDurationS: fc.double({ min: 600, max: 5000, noNaN: true }),
  complianceV: fc.double({ min: 50, max: 700, noNaN: true }),
  watchdogMs: fc.double({ min: 200, max: 2000, noNaN: true }),
});

/** Protocol limits: absent, derived from the params (usually matching), or unrelated. */
function protocolFor(p: StimulationParams): fc.Arbitrary<ProtocolLimits | undefined> {
  const derived = fc.record({
    protocolId: fc.constant('p'),
    phaseIndex: fc.constant(0),
    channels: fc.constantFrom([1, 2, 3, 4], [1], [2, 3]),
    pattern: fc.constant(p.pattern),
    pulseWidthUs: fc.oneof({ weight: 5, arbitrary: fc.constant(p.pulseWidthUs) }, { weight: 1, arbitrary: fc.constant(250) }),
    waveform: fc.constantFrom('biphasic-symmetric' as const, 'biphasic-asymmetric' as const),
    maxMa: fc.double({ min: 1, max: 25, noNaN: true }),
    rampMaPerS: fc.double({ min: 0.1, max: 2, noNaN: true }),
    durationS: fc.double({ min: 600, max: 4000, noNaN: true }),
  });
  return fc.oneof(fc.constant(undefined), derived);
}

const wild = params.chain((p) => fc.record({ p: fc.constant(p), device, electrode, protocol: protocolFor(p) }));

// Plausible scenarios: values inside the hard ranges, near-matching devices and protocols, so
// that acceptance (and the boundaries around it) is exercised as much as rejection.
const d = (min: number, max: number) => fc.double({ min, max, noNaN: true });
const plausiblePattern: fc.Arbitrary<Pattern> = fc.oneof(
  fc.record({ kind: fc.constant('continuous' as const), frequencyHz: fc.oneof(d(1, 150), fc.constantFrom(1, 2, 100, 150)) }),
  fc.record({ kind: fc.constant('dense-disperse' as const), lowHz: d(1, 20), highHz: d(30, 150), dwellS: d(0.1, 60) }),
  fc.record({ kind: fc.constant('burst' as const), burstRateHz: d(1, 5), intraBurstHz: d(50, 150), pulsesPerBurst: fc.integer({ min: 1, max: 10 }) }),
);
const plausibleParams: fc.Arbitrary<StimulationParams> = fc.record({
  channel: fc.integer({ min: 1, max: 4 }),
  pattern: plausiblePattern,
  pulseWidthUs: fc.oneof(d(50, 600), fc.constantFrom(50, 250, 600)),
  waveform: fc.constantFrom('biphasic-symmetric' as const, 'biphasic-asymmetric' as const),
  amplitudeMa: fc.oneof(d(0, 20), fc.constantFrom(0, 10, 20)),
  durationS: d(1, 3600),
  rampMaPerS: d(0.01, 1),
});
const plausibleElectrode: fc.Arbitrary<Electrode> = fc.record({ kind: fc.constant('needle' as const), diameterMm: d(0.1, 0.5), insertedLengthMm: d(1, 100) });
const plausibleDevice: fc.Arbitrary<DeviceLimits> = fc.record({
  channels: fc.integer({ min: 2, max: 8 }),
  frequencyHz: fc.record({ min: d(0.5, 2), max: d(100, 200) }),
  pulseWidthUs: fc.record({ min: d(20, 60), max: d(500, 1000) }),
  amplitudeMa: fc.record({ min: fc.constant(0), max: d(10, 30) }),
  maxChargePerPhaseUc: d(3, 20),
  maxDurationS: d(1800, 7200),
  complianceV: d(50, 520),
  watchdogMs: d(250, 1050),
});
function matchingProtocol(p: StimulationParams): fc.Arbitrary<ProtocolLimits | undefined> {
  return fc.oneof(
    fc.constant(undefined),
    fc.record({
      protocolId: fc.constant('p'),
      phaseIndex: fc.constant(0),
      channels: fc.constant([1, 2, 3, 4]),
      pattern: fc.constant(p.pattern),
      pulseWidthUs: fc.constant(p.pulseWidthUs),
      waveform: fc.constant(p.waveform),
      maxMa: d(Math.max(p.amplitudeMa - 2, 0), 20),
      rampMaPerS: d(Math.max(p.rampMaPerS - 0.2, 0.01), 1),
      durationS: d(Math.max(p.durationS - 60, 1), 3600),
    }),
  );
}
const plausible = plausibleParams.chain((p) => fc.record({ p: fc.constant(p), device: plausibleDevice, electrode: plausibleElectrode, protocol: matchingProtocol(p) }));

const scenario = fc.oneof(wild, plausible);

// ---- the independent oracle ----

const frequencies = (pt: Pattern): [string, number][] =>
  pt.kind === 'continuous' ? [['pattern.frequencyHz', pt.frequencyHz]] : pt.kind === 'dense-disperse' ? [['pattern.lowHz', pt.lowHz], ['pattern.highHz', pt.highHz]] : [['pattern.burstRateHz', pt.burstRateHz], ['pattern.intraBurstHz', pt.intraBurstHz]];
const fieldValue = (p: StimulationParams, field: string) => frequencies(p.pattern).find(([f]) => f === field)?.[1] ?? NaN;
const finitePos = (x: number) => Number.isFinite(x) && x > 0;

function area(e: Electrode): number {
  return (Math.PI * (e.diameterMm / 10) * (e.insertedLengthMm / 10));
}
function kOf(p: StimulationParams, e: Electrode): number {
  const q = (p.amplitudeMa * p.pulseWidthUs) / 1000;
  return Math.log10(q) + Math.log10(q / area(e));
}
function energyMj(p: StimulationParams): number {
  const amps = p.amplitudeMa / 1000;
  return amps * amps * 500 * 2 * (p.pulseWidthUs / 1e6) * 1000;
}
function samePattern(a: Pattern, b: Pattern): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Is the reported violation really broken? Recomputed from scratch. */
function isReal(v: Violation, p: StimulationParams, ctx: GuardContext): boolean {
  const d = ctx.device;
  const e = ctx.electrode;
  const pr = ctx.protocol;
  const pt = p.pattern;
  switch (v.limit) {
    case 'input.channel': return !Number.isInteger(p.channel) || p.channel < 1;
    case 'input.pulseWidthUs': return !finitePos(p.pulseWidthUs);
    case 'input.amplitudeMa': return !(Number.isFinite(p.amplitudeMa) && p.amplitudeMa >= 0);
    case 'input.durationS': return !finitePos(p.durationS);
    case 'input.rampMaPerS': return !finitePos(p.rampMaPerS);
    case 'input.waveform': return p.waveform !== 'biphasic-symmetric' && p.waveform !== 'biphasic-asymmetric';
    case 'input.pattern.frequencyHz': case 'input.pattern.lowHz': case 'input.pattern.highHz': case 'input.pattern.burstRateHz': case 'input.pattern.intraBurstHz': {
      const x = fieldValue(p, v.field);
      if (!finitePos(x)) return true;
      return v.field === 'pattern.lowHz' && pt.kind === 'dense-disperse' && pt.lowHz >= pt.highHz;
    }
    case 'input.pattern.dwellS': return pt.kind === 'dense-disperse' && !(pt.dwellS >= 0.1 && pt.dwellS <= 60);
    case 'input.pattern.pulsesPerBurst':
      return pt.kind === 'burst' && (!Number.isInteger(pt.pulsesPerBurst) || pt.pulsesPerBurst < 1 || pt.pulsesPerBurst > 100 || pt.pulsesPerBurst * pt.burstRateHz > pt.intraBurstHz);
    case 'input.electrode.diameterMm': return !finitePos(e.diameterMm);
    case 'input.electrode.insertedLengthMm': return !finitePos(e.insertedLengthMm);
    case 'frequencyMinHz': return fieldValue(p, v.field) < 1;
    case 'frequencyMaxHz': return fieldValue(p, v.field) > 150;
    case 'pulseWidthMinUs': return p.pulseWidthUs < 50;
    case 'pulseWidthMaxUs': return p.pulseWidthUs > 600;
    case 'amplitudeMaxMa': return p.amplitudeMa > 20;
    case 'amplitudeRiseMaxMaPerS': return p.rampMaPerS > 1;
    case 'sessionMaxMin': return p.durationS > 3600;
    case 'needleDiameterMinMm': return e.diameterMm < 0.1;
    case 'needleDiameterMaxMm': return e.diameterMm > 0.5;
    case 'needleInsertedLengthMinMm': return e.insertedLengthMm < 1;
    case 'needleInsertedLengthMaxMm': return e.insertedLengthMm > 100;
    case 'shannonKBlock': return kOf(p, e) >= 1.85 - EPS;
    case 'energyPerPulseMaxMj': return energyMj(p) > 300;
    case 'complianceMaxV': return d.complianceV > 500;
    case 'watchdogMaxMs': return d.watchdogMs > 1000;
    case 'device.channels': return p.channel > d.channels;
    case 'device.pulseWidthUs.min': return p.pulseWidthUs < d.pulseWidthUs.min;
    case 'device.pulseWidthUs.max': return p.pulseWidthUs > d.pulseWidthUs.max;
    case 'device.amplitudeMa.min': return p.amplitudeMa !== 0 && p.amplitudeMa < d.amplitudeMa.min;
    case 'device.amplitudeMa.max': return p.amplitudeMa > d.amplitudeMa.max;
    case 'device.maxChargePerPhaseUc': return (p.amplitudeMa * p.pulseWidthUs) / 1000 > d.maxChargePerPhaseUc;
    case 'device.maxDurationS': return p.durationS > d.maxDurationS;
    case 'protocol.channel': return pr !== undefined && !pr.channels.includes(p.channel);
    case 'protocol.pattern': return pr !== undefined && !samePattern(pr.pattern, p.pattern);
    case 'protocol.pulseWidthUs': return pr !== undefined && pr.pulseWidthUs !== p.pulseWidthUs;
    case 'protocol.waveform': return pr !== undefined && pr.waveform !== p.waveform;
    case 'protocol.maxMa': return pr !== undefined && p.amplitudeMa > pr.maxMa;
    case 'protocol.rampMaPerS': return pr !== undefined && p.rampMaPerS > pr.rampMaPerS;
    case 'protocol.durationS': return pr !== undefined && p.durationS > pr.durationS;
    default:
      if (v.limit.startsWith('device.pattern.')) {
        const x = fieldValue(p, v.field);
        return v.limit.endsWith('.min') ? x < d.frequencyHz.min : x > d.frequencyHz.max;
      }
      return false; // an unknown limit key is itself a failure of the property
  }
}

/** Every hard, device and protocol condition an accepted stimulation must satisfy. */
function satisfiesEverything(p: StimulationParams, ctx: GuardContext): boolean {
  const d = ctx.device;
  const e = ctx.electrode;
  const within = (x: number, lo: number, hi: number) => Number.isFinite(x) && x >= lo - EPS && x <= hi + EPS;
  const freqs = frequencies(p.pattern).map(([, f]) => f);
  const pt = p.pattern;
  const wellFormed =
    (pt.kind !== 'dense-disperse' || (pt.lowHz < pt.highHz && within(pt.dwellS, 0.1, 60))) &&
    (pt.kind !== 'burst' || (Number.isInteger(pt.pulsesPerBurst) && pt.pulsesPerBurst >= 1 && pt.pulsesPerBurst <= 100 && pt.pulsesPerBurst * pt.burstRateHz <= pt.intraBurstHz + EPS));
  const hard =
    wellFormed &&
    freqs.every((f) => within(f, 1, 150)) &&
    within(p.pulseWidthUs, 50, 600) &&
    within(p.amplitudeMa, 0, 20) &&
    p.rampMaPerS > 0 && within(p.rampMaPerS, 0, 1) &&
    p.durationS > 0 && within(p.durationS, 0, 3600) &&
    (p.waveform === 'biphasic-symmetric' || p.waveform === 'biphasic-asymmetric') &&
    within(e.diameterMm, 0.1, 0.5) && within(e.insertedLengthMm, 1, 100) &&
    (p.amplitudeMa === 0 || kOf(p, e) < 1.85) &&
    energyMj(p) <= 300 && d.complianceV <= 500 && d.watchdogMs <= 1000;
  const onDevice =
    Number.isInteger(p.channel) && p.channel >= 1 && p.channel <= d.channels &&
    freqs.every((f) => within(f, d.frequencyHz.min, d.frequencyHz.max)) &&
    within(p.pulseWidthUs, d.pulseWidthUs.min, d.pulseWidthUs.max) &&
    (p.amplitudeMa === 0 || within(p.amplitudeMa, d.amplitudeMa.min, d.amplitudeMa.max)) &&
    (p.amplitudeMa * p.pulseWidthUs) / 1000 <= d.maxChargePerPhaseUc + EPS &&
    p.durationS <= d.maxDurationS + EPS;
  const pr = ctx.protocol;
  const inProtocol =
    pr === undefined ||
    (pr.channels.includes(p.channel) && samePattern(pr.pattern, p.pattern) && pr.pulseWidthUs === p.pulseWidthUs && pr.waveform === p.waveform &&
      p.amplitudeMa <= pr.maxMa + EPS && p.rampMaPerS <= pr.rampMaPerS + EPS && p.durationS <= pr.durationS + EPS);
  return hard && onDevice && inProtocol;
}

describe('guard properties', () => {
  it('H1 accepts nothing that breaks a hard, device or protocol limit', () => {
    let accepted = 0;
    fc.assert(
      fc.property(scenario, ({ p, device: d, electrode: e, protocol }) => {
        const ctx = { device: d, electrode: e, protocol };
        const r = checkStimulation(p, ctx);
        if (r.ok) {
          accepted++;
          expect(satisfiesEverything(r.checked.value, ctx)).toBe(true);
          expect(r.checked.value).toEqual(p);
        } else {
          expect(satisfiesEverything(p, ctx)).toBe(false);
        }
      }),
      { numRuns: RUNS },
    );
    // Not vacuous: a fair share of the cases were accepted.
    expect(accepted).toBeGreaterThan(RUNS / 25);
  });

  it('reports only violations that are real', () => {
    let reported = 0;
    fc.assert(
      fc.property(scenario, ({ p, device: d, electrode: e, protocol }) => {
        const ctx = { device: d, electrode: e, protocol };
        const r = checkStimulation(p, ctx);
        if (r.ok) return;
        expect(r.violations.length).toBeGreaterThan(0);
        for (const v of r.violations) {
          reported++;
          expect(isReal(v, p, ctx), `${v.limit}: ${v.message}`).toBe(true);
          expect(v.message).toMatch(/\S/);
        }
      }),
      { numRuns: RUNS },
    );
    expect(reported).toBeGreaterThan(RUNS);
  });

  it('H11 never lets accepted amplitude commands rise faster than 1 mA/s (or the protocol ramp)', () => {
    const commands = fc.array(fc.record({ dtMs: fc.integer({ min: 0, max: 3000 }), amplitudeMa: fc.oneof(fc.double({ min: 0, max: 12, noNaN: true }), fc.integer({ min: 0, max: 120 }).map((n) => n / 10)) }), { minLength: 1, maxLength: 40 });
    const withProtocol = fc.boolean();
    let acceptedChanges = 0;
    fc.assert(
      fc.property(commands, withProtocol, (cmds, useProtocol) => {
        const base = { device: DEVICE, electrode: NEEDLE, protocol: useProtocol ? PROTOCOL : undefined };
        const staged = checkStimulation({ ...PARAMS, amplitudeMa: 0 }, base);
        if (!staged.ok) throw new Error('fixture rejected');
        const rate = useProtocol ? PROTOCOL.rampMaPerS : 1;
        const history: { amplitudeMa: number; atMs: number }[] = [{ amplitudeMa: 0, atMs: 0 }];
        let previous: { amplitudeMa: number; atMs: number } | undefined;
        let t = 0;
        for (const c of cmds) {
          t += c.dtMs;
          const r = checkAmplitudeChange({ channel: 1, amplitudeMa: c.amplitudeMa, atMs: t }, { ...base, previous, active: staged.checked });
          if (r.ok) {
            previous = { amplitudeMa: c.amplitudeMa, atMs: t };
            history.push(previous);
            acceptedChanges++;
          }
        }
        for (let i = 0; i < history.length; i++) {
          for (let j = i + 1; j < history.length; j++) {
            const rise = history[j]!.amplitudeMa - history[i]!.amplitudeMa;
            const allowed = (rate * (history[j]!.atMs - history[i]!.atMs)) / 1000;
            expect(rise).toBeLessThanOrEqual(allowed + (j - i) * EPS);
          }
        }
      }),
      { numRuns: RUNS },
    );
    expect(acceptedChanges).toBeGreaterThan(RUNS);
  });
});

// Local copies so this file does not share fixtures with the unit tests' expectations.
const DEVICE: DeviceLimits = {
  channels: 4,
  frequencyHz: { min: 1, max: 150 },
  pulseWidthUs: { min: 50, max: 600 },
  amplitudeMa: { min: 0, max: 20 },
  maxChargePerPhaseUc: 12,
  maxDurationS: 3600,
  complianceV: 80,
  watchdogMs: 1000,
};
const NEEDLE: Electrode = { kind: 'needle', diameterMm: 0.3, insertedLengthMm: 40 };
const PARAMS: StimulationParams = { channel: 1, pattern: { kind: 'continuous', frequencyHz: 2 }, pulseWidthUs: 250, waveform: 'biphasic-symmetric', amplitudeMa: 0, durationS: 1200, rampMaPerS: 0.5 };
const PROTOCOL: ProtocolLimits = { protocolId: 'p', phaseIndex: 0, channels: [1], pattern: PARAMS.pattern, pulseWidthUs: 250, waveform: 'biphasic-symmetric', maxMa: 10, rampMaPerS: 0.5, durationS: 1200 };
