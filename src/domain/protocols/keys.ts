/**
 * Helpful messages for misspelt fields: which keys the schema allows at a path, and the closest
 * one to what was written ("frequencyHZ" -> "frequencyHz").
 */
import * as z from 'zod';

/** The keys the object schema at `path` allows, or undefined when the path leads elsewhere. */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[], input: unknown): string[] | undefined {
  let node: z.ZodType | undefined = schema;
  let value: unknown = input;
  for (const seg of path) {
    node = node === undefined ? undefined : child(unwrap(node, value), seg);
    value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[seg] : undefined;
  }
  const target = node === undefined ? undefined : unwrap(node, value);
  return target instanceof z.ZodObject ? Object.keys(target.shape) : undefined;
}

function unwrap(node: z.ZodType, value: unknown): z.ZodType {
  let current = node;
  for (;;) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodNullable) current = current.unwrap() as z.ZodType;
    else if (current instanceof z.ZodDiscriminatedUnion) current = pickOption(current.options as z.ZodType[], value);
    else if (current instanceof z.ZodUnion && typeof value === 'object' && value !== null) {
      // A union of a scalar form and an object form (a site, a schedule): the object form, for an object.
      const object = (current.options as z.ZodType[]).find((o) => o instanceof z.ZodObject);
      if (object === undefined) return current;
      current = object;
    }
    else return current;
  }
}

/** The union option whose `kind` literal matches the input's, else the first. */
function pickOption(options: readonly z.ZodType[], value: unknown): z.ZodType {
  const kind = typeof value === 'object' && value !== null ? (value as { kind?: unknown }).kind : undefined;
  const match = options.find((o) => o instanceof z.ZodObject && (o.shape as Record<string, z.ZodType>).kind?.safeParse(kind).success);
  const chosen = match ?? options[0];
  if (chosen === undefined) throw new Error('a discriminated union without options');
  return chosen;
}

function child(node: z.ZodType, seg: PropertyKey): z.ZodType | undefined {
  if (node instanceof z.ZodObject && typeof seg === 'string') return (node.shape as Record<string, z.ZodType>)[seg];
  if (node instanceof z.ZodArray && typeof seg === 'number') return node.element as z.ZodType;
  return undefined;
}

/** The known key closest to `key` (case-insensitive, edit distance at most 2), if any. */
export function suggest(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}
