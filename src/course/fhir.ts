/**
 * The course as a FHIR R4 Bundle (type "collection", JSON) for exchange with other systems:
 *   - one Patient with only the pseudonymous identifier (no name, birth date, contact or gender);
 *   - one Procedure per session: status, performed period, the body sites (text, "right knee: ...",
 *     with the side treated coded as its laterality: SNOMED CT 7771000 left, 24028007 right, in the
 *     R4 laterality qualifier extension), the indication as reason, and the device and protocol
 *     (id, name, content hash) as notes;
 *   - one Observation per NPRS recording, coded LOINC 72514-3, and one per other score (text only:
 *     no code is used that was not verified), each part of its session's Procedure;
 *   - one AdverseEvent per adverse effect, with its severity from FHIR's own code system.
 * Codes: only LOINC 72514-3 (NPRS), FHIR's observation-category "survey" and adverse-event-severity,
 * and the SNOMED CT laterality qualifier values (checked against HL7's value set, treated-side.ts);
 * no SNOMED CT code was verified for electrical dry needling or the body sites, so those are text.
 * Resource ids are UUIDs derived from the course and session ids, so an export is reproducible.
 */
import { createHash } from 'node:crypto';
import { ADVERSE_EFFECT_TEXT } from '../domain/outcomes/adverse.js';
import { SNOMED_LATERALITY, sidedRegionText } from '../domain/protocols/treated-side.js';
import type { InstrumentLibrary } from './instruments.js';
import type { CourseReport, CourseReportSession } from './report.js';

/** The identifier system of the pseudonymous patient reference. */
export const PATIENT_REF_SYSTEM = 'urn:edn-controller:patient-ref';
export const COURSE_ID_SYSTEM = 'urn:edn-controller:course-id';
export const SESSION_ID_SYSTEM = 'urn:edn-controller:session-id';

type Json = Record<string, unknown>;

/** A UUID (version 8, RFC 9562: name-based, vendor-defined) from the SHA-256 of `name`. */
export function uuidFor(name: string): string {
  const h = createHash('sha256').update(name).digest('hex').split('');
  h[12] = '8';
  h[16] = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

const PROCEDURE_STATUS: Readonly<Record<string, string>> = { completed: 'completed', stopped: 'stopped', aborted: 'stopped' };

function siteText(site: CourseReportSession['sites'][number]): string {
  return `${sidedRegionText(site.region, site.side)}: ${site.sites.join(', ')}`;
}

/**
 * R4's Procedure.bodySite is a CodeableConcept with no laterality of its own: the laterality
 * qualifier extension published for R4 (mCODE, context Procedure.bodySite) carries it, coded with
 * the SNOMED CT qualifier values of HL7's laterality value set (treated-side.ts SNOMED_LATERALITY).
 * Only a side the clinician chose (left or right) is coded; a midline site or a journal without a
 * chosen side has none.
 */
export const LATERALITY_EXTENSION_URL = 'http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-laterality-qualifier';

function bodySite(site: CourseReportSession['sites'][number]): Json {
  const coded = site.side === 'left' || site.side === 'right' ? SNOMED_LATERALITY[site.side] : undefined;
  return {
    ...(coded
      ? { extension: [{ url: LATERALITY_EXTENSION_URL, valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: coded.code, display: coded.display }], text: site.side } }] }
      : {}),
    text: siteText(site),
  };
}

