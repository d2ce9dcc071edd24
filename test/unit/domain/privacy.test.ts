// The privacy checker (issue 9 item 11): identifying text in notes, and the clinic's rule for
// patient references.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PATIENT_REF_RULE, checkPatientRef, findIdentifying, notePrivacyProblem, patientRefRule } from '../../../src/domain/privacy.js';

describe('H27 identifying text in notes', () => {
  it.each([
    ['call 07700 900123 tomorrow', 'phone', '07700 900123'],
    ['mobile +44 7700 900123', 'phone', '+44 7700 900123'],
    ['(555) 123-4567 after 5', 'phone', '(555) 123-4567'],
    ['555.123.4567', 'phone', '555.123.4567'],
    ['ring 555-1234', 'phone', '555-1234'],
    ['tel 0', 'phone', 'tel 0'],
    ['mary.jones@example.org asked', 'email', 'mary.jones@example.org'],
    ['DOB 12/03/1955', 'date', 'DOB'],
    ['seen on 12/03/1955', 'date', '12/03/1955'],
    ['3.12.55', 'date', '3.12.55'],
    ['1955-03-12', 'date', '1955-03-12'],
    ['born 19550312', 'date', 'born'],
    ['id 12031955', 'date', '12031955'],
    ['12th March 1955', 'date', '12th March 1955'],
    ['March 12, 1955', 'date', 'March 12, 1955'],
    ['Mrs Jones prefers the left', 'name', 'Mrs Jones'],
    ['per Dr. Patel', 'name', 'Dr. Patel'],
    ['name: Bob', 'name', 'name: Bob'],
  ])('%s: %s', (text, kind, found) => {
    expect(findIdentifying(text)[0]).toMatchObject({ kind, text: found });
    expect(notePrivacyProblem(text)).toContain(`"${found}" at character ${text.indexOf(found) + 1}`);
  });

  it.each([
    'Strong but comfortable at 1.5 mA',
    'raised 1.0 1.5 2.0 2.5 3.0 mA over 20 min',
    'VAS 7/10 before, 3/10 after',
    '2 Hz, 250 us, 20 min; channel 2 twitching',
    'pain may ease in 24-48 h',
    'BP 120/80, HR 72',
    'needles 0.30 x 40 mm, 4 of them',
    'left knee worse since 2019',
    'session 3 of 6',
  ])('%s: nothing identifying', (text) => {
    expect(findIdentifying(text)).toEqual([]);
    expect(notePrivacyProblem(text)).toBeUndefined();
  });

  it('says what was found and where', () => {
    expect(notePrivacyProblem('ok. Mrs Jones: 07700 900123')).toMatch(/^the note contains what looks like a name, "Mrs Jones" at character 5; a phone number, "07700 900123" at character 16: session records must not identify the patient/);
  });

  it('finds any phone number of 9-13 digits written in groups (property)', () => {
    const groups = fc.array(fc.stringMatching(/^[0-9]{2,4}$/), { minLength: 3, maxLength: 4 });
    fc.assert(
      fc.property(groups, fc.constantFrom(' ', '-', ''), fc.constantFrom('call ', 'on ', '', 'ring '), (g, sep, prefix) => {
        const number = g.join(sep);
        fc.pre(number.replace(/\D/g, '').length >= 9);
        expect(findIdentifying(`${prefix}${number} please`).some((f) => f.kind === 'phone' || f.kind === 'date')).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('H27 patient references', () => {
  it('by default: a short code, a dash and a few digits', () => {
    expect(DEFAULT_PATIENT_REF_RULE.pattern.source).toBe('^[A-Z]{1,4}-[0-9]{1,6}$');
    expect(checkPatientRef('PT-0042')).toBeUndefined();
    expect(checkPatientRef('PT-0042 ')).toContain('not a pseudonymous reference');
  });

  it('takes a clinic rule only when it is anchored, safe to run, refuses names and has a valid example', () => {
    expect(patientRefRule({ pattern: '^KNEE-[0-9]{4}$', example: 'KNEE-0042' }).ok).toBe(true);
    expect(patientRefRule(undefined)).toEqual({ ok: true, rule: DEFAULT_PATIENT_REF_RULE });
    const refused = (pattern: string, example = 'AB-0001') => {
      const r = patientRefRule({ pattern, example });
      return r.ok ? 'accepted' : r.message;
    };
    expect(refused('KNEE-[0-9]{4}')).toContain('start it with ^ and end it with $');
    expect(refused('^([A-Z]+-?)+[0-9]+$')).toContain('repeats a group that itself repeats');
    expect(refused('^[A-Z]{2}-[0-9]{4')).toContain('must match the whole reference');
    expect(refused('^[A-Z]{2}-([0-9]{4}$')).toContain('is not a regular expression');
    expect(refused('^[A-Za-z]+-?[0-9]+$')).toContain('accepts "JohnSmith1", which looks like a name');
    expect(refused('^[A-Z]{2}-[0-9]{4}$', 'PT-42')).toContain('the example does not follow the rule');
    expect(refused('^[A-Z]{2}-[0-9]{8}$', 'AB-19550312')).toContain('looks like it holds a date');
    expect(refused(`^${'A'.repeat(200)}$`)).toContain('at most 200');
  });
});
