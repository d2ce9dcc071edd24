/**
 * Adverse effects a clinician records after a session (issue 14): the kinds that follow dry
 * needling, each with a severity, and free text for "other". Recorded in the session's journal and
 * the course; exported as FHIR AdverseEvent (text only: no verified code is used).
 */
import * as z from 'zod';

export const ADVERSE_EFFECT_KINDS = ['soreness', 'bruising', 'bleeding', 'vasovagal', 'needle-bent', 'other'] as const;
export type AdverseEffectKind = (typeof ADVERSE_EFFECT_KINDS)[number];

export const ADVERSE_EFFECT_TEXT: Readonly<Record<AdverseEffectKind, string>> = Object.freeze({
  soreness: 'soreness',
  bruising: 'bruising',
  bleeding: 'bleeding',
  vasovagal: 'vasovagal reaction',
  'needle-bent': 'needle bent',
  other: 'other',
});

export const SEVERITIES = ['mild', 'moderate', 'severe'] as const;
export type AdverseSeverity = (typeof SEVERITIES)[number];

export const AdverseEffectSchema = z
  .strictObject({
    kind: z.enum(ADVERSE_EFFECT_KINDS, { error: (iss) => `${JSON.stringify(iss.input) ?? 'nothing'} is not an adverse effect; allowed: ${ADVERSE_EFFECT_KINDS.join(', ')}` }),
    severity: z.enum(SEVERITIES, { error: (iss) => `${JSON.stringify(iss.input) ?? 'nothing'} is not a severity; allowed: ${SEVERITIES.join(', ')}` }),
    /** What happened, in words: required for "other". */
    text: z.string().trim().min(1, { error: 'must not be empty' }).max(500, { error: 'must be at most 500 characters' }).optional(),
  })
  .refine((e) => e.kind !== 'other' || e.text !== undefined, { error: 'say what happened (text) for an adverse effect of kind "other"', path: ['text'] });

export type AdverseEffect = z.output<typeof AdverseEffectSchema>;

/** "bruising (mild)", "other: dizziness (moderate)" */
export function describeAdverseEffect(e: AdverseEffect): string {
  const what = e.kind === 'other' ? `other: ${e.text ?? ''}` : `${ADVERSE_EFFECT_TEXT[e.kind]}${e.text ? `: ${e.text}` : ''}`;
  return `${what} (${e.severity})`;
}
