/**
 * The treated side: a protocol's `affected` channels are placed on the side chosen for the patient
 * at the session (the painful knee), asked before the electrode check and never assumed. This file
 * is THE place for that rule: which choices a protocol allows, how a choice resolves each channel's
 * side, and the words for it (the session, the journal, the report and the course export read it
 * from here).
 *
 * Bilateral: the same sites on both sides need a channel for each side. A protocol allows
 * "bilateral" only when it says so (`bilateral: true`) and its `affected` channels come in two
 * equal halves, the second half repeating the first half's regions and sites in order: the first
 * half goes on the left, the second on the right. A protocol whose channels cannot cover both
 * sides (the built-ins: two or four channels, each with its own sites) does not allow it; the
 * schema refuses `bilateral: true` there (bilateralProblem).
 *
 * Pure: no I/O, no Node imports.
 */
import type { Side } from './sites.js';

/** What the clinician chooses for a protocol with `affected` channels. */
export const TREATED_SIDES = ['left', 'right', 'bilateral'] as const;
export type TreatedSide = (typeof TREATED_SIDES)[number];

/** The side a channel is on once the choice is made: never `affected`. */
export type ResolvedSide = Exclude<Side, 'affected'>;

interface SidedChannel {
  readonly region: string;
  readonly side: string;
  readonly sites: readonly unknown[];
}

/** Does the protocol have a channel on the affected side (so the session asks which side)? */
export function hasAffectedSites(protocol: { readonly channels: readonly { readonly side: string }[] }): boolean {
  return protocol.channels.some((c) => c.side === 'affected');
}

/** The sides the session offers for this protocol: [] when its sides are fixed. */
export function sideChoices(protocol: { readonly bilateral?: boolean | undefined; readonly channels: readonly { readonly side: string }[] }): TreatedSide[] {
  if (!hasAffectedSites(protocol)) return [];
  return protocol.bilateral === true ? ['left', 'right', 'bilateral'] : ['left', 'right'];
}

/**
 * Why `bilateral: true` cannot hold for these channels, or undefined when it can: the affected
 * channels must split into a left half and a right half with the same regions and sites.
 */
export function bilateralProblem(channels: readonly SidedChannel[]): string | undefined {
  const affected = channels.filter((c) => c.side === 'affected');
  if (affected.length === 0) return 'no channel is on the "affected" side, so there is no side to choose: remove "bilateral" or set a channel\'s side to "affected"';
  if (affected.length % 2 !== 0) {
    return `bilateral needs a channel for each side: the ${affected.length} "affected" channel${affected.length === 1 ? '' : 's'} cannot be split into a left and a right half (the first half goes on the left, the second half repeats its sites on the right)`;
  }
  const half = affected.length / 2;
  for (let i = 0; i < half; i++) {
    const left = affected[i]!;
    const right = affected[i + half]!;
    if (left.region !== right.region || JSON.stringify(left.sites) !== JSON.stringify(right.sites)) {
      return `bilateral needs the same sites on both sides: the affected channel ${i + half + 1} (right side) must repeat the region and sites of affected channel ${i + 1} (left side)`;
    }
  }
  return undefined;
}

/** A refused side choice: SIDE_REQUIRED (none given, one is needed) or SIDE_NOT_ALLOWED. */
export interface SideChoiceProblem {
  readonly code: 'SIDE_REQUIRED' | 'SIDE_NOT_ALLOWED';
  readonly message: string;
}

/**
 * Is this choice right for this protocol? A protocol with `affected` channels needs one (left,
 * right, or bilateral when it allows it); a protocol without any takes none (its sides are fixed).
 */
export function sideChoiceProblem(
  protocol: { readonly id: string; readonly bilateral?: boolean | undefined; readonly channels: readonly { readonly side: string }[] },
  side: TreatedSide | undefined,
): SideChoiceProblem | undefined {
  const affected = hasAffectedSites(protocol);
  const choices = protocol.bilateral === true ? 'left, right or bilateral' : 'left or right';
  if (affected && side === undefined) {
    return { code: 'SIDE_REQUIRED', message: `protocol "${protocol.id}" treats the affected side: choose the treated side (${choices}) before the electrode check` };
  }
  if (!affected && side !== undefined) {
    return { code: 'SIDE_NOT_ALLOWED', message: `protocol "${protocol.id}" has no channel on the affected side (its sides are fixed): do not give a treated side ("${side}")` };
  }
  if (side === 'bilateral' && protocol.bilateral !== true) {
    return {
      code: 'SIDE_NOT_ALLOWED',
      message: `protocol "${protocol.id}" does not allow bilateral treatment (it has no channel for each side of the same sites): choose left or right`,
    };
  }
  return undefined;
}

/**
 * Each channel's side once the choice is made, in channel order: `affected` becomes the chosen
 * side (bilateral: the first half of the affected channels left, the second half right); the
 * other sides stay. Without a choice (an old journal, a protocol with fixed sides) nothing changes.
 */
export function resolveSides<C extends { readonly side: string }>(channels: readonly C[], side: TreatedSide | null | undefined): string[] {
  if (side === undefined || side === null) return channels.map((c) => c.side);
  const affectedCount = channels.filter((c) => c.side === 'affected').length;
  let k = 0;
  return channels.map((c) => {
    if (c.side !== 'affected') return c.side;
    const index = k++;
    if (side !== 'bilateral') return side;
    return index < affectedCount / 2 ? 'left' : 'right';
  });
}

/** A region in words: "knee", "low back", "ankle or foot". */
export function regionText(region: string): string {
  return region === 'ankle-foot' ? 'ankle or foot' : region === 'forearm-hand' ? 'forearm or hand' : region.replace(/-/g, ' ');
}

/** "right knee", "left ankle or foot", "low back (midline)", "knee (affected side)". */
export function sidedRegionText(region: string, side: string): string {
  const r = regionText(region);
  if (side === 'left' || side === 'right') return `${side} ${r}`;
  if (side === 'affected') return `${r} (affected side)`;
  return `${r} (${side})`;
}

/** The choice in words: "left", "right", "both sides (bilateral)". */
export function treatedSideText(side: TreatedSide): string {
  return side === 'bilateral' ? 'both sides (bilateral)' : side;
}

/**
 * SNOMED CT laterality qualifier values, as HL7 FHIR's ValueSet bodystructure-laterality lists them
 * (http://hl7.org/fhir/ValueSet/bodystructure-laterality, expansion on SNOMED CT International
 * edition 2025-02-01): 7771000 Left, 24028007 Right, 51440002 Right and left (bilateral).
 */
export const SNOMED_LATERALITY: Readonly<Record<TreatedSide, { readonly code: string; readonly display: string }>> = Object.freeze({
  left: Object.freeze({ code: '7771000', display: 'Left (qualifier value)' }),
  right: Object.freeze({ code: '24028007', display: 'Right (qualifier value)' }),
  bilateral: Object.freeze({ code: '51440002', display: 'Right and left (qualifier value)' }),
});
export const SNOMED_LATERALITY_SOURCE = 'HL7 FHIR ValueSet bodystructure-laterality (http://hl7.org/fhir/ValueSet/bodystructure-laterality)';
