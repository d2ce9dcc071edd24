/**
 * A small seeded PRNG (mulberry32): the simulator's noise, boot ids, garbage and corruption are
 * reproducible from one seed, so a failing test or a fault script replays exactly.
 */

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/** mulberry32: 32-bit state, period 2^32; plenty for noise and ids, and a few lines of code. */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * An independent stream for one purpose, so that (say) a garbage flood does not change the next boot
 * id: each purpose mixes its own constant into the seed.
 */
export function stream(seed: number, purpose: number): Random {
  return mulberry32(Math.imul(seed >>> 0, 0x9e3779b1) ^ purpose);
}

/** A uniform integer in [0, n). */
export function int(random: Random, n: number): number {
  return Math.floor(random() * n);
}

/** Eight upper-case hex digits. */
export function hex32(random: Random): string {
  return int(random, 4_294_967_296).toString(16).toUpperCase().padStart(8, '0');
}
