/**
 * Settings in `<dataDir>/settings.json`, validated with the contract's SettingsSchema on every
 * read. A file that is not JSON or does not validate is reported (`problem`), moved aside to
 * `settings.json.bad` for someone to look at, and replaced by the defaults: the app starts, and
 * nothing is silently guessed from a broken file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_STIMULATOR_USB_IDS } from '../device/ports.js';
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
    return { clinician: this.#settings.clinician, usbIds: [...this.#settings.usbIds] };
  }

  /**
   * Merge, validate and write atomically. Returns the new settings, or the problems (path,
   * message); throws only when the disk refuses the write.
   */
  set(partial: Partial<Settings>): { ok: true; settings: Settings } | { ok: false; errors: { path: string; message: string }[] } {
    const next = { ...this.#settings, ...partial };
    const parsed = SettingsSchema.safeParse(next);
    if (!parsed.success) return { ok: false, errors: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(settings)', message: i.message })) };
    const clinician = clinicianProblem(parsed.data.clinician);
    if (clinician) return { ok: false, errors: [{ path: 'clinician', message: clinician }] };
    const settings: Settings = { clinician: parsed.data.clinician, usbIds: [...new Set(parsed.data.usbIds)] };
    writeFileAtomic(this.file, `${JSON.stringify(settings, null, 2)}\n`);
    this.#settings = settings;
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
    let why: string;
    try {
      const parsed = SettingsSchema.safeParse(JSON.parse(text));
      if (parsed.success) {
        const clinician = clinicianProblem(parsed.data.clinician);
        if (clinician === undefined) return { settings: parsed.data };
        why = `clinician: ${clinician}`;
      } else {
        why = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(settings)'}: ${i.message}`).join('; ');
      }
    } catch (e) {
      why = `not JSON (${e instanceof Error ? e.message : String(e)})`;
    }
    const bad = `${this.file}.bad`;
    let kept: string;
    try {
      fs.renameSync(this.file, bad);
      writeFileAtomic(this.file, `${JSON.stringify(DEFAULT_SETTINGS, null, 2)}\n`);
      kept = `kept as ${bad}`;
    } catch (e) {
      kept = `could not be moved aside (${e instanceof Error ? e.message : String(e)})`;
    }
    return { settings: DEFAULT_SETTINGS, problem: `${this.file} is invalid (${why}); it was replaced by the defaults and ${kept}` };
  }
}
