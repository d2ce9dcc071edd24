/**
 * Wire field types: each is a zod codec between the text on the wire and a typed value, so that one
 * definition serves decoding (device or host reading a line) and encoding (writing one).
 */
import * as z from 'zod';

const UINT_TEXT = /^(0|[1-9][0-9]{0,9})$/;

/** An unsigned decimal integer without sign, leading zeros, exponent or fraction, in [min, max]. */
export function uint(min: number, max: number, unit: string) {
  const suffix = unit ? ` ${unit}` : '';
  return z.codec(
    z.string().regex(UINT_TEXT, { error: (iss) => `'${String(iss.input)}' is not an unsigned decimal integer` }),
    z
      .number()
      .int()
      .min(min, { error: (iss) => `${String(iss.input)}${suffix} is below the minimum ${min}${suffix}` })
      .max(max, { error: (iss) => `${String(iss.input)}${suffix} is above the maximum ${max}${suffix}` }),
    { decode: (text) => Number(text), encode: (value) => String(value) },
  );
}

/** A fixed set of upper-case words. */
export function word<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: (iss) => `'${String(iss.input)}' is not one of ${values.join('|')}` });
}

/** Upper-case hexadecimal of a fixed number of digits (CRCs, boot ids). */
export function hex(digits: number) {
  const re = new RegExp(`^[0-9A-F]{${digits}}$`);
  return z.string().regex(re, { error: (iss) => `'${String(iss.input)}' is not ${digits} upper-case hex digits` });
}

/** An identifier token: letters, digits, dot, dash, underscore; 1-32 characters (model, serial, fw). */
export const token = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,32}$/, { error: (iss) => `'${String(iss.input)}' is not a token of 1-32 [A-Za-z0-9._-]` });

/**
 * Free text (error messages), percent-encoded on the wire: every byte outside [A-Za-z0-9._~-]
 * is written %XX, so a space is %20. Decoded text is printable ASCII.
 */
export const text = z.codec(
  z.string().regex(/^([A-Za-z0-9._~-]|%[0-9A-F]{2})+$/, { error: 'not percent-encoded text' }),
  z.string().regex(/^[\x20-\x7E]{1,48}$/, { error: 'message must be 1-48 printable ASCII characters' }),
  {
    decode: (wire) => wire.replace(/%([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
    encode: (plain) =>
      plain.replace(/[^A-Za-z0-9._~-]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`),
  },
);

/** A load impedance in ohms, or OPEN when no current path was found. */
export const impedance = z.codec(
  z.string().regex(/^(OPEN|0|[1-9][0-9]{0,6})$/, { error: (iss) => `'${String(iss.input)}' is not ohms (0..9999999) or OPEN` }),
  z.union([z.literal('OPEN'), z.number().int().min(0).max(9_999_999)]),
  {
    decode: (wire) => (wire === 'OPEN' ? 'OPEN' : Number(wire)),
    encode: (value) => String(value),
  },
);

/** A 0/1 flag. */
export const flag = z.codec(z.enum(['0', '1'], { error: 'must be 0 or 1' }), z.boolean(), {
  decode: (wire) => wire === '1',
  encode: (value) => (value ? '1' : '0'),
});
