/**
 * The electrode check before output: IMP on every channel the protocol uses. An open circuit, or an
 * impedance outside the band below, blocks the start.
 */
import { ELECTRODE_IMPEDANCE } from '../domain/safety/limits.js';

export interface ElectrodeResult {
  readonly channel: number;
  readonly impedanceOhm: number | 'OPEN';
  readonly ok: boolean;
  /** Why it blocks the start, in words with the next action; absent when ok. */
  readonly reason?: string;
}

/**
 * The highest load the device can drive `maxMa` into without hitting its compliance voltage:
 * above it the current would clip (V = I x R).
 */
export function complianceCeilingOhm(complianceV: number, maxMa: number): number {
  return maxMa > 0 ? (complianceV / maxMa) * 1000 : Infinity;
}

export function judgeElectrode(channel: number, z: number | 'OPEN', complianceV: number, maxMa: number): ElectrodeResult {
  if (z === 'OPEN') {
    return { channel, impedanceOhm: z, ok: false, reason: `Channel ${channel} open circuit: check the clip on the needle, then check again` };
  }
  const { minOhm, maxOhm } = ELECTRODE_IMPEDANCE;
  if (z < minOhm.value) {
    return {
      channel,
      impedanceOhm: z,
      ok: false,
      reason: `Channel ${channel} impedance ${z} ohm is below ${minOhm.value} ohm: the needles or clips may be touching; separate them, then check again`,
    };
  }
  const ceiling = Math.min(maxOhm.value, complianceCeilingOhm(complianceV, maxMa));
  if (z > ceiling) {
    return {
      channel,
      impedanceOhm: z,
      ok: false,
      reason: `Channel ${channel} impedance ${z} ohm is above ${Math.round(ceiling)} ohm (${z > maxOhm.value ? 'poor contact' : `the device cannot drive ${maxMa} mA through it within ${complianceV} V`}): check needle depth and clip, then check again`,
    };
  }
  return { channel, impedanceOhm: z, ok: true };
}
