/**
 * Treatment courses: the course store (patients, courses, their sessions, outcomes and adverse
 * effects) in `<dataDir>/courses.db`, rebuilt from the session journals when needed, and what is
 * made from it: the course report (HTML, Markdown, JSON), CSV and a FHIR R4 Bundle.
 */
export * from './store.js';
export * from './rebuild.js';
export * from './journal-link.js';
export { StoreError, type StoreErrorCode } from './sqlite.js';
export { LATEST_VERSION, MIGRATIONS } from './migrations.js';
export * from './instruments.js';
export * from './report.js';
export * from './render.js';
export { renderCourseCsv } from './csv.js';
export { renderCourseFhir, uuidFor, PATIENT_REF_SYSTEM } from './fhir.js';
export { courseFitProblem } from './session.js';