export function renderCourseFhir(r: CourseReport, instruments: InstrumentLibrary): Json {
  const patientUrl = `urn:uuid:${uuidFor(`patient:${r.patientRef}`)}`;
  const subject = { reference: patientUrl };
  const entries: { fullUrl: string; resource: Json }[] = [
    { fullUrl: patientUrl, resource: { resourceType: 'Patient', identifier: [{ system: PATIENT_REF_SYSTEM, value: r.patientRef }] } },
  ];
  for (const s of r.sessions) {
    const procUrl = `urn:uuid:${uuidFor(`procedure:${r.course.id}:${s.sessionId}`)}`;
    const period: Json = {};
    if (s.startedAt) period['start'] = s.startedAt;
    if (s.endedAt) period['end'] = s.endedAt;
    const notes = [
      `Course ${r.course.id}, session ${s.number} of ${r.course.plannedSessions}.`,
      `Protocol: ${r.course.protocol.name} (${s.protocolId}, content sha256 ${s.protocolHash}).`,
      ...(s.device ? [`Device: ${s.device}.`] : []),
      ...(s.stimulationS === null ? [] : [`Stimulation time: ${s.stimulationS} s.`]),
      ...s.channels.map((c) => `Channel ${c.channel}: max ${c.maxMa ?? 'n/a'} mA, mean ${c.meanMa ?? 'n/a'} mA, delivered charge ${c.chargeUc ?? 'n/a'} µC (${c.basis}).`),
      ...(s.stops.length > 0 ? [`Stops and alarms: ${s.stops.join('; ')}.`] : []),
      ...(s.endReason === null ? ['The session has no recorded end (cut short).'] : s.endDetail ? [`Ended: ${s.endReason} (${s.endDetail}).`] : []),
    ];
    entries.push({
      fullUrl: procUrl,
      resource: {
        resourceType: 'Procedure',
        identifier: [{ system: SESSION_ID_SYSTEM, value: s.sessionId }],
        status: s.endReason === null ? 'unknown' : (PROCEDURE_STATUS[s.endReason] ?? 'unknown'),
        code: { text: 'Electrical dry needling' },
        subject,
        ...(Object.keys(period).length > 0 ? { performedPeriod: period } : {}),
        reasonCode: [{ text: r.course.indication }],
        ...(s.sites.length > 0 ? { bodySite: s.sites.map(bodySite) } : {}),
        note: notes.map((text) => ({ text })),
      },
    });
    for (const o of s.outcomes) {
      const ins = instruments.get(o.instrumentId);
      for (const score of o.scores) {
        const def = ins?.scores.find((x) => x.id === score.id);
        const coding = (def?.codes ?? []).map((c) => ({ system: c.system, code: c.code, display: c.display }));
        const label = `${o.instrumentName} (${o.instrumentVersion})${o.scores.length > 1 ? `: ${score.name}` : ''}, ${o.timepoint === 'milestone' ? 'course milestone' : `${o.timepoint} the session`}`;
        const integer = Number.isInteger(score.value) && (def?.step ?? 1) >= 1 && score.unit === 'points';
        entries.push({
          fullUrl: `urn:uuid:${uuidFor(`observation:${r.course.id}:${s.sessionId}:${o.recordedAt}:${o.instrumentId}:${score.id}:${o.timepoint}`)}`,
          resource: {
            resourceType: 'Observation',
            status: 'final',
            category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'survey', display: 'Survey' }] }],
            code: { ...(coding.length > 0 ? { coding } : {}), text: label },
            subject,
            effectiveDateTime: o.recordedAt,
            partOf: [{ reference: procUrl }],
            ...(integer ? { valueInteger: score.value } : { valueQuantity: { value: score.value, unit: score.unit } }),
            ...(o.items
              ? { component: o.items.map((it) => ({ code: { text: `Activity: ${it.activity}` }, valueQuantity: { value: it.rating, unit: 'points' } })) }
              : {}),
          },
        });
      }
    }
    (s.adverseEffectsRaw ?? []).forEach((a, i) => {
      entries.push({
        fullUrl: `urn:uuid:${uuidFor(`adverse:${r.course.id}:${s.sessionId}:${i}`)}`,
        resource: {
          resourceType: 'AdverseEvent',
          actuality: 'actual',
          event: { text: a.kind === 'other' ? (a.text ?? 'other') : `${ADVERSE_EFFECT_TEXT[a.kind]}${a.text ? `: ${a.text}` : ''}` },
          subject,
          ...(s.endedAt ?? s.startedAt ? { date: s.endedAt ?? s.startedAt } : {}),
          severity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/adverse-event-severity', code: a.severity }], text: a.severity },
          suspectEntity: [{ instance: { reference: procUrl } }],
        },
      });
    });
  }
  return {
    resourceType: 'Bundle',
    identifier: { system: COURSE_ID_SYSTEM, value: r.course.id },
    type: 'collection',
    timestamp: r.generatedAt,
    entry: entries,
  };
}
