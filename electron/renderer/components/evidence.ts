/**
 * A protocol's evidence in words (the core's `protocolEvidence`, carried by the contract): one line
 * per source and status, "Frequency 2 Hz, pulse width 250 µs per phase, ...: defaults you confirm;
 * not verified against DUNNING2018KNEE", with an icon and a colour that repeat what the words say.
 * Used by the library card, the editor and the start dialog, so all three say the same.
 */
import type { Evidence } from '../../../src/app/contract.js';
import { h, svgIcon } from '../dom.js';

type Group = Evidence['groups'][number];

/**
 * One line for one group: verified by the library (check), the author's claim in a user protocol
 * (info, never the check), or a default the clinician confirms (warning).
 */
export function evidenceLine(group: Group): HTMLElement {
  const look = group.status === 'verified' ? ['verified', 'check'] : group.status === 'claimed' ? ['claimed', 'info'] : ['unverified', 'warning'];
  return h('p', { class: `evidence ${look[0]}` }, svgIcon(look[1] as 'check' | 'info' | 'warning'), h('span', {}, `${group.text}.`));
}

/** The lines of one source's groups (`source` given), or of the values no source marks (`source` undefined). */
export function evidenceLines(evidence: Evidence, source: string | undefined): HTMLElement[] {
  return evidence.groups.filter((g) => g.source === source).map(evidenceLine);
}

/** Every line: each source's groups in order, then the unmarked values. */
export function allEvidenceLines(evidence: Evidence): HTMLElement[] {
  return evidence.groups.map(evidenceLine);
}
