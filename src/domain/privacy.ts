/**
 * Privacy of what the records keep: a session record holds a pseudonymous patient reference and
 * the clinician's notes, never a name, a date of birth, a phone number or an e-mail address.
 *
 * - `findIdentifying` is the pure checker for free text (notes): dates, phone numbers, e-mail
 *   addresses and names after a title ("Mrs Jones"). A note with any of them is refused where it
 *   enters (screening answers, session notes) with what was found and where; refusing rather
 *   than asking for a confirmation keeps the rule the same in every interface (CLI, browser,
 *   desktop) and keeps identifying text out of an append-only journal, where a confirmed mistake
 *   could never be taken back.
 * - `checkPatientRef` applies a clinic's reference rule: a pattern (the default, or the clinic's
 *   own from the settings) on top of the base rule that journals are read back with
 *   (`patientRefBaseProblem`) and the identifying-text checks, which no clinic pattern can turn off.
 *
 * Pure: no I/O, no Node imports. These are heuristics: they catch the common forms, not every
 * way of writing identifying text; they are the second line behind the clinician's training.
 */

/** What kind of identifying text was found. */
export type IdentifyingKind = 'date' | 'phone' | 'email' | 'name';

export interface IdentifyingText {
  readonly kind: IdentifyingKind;
  /** The text found, as written. */
  readonly text: string;
  /** Where it starts in the checked text (0-based). */
  readonly index: number;
}

const KIND_WORDS: Readonly<Record<IdentifyingKind, string>> = {
  date: 'a date',
  phone: 'a phone number',
  email: 'an e-mail address',
  name: 'a name',
};

const MONTHS = 'jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?';

