/**
 * The device's HELLO reply, turned into its identity and its limits in domain units, and checked:
 * a device whose limits are missing (the codec refuses the reply then) or unsafe is refused.
 */
import type { HelloReply } from '../../firmware-protocol/index.js';
import { HARD_LIMITS } from '../domain/safety/limits.js';
import type { DeviceLimits } from '../domain/stimulation.js';
import { type DeviceError, type Result, err, ok } from './errors.js';

export interface DeviceInfo {
  readonly protocolVersion: number;
  readonly model: string;
  readonly firmware: string;
  readonly serial: string;
  /** Changes at every device start; a change mid-session means the device rebooted. */
  readonly bootId: string;
  readonly channels: number;
  /** The device's own compiled limits, for the guard. */
  readonly limits: DeviceLimits;
  /** The reply exactly as received, for the journal. */
  readonly hello: HelloReply;
}

export function deviceInfoFromHello(h: HelloReply, accepted: { min: number; max: number }): Result<DeviceInfo> {
  const refuse = (detail: string): { ok: false; error: DeviceError } => err({ code: 'HandshakeRefused', detail });
  if (h.proto < accepted.min || h.proto > accepted.max) {
    return refuse(`the device chose protocol version ${h.proto}, outside the accepted ${accepted.min}..${accepted.max}`);
  }
  const ranges: [string, number, number][] = [
    ['frequency (fmin/fmax)', h.fmin, h.fmax],
    ['pulse width (pwmin/pwmax)', h.pwmin, h.pwmax],
    ['amplitude (amin/amax)', h.amin, h.amax],
  ];
  for (const [what, lo, hi] of ranges) {
    if (lo > hi) return refuse(`its ${what} range is empty (${lo} > ${hi})`);
  }
  // The host relies on the device switching output off within the watchdog window after the
  // host goes quiet [docs/CLINICAL.md#loss-of-host]; a longer device window is not safe to run.
  if (h.wdog > HARD_LIMITS.watchdogMaxMs.value) {
    return refuse(`its watchdog window is ${h.wdog} ms; at most ${HARD_LIMITS.watchdogMaxMs.value} ms is required [${HARD_LIMITS.watchdogMaxMs.source}]`);
  }
  if (h.vc > HARD_LIMITS.complianceMaxV.value) {
    return refuse(`its compliance voltage is ${h.vc} V; the ceiling is ${HARD_LIMITS.complianceMaxV.value} V [${HARD_LIMITS.complianceMaxV.source}]`);
  }
  const limits: DeviceLimits = {
    channels: h.ch,
    frequencyHz: { min: h.fmin / 1000, max: h.fmax / 1000 },
    pulseWidthUs: { min: h.pwmin, max: h.pwmax },
    amplitudeMa: { min: h.amin / 1000, max: h.amax / 1000 },
    maxChargePerPhaseUc: h.qmax / 1000,
    maxDurationS: h.tmax,
    complianceV: h.vc,
    watchdogMs: h.wdog,
  };
  return ok({
    protocolVersion: h.proto,
    model: h.model,
    firmware: h.fw,
    serial: h.sn,
    bootId: h.boot,
    channels: h.ch,
    limits,
    hello: h,
  });
}
