/**
 * Short protocols for real-time session tests, derived from the built-in knee protocol, and the
 * screening answers that clear (or block) a patient for them.
 *
 * The derived protocol is validated like any user's file (validateProtocol), so it has its own
 * content hash: a screening must be evaluated for it (a clearance for the built-in knee protocol
 * does not cover it). The fields changed here are no longer the source's figures, so their paths
 * are taken out of the knee source's `unverified` list.
 */
import type { Protocol } from '../../src/domain/protocols/derive.js';
import { BUILT_IN_FILES } from '../../src/domain/protocols/library/index.js';
import { formatProtocolError, validateProtocol } from '../../src/domain/protocols/validate.js';
import { type ScreeningAnswers, screeningTemplate } from '../../src/domain/screening.js';

export interface ShortProtocolOptions {
  /** Protocol id. Default 'knee-oa-short'. */
  readonly id?: string;
  /** Stimulation time, minutes (whole seconds). Default 0.1 (6 s). */
  readonly durationMin?: number;
  /** Phase maximum, mA. Default 2. */
  readonly maxMa?: number;
  /** Ramp, mA/s. Default 1 (the ceiling): a 1 mA target is reached in 1 s. */
  readonly rampMaPerS?: number;
}

interface KneeFile {
  id: string;
  name: string;
  description: string;
  sources: { unverified: string[] }[];
  phases: { name: string; durationMin: number; amplitude: { maxMa: number; rampMaPerS: number } }[];
}

/** The protocol file (JSON value) of a short knee protocol. */
export function shortProtocolFile(options: ShortProtocolOptions = {}): Record<string, unknown> {
  const file = structuredClone(BUILT_IN_FILES['knee-oa-periosteal.json']) as KneeFile;
  const durationMin = options.durationMin ?? 0.1;
  file.id = options.id ?? 'knee-oa-short';
  file.name = `Periosteal EDN for knee osteoarthritis, ${Math.round(durationMin * 60)} s bench test`;
  file.description = 'A short copy of the built-in knee protocol for integration tests on real time.';
  const phase = file.phases[0]!;
  phase.durationMin = durationMin;
  phase.amplitude.maxMa = options.maxMa ?? 2;
  phase.amplitude.rampMaPerS = options.rampMaPerS ?? 1;
  const changed = new Set(['phases[0].durationMin', 'phases[0].amplitude.maxMa', 'phases[0].amplitude.rampMaPerS']);
  for (const source of file.sources) source.unverified = source.unverified.filter((p) => !changed.has(p));
  return file as unknown as Record<string, unknown>;
}

/** The validated short protocol (throws, naming every error, if it does not validate). */
export function shortProtocol(options: ShortProtocolOptions = {}): Protocol {
  const v = validateProtocol(shortProtocolFile(options));
  if (!v.ok) throw new Error(`the short protocol does not validate:\n${v.errors.map(formatProtocolError).join('\n')}`);
  return v.protocol;
}

/**
 * Screening answers for `protocol`: every question answered "no", unless `yes` names patient
 * questions answered "yes" (e.g. `['implantedElectronicDevice']`, which blocks).
 */
export function screeningAnswers(protocol: Protocol, patientRef: string, yes: readonly string[] = []): ScreeningAnswers {
  const template = screeningTemplate(protocol);
  const answer = <T extends Record<string, unknown>>(o: T): T =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? yes.includes(k) : v])) as T;
  return { ...template, patientRef, answers: answer(template.answers), sites: template.sites.map(answer) };
}

/** One phase of `kneePhases`: its name, minutes and maximum (the ramp is 1 mA/s). */
export interface KneePhase {
  readonly name: string;
  readonly durationMin: number;
  readonly maxMa: number;
}

/** The built-in knee protocol with its one phase replaced by `phases` (validated like a user's file). */
export function kneePhases(phases: readonly KneePhase[]): Protocol {
  const file = structuredClone(BUILT_IN_FILES['knee-oa-periosteal.json']) as { phases: Record<string, unknown>[]; sources: { unverified: string[] }[] };
  for (const src of file.sources) src.unverified = src.unverified.filter((u) => !u.startsWith('phases'));
  const base = file.phases[0]!;
  file.phases = phases.map((p) => structuredClone({ ...base, name: p.name, durationMin: p.durationMin, amplitude: { maxMa: p.maxMa, rampMaPerS: 1 } }));
  const v = validateProtocol(file);
  if (!v.ok) throw new Error(v.errors.map(formatProtocolError).join('\n'));
  return v.protocol;
}
