/**
 * Sizes of the reliability campaigns. CI runs the small size inside `npm test`; the long mode
 * (`npm run test:long`, i.e. EDN_LONG=1) runs the sizes the issue asks for at least once before a
 * release. Overrides for a one-off investigation: EDN_FUZZ_INPUTS, EDN_FUZZ_SEED, EDN_SEQ_RUNS,
 * EDN_SEQ_SEED.
 */

/** True in long mode (EDN_LONG=1). */
export const LONG = process.env.EDN_LONG === '1' || process.env.EDN_LONG === 'true';

/** A positive integer from the environment, or `fallback`. */
export function envInt(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, not '${text}'`);
  return n;
}

/** `ci` in CI, `long` in long mode. */
export function sized(ci: number, long: number): number {
  return LONG ? long : ci;
}

/** A per-test timeout that scales with the mode (these are not timed assertions: just room to finish). */
export function timeoutMs(ciMs: number): number {
  return LONG ? ciMs * 40 : ciMs;
}
