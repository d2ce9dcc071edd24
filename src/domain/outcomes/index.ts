/** Outcome measures as data (instruments), recording them, and adverse effects. Pure: no I/O. */
export * from './schema.js';
export * from './validate.js';
export * from './score.js';
export * from './adverse.js';
export * from './library/index.js';
