/**
 * What a session shows: the snapshot (pushed on every change), its channels, alarms, warnings and
 * electrode results, and the live telemetry samples. Each shape is a zod schema, defined once here
 * at the layer that makes them (the runner's snapshot projector builds exactly these objects);
 * the types are inferred, and the app's contract (src/app/contract.ts) re-exports the schemas, so
 * the session and every user interface speak one shape. The objects are strict: a field the
 * schema does not name is refused at the process boundary, so the projector copies only these.
 */
import * as z from 'zod';
import type { Warning } from '../domain/safety/violation.js';
import type { DeviceLimits } from '../domain/stimulation.js';
import type { AlarmPriority } from './alarms.js';
import type { ElectrodeResult } from './electrodes.js';
import { SESSION_STATES } from './states.js';

const range = z.strictObject({ min: z.number(), max: z.number() });

/**
 * The limits a device reports in its HELLO (the domain's DeviceLimits), as the session views, the
 * contract and the journal's start record hold them (one schema for all three).
 */
export const DeviceLimitsSchema = z.strictObject({
  /** Channels are numbered 1..channels; the protocol format has at most 8. */
  channels: z.number().int().min(1).max(8),
  frequencyHz: range,
  pulseWidthUs: range,
  amplitudeMa: range,
  maxChargePerPhaseUc: z.number(),
  maxDurationS: z.number(),
  complianceV: z.number(),
  watchdogMs: z.number(),
});

/** The connected device, as the session shows it. */
export const DeviceSchema = z.strictObject({
  transport: z.string(),
  model: z.string(),
  firmware: z.string(),
  serial: z.string(),
  bootId: z.string(),
  limits: DeviceLimitsSchema,
});
export type DeviceView = z.infer<typeof DeviceSchema>;

const impedance = z.union([z.number(), z.literal('OPEN')]);

export const ChannelViewSchema = z.strictObject({
  channel: z.number(),
  region: z.string(),
  side: z.string(),
  sites: z.array(z.string()),
  /** What the clinician asked for. */
  targetMa: z.number(),
  /** The last amplitude the device acknowledged. */
  commandedMa: z.number(),
  /** What the device measures (TEL), or null before any telemetry. */
  measuredMa: z.number().nullable(),
  impedance: impedance.nullable(),
  /** Output on at the device (started and not stopped). */
  on: z.boolean(),
  maxMa: z.number(),
  /** Charge delivered in the cathodic phases on this channel this session, µC. */
  deliveredUc: z.number(),
});
export type ChannelView = z.infer<typeof ChannelViewSchema>;

/** Alarm priorities (after IEC 60601-1-8), highest first; the type is alarms.ts's `AlarmPriority`. */
export const ALARM_PRIORITIES = ['high', 'medium', 'low'] as const satisfies readonly AlarmPriority[];

/** An alarm (after IEC 60601-1-8): it names the cause and the next action, and stays until acknowledged. */
export const AlarmSchema = z.strictObject({
  id: z.string(),
  priority: z.enum(ALARM_PRIORITIES),
  cause: z.string(),
  action: z.string(),
  atMs: z.number(),
  channel: z.number().optional(),
});
export type Alarm = z.infer<typeof AlarmSchema>;

/** A guard warning (src/domain/safety/violation.ts `Warning`), as shown. */
export const WarningSchema = z.strictObject({
  limit: z.string(),
  field: z.string(),
  value: z.number(),
  threshold: z.number(),
  unit: z.string(),
  source: z.string(),
  message: z.string(),
});

/** An electrode check (src/session/electrodes.ts `ElectrodeResult`), as shown. */
export const ElectrodeResultSchema = z.strictObject({
  channel: z.number(),
  impedanceOhm: impedance,
  ok: z.boolean(),
  reason: z.string().optional(),
});

/** Everything a UI shows about the session, pushed on every change. */
export const SnapshotSchema = z.strictObject({
  state: z.enum(SESSION_STATES),
  /** Why the state is what it is, in words (set on stops, aborts and refusals). */
  reason: z.string().optional(),
  latched: z.boolean(),
  device: DeviceSchema.optional(),
  protocol: z.strictObject({ id: z.string(), name: z.string(), hash: z.string() }).optional(),
  sessionId: z.string().optional(),
  journal: z.string().optional(),
  phase: z
    .strictObject({ index: z.number(), count: z.number(), name: z.string(), elapsedS: z.number(), durationS: z.number(), frequencyHz: z.number() })
    .optional(),
  /** Stimulation time of the whole session: elapsed and total, s. */
  elapsedS: z.number(),
  totalS: z.number(),
  channels: z.array(ChannelViewSchema),
  electrodes: z.array(ElectrodeResultSchema),
  warnings: z.array(WarningSchema),
  /** Unacknowledged alarms, highest priority first. */
  alarms: z.array(AlarmSchema),
});
export type SessionSnapshot = z.infer<typeof SnapshotSchema>;

/** One channel's telemetry sample, for live charts. */
export const TelemetrySchema = z.strictObject({
  atMs: z.number(),
  channel: z.number(),
  measuredMa: z.number(),
  commandedMa: z.number(),
  targetMa: z.number(),
  impedance,
});
export type TelemetrySample = z.infer<typeof TelemetrySchema>;

// The domain's own types and the shown shapes must stay the same (checked by the compiler).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _limitsMatch: Same<z.infer<typeof DeviceLimitsSchema>, DeviceLimits> = true;
const _warningsMatch: Same<z.infer<typeof WarningSchema>, Warning> = true;
const _electrodesFit: ElectrodeResult extends z.infer<typeof ElectrodeResultSchema> ? true : false = true;
const _prioritiesMatch: Same<Alarm['priority'], AlarmPriority> = true;
void _limitsMatch;
void _warningsMatch;
void _electrodesFit;
void _prioritiesMatch;