/** The patterns, each with its kind; a date must also be a plausible calendar date (see `plausibleDate`). */
const PATTERNS: readonly { readonly kind: IdentifyingKind; readonly re: RegExp; readonly check?: (m: RegExpExecArray) => boolean }[] = [
  { kind: 'email', re: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g },
  // Separated numeric dates: 12/03/1955, 12.3.55, 1955-03-12.
  { kind: 'date', re: /(?<![\d.])(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})(?![\d.])/g, check: (m) => plausibleDate(m[3]!, m[2]!, m[1]!) || plausibleDate(m[3]!, m[1]!, m[2]!) },
  { kind: 'date', re: /(?<![\d.])(\d{4})[./-](\d{1,2})[./-](\d{1,2})(?![\d.])/g, check: (m) => plausibleDate(m[1]!, m[2]!, m[3]!) },
  // Eight digits in a row that read as a date: 19550312 or 12031955.
  { kind: 'date', re: /(?<!\d)(\d{8})(?!\d)/g, check: (m) => compactDate(m[1]!) },
  // Written months: 12 March 1955, March 12, 1955, 12th Mar 55.
  { kind: 'date', re: new RegExp(String.raw`\b\d{1,2}(?:st|nd|rd|th)?\s+(?:${MONTHS})\.?,?\s+(?:\d{4}|'\d{2})\b`, 'gi') },
  { kind: 'date', re: new RegExp(String.raw`\b(?:${MONTHS})\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b`, 'gi') },
  { kind: 'date', re: /\b(?:d\.?o\.?b\.?|date of birth|born(?:\s+(?:on|in))?)(?=[\s:\d]|$)/gi },
  // Phone numbers: nine or more digits, possibly grouped with spaces, dashes or brackets (a
  // leading + or 0 included), in groups of two digits or more (so a list of amplitudes such as
  // "1 2 3 4 5 6 7 8 9" is not one); 555.123.4567; and the seven-digit local form 555-1234.
  { kind: 'phone', re: /(?<![\d.])(?:\+\d{1,3}[\s-]?)?\(?\d{2,}\)?(?:[\s-]?\(?\d{2,}\)?)*/g, check: (m) => m[0].replace(/\D/g, '').length >= 9 },
  { kind: 'phone', re: /(?<![\d.])\d{3}\.\d{3}\.\d{4}(?![\d.])/g },
  { kind: 'phone', re: /(?<![\d.])\d{3}[-\s]\d{4}(?![\d.])/g },
  { kind: 'phone', re: /\b(?:tel|phone|mobile|mob|cell)\b\.?\s*:?\s*\+?\d/gi },
  // A title and a capitalised word: Mr Smith, Mrs. O'Neil, Dr Jones.
  { kind: 'name', re: /\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Madam)\.?\s+[A-Z][a-zA-Z'’-]+/g },
  { kind: 'name', re: /\b(?:patient'?s?\s+)?(?:full\s+|first\s+|last\s+|sur)?name\s*[:=]\s*\S+/gi },
];

function plausibleDate(year: string, month: string, day: string): boolean {
  const m = Number(month);
  const d = Number(day);
  const y = year.length === 2 ? 1900 + Number(year) : Number(year);
  return m >= 1 && m <= 12 && d >= 1 && d <= 31 && y >= 1900 && y <= 2099;
}

function compactDate(digits: string): boolean {
  return plausibleDate(digits.slice(0, 4), digits.slice(4, 6), digits.slice(6, 8)) || plausibleDate(digits.slice(4, 8), digits.slice(2, 4), digits.slice(0, 2));
}

/** Every identifying-looking piece of `text`, in order of position (overlaps reported once). */
export function findIdentifying(text: string): IdentifyingText[] {
  const found: IdentifyingText[] = [];
  for (const { kind, re, check } of PATTERNS) {
    for (const m of text.matchAll(re)) {
      if (check && !check(m)) continue;
      const index = m.index;
      const end = index + m[0].length;
      if (found.some((f) => index < f.index + f.text.length && f.index < end)) continue;
      found.push({ kind, text: m[0].trim(), index });
    }
  }
  return found.sort((a, b) => a.index - b.index);
}

/**
 * Why a note may not be recorded, in words naming what was found and where; undefined when it
 * may. `what` names the field: "the note", "notes".
 */
export function notePrivacyProblem(text: string, what = 'the note'): string | undefined {
  const found = findIdentifying(text);
  if (found.length === 0) return undefined;
  const items = found.map((f) => `${KIND_WORDS[f.kind]}, "${f.text}" at character ${f.index + 1}`).join('; ');
  return `${what} contains what looks like ${items}: session records must not identify the patient (a name, a date of birth or a phone number does; the record already carries the pseudonymous reference and the session's date and time): take it out and record it in the clinic's own patient file`;
}

// ---- patient references ---------------------------------------------------------------------------

const REF_HINT = 'use a pseudonymous code such as "PT-0042": 3-32 letters, digits and dashes, never a name, e-mail address, phone number or date';

/**
 * The base rule every stored reference satisfies, also when a journal is read back (so it may
 * never get stricter than what older versions wrote): 3-32 letters, digits and dashes with at
 * least one digit. Names (no digit), e-mail addresses and names with spaces (not in the
 * alphabet), and phone numbers or dates written in digits and dashes only are refused.
 */
export function patientRefBaseProblem(ref: string): string | undefined {
  if (!/^[A-Za-z0-9-]{3,32}$/.test(ref)) return `"${ref}" is not a pseudonymous reference: ${REF_HINT}`;
  if (!/[0-9]/.test(ref)) return `"${ref}" looks like a name (it has no digit): ${REF_HINT}`;
  if (!/[A-Za-z]/.test(ref) && (ref.match(/[0-9]/g) ?? []).length >= 7) return `"${ref}" looks like a phone number or a date: ${REF_HINT}`;
  return undefined;
}

/** A clinic's rule for new patient references. */
export interface PatientRefRule {
  readonly pattern: RegExp;
  /** A reference that follows the rule, shown in messages ("PT-0042"). */
  readonly example: string;
  /** The rule in words, for messages. */
  readonly description: string;
}

/**
 * The default: 1-4 capital letters (a clinic or study code), a dash, 1-6 digits ("PT-0042",
 * "KNEE-0042"). Short on purpose: no room for a name, and six digits hold neither a date of
 * birth nor a phone number.
 */
export const DEFAULT_PATIENT_REF_RULE: PatientRefRule = Object.freeze({
  pattern: /^[A-Z]{1,4}-[0-9]{1,6}$/,
  example: 'PT-0042',
  description: '1-4 capital letters, a dash and 1-6 digits',
});

/** What a clinic writes in its settings (`patientRef` in settings.json). */
export interface PatientRefSetting {
  readonly pattern: string;
  readonly example: string;
}

/** Longest pattern a clinic may set, characters. */
export const PATIENT_REF_PATTERN_MAX = 200;

/** Name-like references any clinic pattern must refuse (else the setting is refused). */
const NAME_LIKE = ['JohnSmith1', 'MaryJones-1', 'Smith-42'];

/**
 * A clinic's rule from its setting, or why the setting cannot be used. The pattern is a
 * JavaScript regular expression anchored with ^ and $; nested quantifiers such as `(a+)+` are
 * refused, so no reference can make the check run for long.
 */
export function patientRefRule(setting: PatientRefSetting | null | undefined): { ok: true; rule: PatientRefRule } | { ok: false; message: string } {
  if (setting === null || setting === undefined) return { ok: true, rule: DEFAULT_PATIENT_REF_RULE };
  const { pattern, example } = setting;
  if (pattern.length > PATIENT_REF_PATTERN_MAX) return { ok: false, message: `the pattern is ${pattern.length} characters; at most ${PATIENT_REF_PATTERN_MAX}` };
  if (!pattern.startsWith('^') || !/(^|[^\\])\$$/.test(pattern)) return { ok: false, message: `"${pattern}" must match the whole reference: start it with ^ and end it with $` };
  if (/\((?:[^()\\]|\\.)*[*+}](?:[^()\\]|\\.)*\)[*+{]/.test(pattern)) return { ok: false, message: `"${pattern}" repeats a group that itself repeats (like (a+)+): write it without nested repetition` };
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'u');
  } catch (e) {
    return { ok: false, message: `"${pattern}" is not a regular expression: ${e instanceof Error ? e.message : String(e)}` };
  }
  const rule: PatientRefRule = Object.freeze({ pattern: re, example, description: `the clinic's pattern ${pattern}` });
  const accepted = NAME_LIKE.find((n) => re.test(n));
  if (accepted) return { ok: false, message: `"${pattern}" accepts "${accepted}", which looks like a name: a clinic's pattern must leave no room for names` };
  const exampleProblem = checkPatientRef(example, rule);
  if (exampleProblem) return { ok: false, message: `the example does not follow the rule: ${exampleProblem}` };
  return { ok: true, rule };
}

