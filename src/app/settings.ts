/**
 * Settings in `<dataDir>/settings.json`, validated with the contract's SettingsSchema on every
 * read. A file that is not JSON or does not validate is reported (`problem`), moved aside to
 * `settings.json.bad` for someone to look at, and replaced by the defaults: the app starts, and
 * nothing is silently guessed from a broken file.
 *
 * `patientRef` is the clinic's own rule for new patient references (a pattern and an example,
 * checked by src/domain/privacy.ts: patientRefRule); without it the default rule applies.
 * `edn web` and the desktop app read it through SettingsStore, `edn run` with readSettingsFile
 * (which never moves a file).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_STIMULATOR_USB_IDS } from '../device/ports.js';
import { DEFAULT_PATIENT_REF_RULE, type PatientRefRule, patientRefRule } from '../domain/privacy.js';
import { CLINICIAN_PATTERN } from '../session/journal-records.js';
import { type Settings, SettingsSchema } from './contract.js';
import { writeFileAtomic } from './store.js';

export const SETTINGS_FILE = 'settings.json';

/** No clinician until one is set; the usual USB-serial interfaces mark a likely stimulator. */
export const DEFAULT_SETTINGS: Settings = Object.freeze({ clinician: '', usbIds: [...DEFAULT_STIMULATOR_USB_IDS] });

/**
 * The clinician is recorded in journals (session-start, acknowledgements), which accept initials
 * or a staff id without spaces: checked here so a setting can never make a record unwritable.
 */
export function clinicianProblem(clinician: string): string | undefined {
  if (clinician === '' || CLINICIAN_PATTERN.test(clinician)) return undefined;
  return `"${clinician}" is not initials or a staff id: 1-32 letters, digits, ".", "_" or "-", no spaces (e.g. "JD" or "S-0042")`;
}

type Checked = { ok: true; settings: Settings } | { ok: false; errors: { path: string; message: string }[] };

/** Validate settings (the schema, then the rules the schema cannot express); a normalized copy. */
export function checkSettings(value: unknown): Checked {
  const parsed = SettingsSchema.safeParse(value);
  if (!parsed.success) return { ok: false, errors: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(settings)', message: i.message })) };
  const clinician = clinicianProblem(parsed.data.clinician);
  if (clinician) return { ok: false, errors: [{ path: 'clinician', message: clinician }] };
  const rule = patientRefRule(parsed.data.patientRef);
  if (!rule.ok) return { ok: false, errors: [{ path: 'patientRef', message: rule.message }] };
  const { patientRef } = parsed.data;
  return {
    ok: true,
    settings: {
      clinician: parsed.data.clinician,
      usbIds: [...new Set(parsed.data.usbIds)],
      ...(patientRef ? { patientRef: { pattern: patientRef.pattern, example: patientRef.example } } : {}),
    },
  };
}

/** The rule for new patient references that the settings give (the default without one). */
export function settingsPatientRefRule(settings: Settings): PatientRefRule {
  const rule = patientRefRule(settings.patientRef);
  // Settings are checked when read and when set, so an unusable rule here is a programming error;
  // the stricter default is the safe answer to it.
  return rule.ok ? rule.rule : DEFAULT_PATIENT_REF_RULE;
}

/**
 * Read `<dataDir>/settings.json` without changing anything on disk (for `edn run`): the defaults
 * when there is none, and the problem in words when it cannot be used.
 */
export function readSettingsFile(dataDir: string): { settings: Settings; problem?: string } {
  const file = path.join(dataDir, SETTINGS_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { settings: DEFAULT_SETTINGS };
    return { settings: DEFAULT_SETTINGS, problem: `cannot read ${file} (${e instanceof Error ? e.message : String(e)}): using the defaults` };
  }
  const parsed = parseSettingsText(text);
  return parsed.ok ? { settings: parsed.settings } : { settings: DEFAULT_SETTINGS, problem: `${file} is invalid (${parsed.why}): using the defaults` };
}

function parseSettingsText(text: string): { ok: true; settings: Settings } | { ok: false; why: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, why: `not JSON (${e instanceof Error ? e.message : String(e)})` };
  }
  const checked = checkSettings(json);
  return checked.ok ? checked : { ok: false, why: checked.errors.map((e) => `${e.path}: ${e.message}`).join('; ') };
}

export class SettingsStore {
  readonly file: string;
  #settings: Settings;
  /** What was wrong with the file found at start, in words; undefined when it was fine or absent. */
  readonly problem: string | undefined;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, SETTINGS_FILE);
    const loaded = this.#load();
    this.#settings = loaded.settings;
    this.problem = loaded.problem;
  }

  get(): Settings {
    const { patientRef } = this.#settings;
    return { clinician: this.#settings.clinician, usbIds: [...this.#settings.usbIds], ...(patientRef ? { patientRef: { ...patientRef } } : {}) };
  }

  /** The rule new patient references must follow. */
  patientRefRule(): PatientRefRule {
    return settingsPatientRefRule(this.#settings);
  }

  /**
   * Merge, validate and write atomically. Returns the new settings, or the problems (path,
   * message); throws only when the disk refuses the write. `patientRef: null` goes back to the
   * default rule.
   */
  set(partial: Partial<Settings>): { ok: true; settings: Settings } | { ok: false; errors: { path: string; message: string }[] } {
    const checked = checkSettings({ ...this.#settings, ...partial });
    if (!checked.ok) return checked;
    writeFileAtomic(this.file, `${JSON.stringify(checked.settings, null, 2)}\n`);
    this.#settings = checked.settings;
    return { ok: true, settings: this.get() };
  }

  #load(): { settings: Settings; problem?: string } {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { settings: DEFAULT_SETTINGS };
      return { settings: DEFAULT_SETTINGS, problem: `cannot read ${this.file} (${e instanceof Error ? e.message : String(e)}): using the defaults` };
    }
    const parsed = parseSettingsText(text);
    if (parsed.ok) return { settings: parsed.settings };
    const bad = `${this.file}.bad`;
    let kept: string;
    try {
      fs.renameSync(this.file, bad);
      writeFileAtomic(this.file, `${JSON.stringify(DEFAULT_SETTINGS, null, 2)}\n`);
      kept = `kept as ${bad}`;
    } catch (e) {
      kept = `could not be moved aside (${e instanceof Error ? e.message : String(e)})`;
    }
    return { settings: DEFAULT_SETTINGS, problem: `${this.file} is invalid (${parsed.why}); it was replaced by the defaults and ${kept}` };
  }
}
