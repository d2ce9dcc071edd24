// The guard's refusals, whole: scope, limit, field, value, allowed range, unit, source and the
// clinician's message, for each kind of limit (hard, device, protocol, input). The mutation campaign
// (MUTATION.md, group safety-guard) showed most of these texts could be emptied or the bound of the
// wrong side named with every test passing: a refusal must say what was wrong and where.
import { describe, expect, it } from 'vitest';
import { type GuardResult, checkStimulation } from '../../../src/domain/safety/guard.js';
import { CTX, NO_PROTOCOL, PARAMS } from './guard-fixtures.js';

const refusal = <T>(r: GuardResult<T>) => (r.ok ? 'accepted' : r.violations);

describe('H1 the guard names what was wrong and where', () => {
  it("H1 a frequency below the hard and device minimum", () => {
    expect(refusal(checkStimulation({ ...PARAMS, pattern: { kind: 'continuous', frequencyHz: 0.5 } }, NO_PROTOCOL))).toEqual([{"scope":"hard","limit":"frequencyMinHz","field":"pattern.frequencyHz","value":0.5,"allowed":"1-150","unit":"Hz","source":"docs/CLINICAL.md#frequency","message":"0.5 Hz is below the 1 Hz minimum frequency (allowed 1-150 Hz) [docs/CLINICAL.md#frequency]"},{"scope":"device","limit":"device.pattern.frequencyHz.min","field":"pattern.frequencyHz","value":0.5,"allowed":"1-150","unit":"Hz","source":"device HELLO","message":"0.5 Hz is below the 1 Hz minimum frequency (allowed 1-150 Hz) of this device [device HELLO]"}]);
  });
  it("H1 a frequency above the hard and device maximum", () => {
    expect(refusal(checkStimulation({ ...PARAMS, pattern: { kind: 'continuous', frequencyHz: 500 } }, NO_PROTOCOL))).toEqual([{"scope":"hard","limit":"frequencyMaxHz","field":"pattern.frequencyHz","value":500,"allowed":"1-150","unit":"Hz","source":"docs/CLINICAL.md#frequency","message":"500 Hz is above the 150 Hz maximum frequency (allowed 1-150 Hz) [docs/CLINICAL.md#frequency]"},{"scope":"device","limit":"device.pattern.frequencyHz.max","field":"pattern.frequencyHz","value":500,"allowed":"1-150","unit":"Hz","source":"device HELLO","message":"500 Hz is above the 150 Hz maximum frequency (allowed 1-150 Hz) of this device [device HELLO]"}]);
  });
  it("H2 a pulse width below the minimum", () => {
    expect(refusal(checkStimulation({ ...PARAMS, pulseWidthUs: 20 }, NO_PROTOCOL))).toEqual([{"scope":"hard","limit":"pulseWidthMinUs","field":"pulseWidthUs","value":20,"allowed":"50-600","unit":"µs","source":"docs/CLINICAL.md#pulse-width-per-phase","message":"20 µs is below the 50 µs minimum pulse width per phase (allowed 50-600 µs) [docs/CLINICAL.md#pulse-width-per-phase]"},{"scope":"device","limit":"device.pulseWidthUs.min","field":"pulseWidthUs","value":20,"allowed":"50-600","unit":"µs","source":"device HELLO","message":"20 µs is below the 50 µs minimum pulse width per phase (allowed 50-600 µs) of this device [device HELLO]"}]);
  });
  it("H12 a session longer than the hard and device maximum", () => {
    expect(refusal(checkStimulation({ ...PARAMS, durationS: 4000 }, NO_PROTOCOL))).toEqual([{"scope":"hard","limit":"sessionMaxMin","field":"durationS","value":4000,"allowed":"<= 3600","unit":"s","source":"docs/CLINICAL.md#session-length","message":"4000 s (66.7 min) is above the 60 min maximum session length [docs/CLINICAL.md#session-length]"},{"scope":"device","limit":"device.maxDurationS","field":"durationS","value":4000,"allowed":"<= 3600","unit":"s","source":"device HELLO","message":"4000 s is above the 3600 s longest duration this device accepts [device HELLO]"}]);
  });
  it("H1 a channel the device does not have", () => {
    expect(refusal(checkStimulation({ ...PARAMS, channel: 5 }, NO_PROTOCOL))).toEqual([{"scope":"device","limit":"device.channels","field":"channel","value":5,"allowed":"<= 4","unit":"","source":"device HELLO","message":"5 is above the 4 highest channel of this device (it has 4) [device HELLO]"}]);
  });
  it("H1 an amplitude that is not a number", () => {
    expect(refusal(checkStimulation({ ...PARAMS, amplitudeMa: Number.NaN }, NO_PROTOCOL))).toEqual([{"scope":"input","limit":"input.amplitudeMa","field":"amplitudeMa","value":Number.NaN,"allowed":">= 0","unit":"mA","source":"input","message":"NaN is not valid: must be a finite number, 0 or more"}]);
  });
  it("H26 a pulse width other than the protocol one", () => {
    expect(refusal(checkStimulation({ ...PARAMS, pulseWidthUs: 260 }, CTX))).toEqual([{"scope":"protocol","limit":"protocol.pulseWidthUs","field":"pulseWidthUs","value":260,"allowed":"= 250","unit":"µs","source":"protocol knee-oa-periosteal, phase 1","message":"260 µs is not the pulse width per phase of the protocol (250 µs) [protocol knee-oa-periosteal, phase 1]"}]);
  });
  it("H12 a duration above the protocol phase", () => {
    expect(refusal(checkStimulation({ ...PARAMS, durationS: 1300 }, CTX))).toEqual([{"scope":"protocol","limit":"protocol.durationS","field":"durationS","value":1300,"allowed":"<= 1200","unit":"s","source":"protocol knee-oa-periosteal, phase 1","message":"1300 s is above the 1200 s duration of the protocol phase [protocol knee-oa-periosteal, phase 1]"}]);
  });
  it("H9 a channel outside the protocol channel set", () => {
    expect(refusal(checkStimulation({ ...PARAMS, channel: 3 }, CTX))).toEqual([{"scope":"protocol","limit":"protocol.channel","field":"channel","value":3,"allowed":"= 1, 2","unit":"","source":"protocol knee-oa-periosteal, phase 1","message":"3 is not the channel set of the protocol (1, 2) [protocol knee-oa-periosteal, phase 1]"}]);
  });
  it("H3 another waveform than the protocol one", () => {
    expect(refusal(checkStimulation({ ...PARAMS, waveform: 'biphasic-asymmetric' }, CTX))).toEqual([{"scope":"protocol","limit":"protocol.waveform","field":"waveform","value":"biphasic-asymmetric","allowed":"= biphasic-symmetric","unit":"","source":"protocol knee-oa-periosteal, phase 1","message":"biphasic-asymmetric is not the waveform of the protocol (biphasic-symmetric) [protocol knee-oa-periosteal, phase 1]"}]);
  });
  it("H26 another pattern than the protocol one", () => {
    expect(refusal(checkStimulation({ ...PARAMS, pattern: { kind: 'continuous', frequencyHz: 4 } }, CTX))).toEqual([{"scope":"protocol","limit":"protocol.pattern","field":"pattern","value":"4 Hz continuous","allowed":"= 2 Hz continuous","unit":"","source":"protocol knee-oa-periosteal, phase 1","message":"4 Hz continuous is not the pattern of the protocol (2 Hz continuous) [protocol knee-oa-periosteal, phase 1]"}]);
  });
  it("H1 an amplitude above the protocol maximum", () => {
    expect(refusal(checkStimulation({ ...PARAMS, amplitudeMa: 11 }, CTX))).toEqual([{"scope":"protocol","limit":"protocol.maxMa","field":"amplitudeMa","value":11,"allowed":"<= 10","unit":"mA","source":"protocol knee-oa-periosteal, phase 1","message":"11 mA is above the 10 mA maximum amplitude of the protocol [protocol knee-oa-periosteal, phase 1]"}]);
  });
});
