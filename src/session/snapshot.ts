/**
 * The snapshot projector: the session's state, as the views in views.ts. A pure function of what
 * the runner holds, so every field can be checked without a device. It copies exactly the fields
 * the (strict) schemas name: a domain object with more fields (a future DeviceLimits, a guard
 * warning) cannot leak into the views and be refused at the process boundary.
 */
import type { Protocol } from '../domain/protocols/derive.js';
import type { Warning } from '../domain/safety/violation.js';
import type { DeviceInfo } from '../device/identity.js';
import type { SessionClock } from './clock.js';
import type { ElectrodeResult } from './electrodes.js';
import { currentFrequencyHz, phaseDurationMs, totalDurationMs } from './plan.js';
import type { SessionState } from './states.js';
import type { Alarm, ChannelView, DeviceView, SessionSnapshot } from './views.js';

/** One channel as the runner holds it (the fields the view shows). */
export interface ProjectedChannel {
  readonly channel: number;
  readonly region: string;
  readonly side: string;
  readonly sites: readonly string[];
  readonly targetMa: number;
  /** The last amplitude the device acknowledged, or undefined when none (off). */
  readonly commandedMa: number | undefined;
  readonly measuredMa: number | null;
  readonly impedance: number | 'OPEN' | null;
  readonly on: boolean;
  readonly deliveredUc: number;
}

export interface ProjectorInput {
  readonly state: SessionState;
  readonly reason: string | undefined;
  readonly latched: boolean;
  readonly transport: string;
  readonly device: DeviceInfo | undefined;
  readonly protocol: Protocol | undefined;
  readonly sessionId: string | undefined;
  readonly journal: string | undefined;
  readonly clock: Pick<SessionClock, 'phaseIndex' | 'phaseElapsedMs' | 'elapsedMs'>;
  readonly channels: readonly ProjectedChannel[];
  readonly electrodes: readonly ElectrodeResult[];
  readonly warnings: readonly Warning[];
  readonly alarms: readonly Alarm[];
}

export function projectSnapshot(s: ProjectorInput): SessionSnapshot {
  const protocol = s.protocol;
  const phase = protocol?.phases[s.clock.phaseIndex];
  const phaseElapsed = s.clock.phaseElapsedMs();
  return {
    state: s.state,
    ...(s.reason === undefined ? {} : { reason: s.reason }),
    latched: s.latched,
    ...(s.device ? { device: deviceView(s.transport, s.device) } : {}),
    ...(protocol ? { protocol: { id: protocol.id, name: protocol.name, hash: protocol.hash } } : {}),
    ...(s.sessionId === undefined ? {} : { sessionId: s.sessionId }),
    ...(s.journal === undefined ? {} : { journal: s.journal }),
    ...(protocol && phase
      ? {
          phase: {
            index: s.clock.phaseIndex,
            count: protocol.phases.length,
            name: phase.name,
            elapsedS: phaseElapsed / 1000,
            durationS: phaseDurationMs(phase) / 1000,
            frequencyHz: currentFrequencyHz(phase.pattern, phaseElapsed),
          },
        }
      : {}),
    elapsedS: s.clock.elapsedMs() / 1000,
    totalS: protocol ? totalDurationMs(protocol) / 1000 : 0,
    channels: s.channels.map((c): ChannelView => ({
      channel: c.channel,
      region: c.region,
      side: c.side,
      sites: [...c.sites],
      targetMa: c.targetMa,
      commandedMa: c.commandedMa ?? 0,
      measuredMa: c.measuredMa,
      impedance: c.impedance,
      on: c.on,
      maxMa: phase?.amplitude.maxMa ?? 0,
      deliveredUc: c.deliveredUc,
    })),
    electrodes: s.electrodes.map((e) => ({ channel: e.channel, impedanceOhm: e.impedanceOhm, ok: e.ok, ...(e.reason === undefined ? {} : { reason: e.reason }) })),
    warnings: s.warnings.map((w) => ({ limit: w.limit, field: w.field, value: w.value, threshold: w.threshold, unit: w.unit, source: w.source, message: w.message })),
    alarms: s.alarms.map((a) => ({ id: a.id, priority: a.priority, cause: a.cause, action: a.action, atMs: a.atMs, ...(a.channel === undefined ? {} : { channel: a.channel }) })),
  };
}

function deviceView(transport: string, d: DeviceInfo): DeviceView {
  const l = d.limits;
  return {
    transport,
    model: d.model,
    firmware: d.firmware,
    serial: d.serial,
    bootId: d.bootId,
    limits: {
      channels: l.channels,
      frequencyHz: { min: l.frequencyHz.min, max: l.frequencyHz.max },
      pulseWidthUs: { min: l.pulseWidthUs.min, max: l.pulseWidthUs.max },
      amplitudeMa: { min: l.amplitudeMa.min, max: l.amplitudeMa.max },
      maxChargePerPhaseUc: l.maxChargePerPhaseUc,
      maxDurationS: l.maxDurationS,
      complianceV: l.complianceV,
      watchdogMs: l.watchdogMs,
    },
  };
}