/**
 * Why a new patient reference is refused, or undefined: the base rule, then dates, phone numbers
 * and e-mail addresses in it (whatever the clinic's pattern), then the rule's pattern.
 */
export function checkPatientRef(ref: string, rule: PatientRefRule = DEFAULT_PATIENT_REF_RULE): string | undefined {
  const hint = `use a pseudonymous code such as "${rule.example}" (${rule.description}), never a name, e-mail address, phone number or date`;
  const base = patientRefBaseProblem(ref);
  if (base) return base;
  const found = findIdentifying(ref).find((f) => f.kind !== 'name') ?? refDate(ref);
  if (found) return `"${ref}" looks like it holds ${KIND_WORDS[found.kind]} ("${found.text}"): ${hint}`;
  if (!rule.pattern.test(ref)) return `"${ref}" does not follow the patient reference rule: ${hint}`;
  return undefined;
}

/** Dates inside a reference, where letters run into the digits: "DOB19800101", "Smith1955". */
function refDate(ref: string): IdentifyingText | undefined {
  const dob = /dob|born/i.exec(ref);
  if (dob) return { kind: 'date', text: dob[0], index: dob.index };
  for (const m of ref.matchAll(/\d{8}/g)) if (compactDate(m[0])) return { kind: 'date', text: m[0], index: m.index };
  return undefined;
}
