// CRC-16/CCITT-FALSE (PROTOCOL.md §3): known values and agreement with the bitwise C reference.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc16, crcHex } from '../../../firmware-protocol/index.js';

/** The table-less reference of PROTOCOL.md §3, transcribed from C line for line. */
function referenceCrc16(bytes: readonly number[]): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}
const bytesOf = (s: string) => [...s].map((c) => c.charCodeAt(0));

describe('crc16', () => {
  it('has the CRC-16/CCITT-FALSE check value 29B1', () => {
    expect(crc16('123456789')).toBe(0x29b1);
    expect(crcHex('123456789')).toBe('29B1');
  });

  it('matches known values (computed with the C reference of PROTOCOL.md)', () => {
    expect(crc16('')).toBe(0xffff); // init, no xorout
    expect(crcHex('A')).toBe('B915');
    expect(crcHex('12345678')).toBe('A12B');
    expect(crcHex('A'.repeat(256))).toBe('EA0B');
    // The read-back text of the worked example's SET (PROTOCOL.md §6.2, §15).
    expect(crcHex('ch=1 mode=CONT f=2000 pw=250 wf=SYM amp=4000 dur=1200 ramp=1000')).toBe('30DC');
    expect(crcHex('5 HB')).toBe('7E49');
  });

  it('writes four upper-case hex digits, zero-padded', () => {
    // Find a short input whose CRC is below 0x1000, so padding is exercised.
    let s = 0;
    while (crc16(String(s)) >= 0x1000) s++;
    const hex = crcHex(String(s));
    expect(hex).toMatch(/^0[0-9A-F]{3}$/);
    expect(parseInt(hex, 16)).toBe(crc16(String(s)));
    let t = 0;
    while (!/[A-F]/.test(crcHex(String(t)))) t++;
    expect(crcHex(String(t))).toBe(crcHex(String(t)).toUpperCase());
  });

  it('agrees with the bitwise reference on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (arr) => {
        const text = String.fromCharCode(...arr);
        expect(crc16(text)).toBe(referenceCrc16([...arr]));
      }),
      { numRuns: 2000 },
    );
  });

  it('H7 detects every single-bit error and every burst of up to 16 bits', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 64 }), fc.nat(), fc.integer({ min: 1, max: 0xffff }), (s, at, pattern) => {
        const bytes = bytesOf(s);
        const bitLen = bytes.length * 8;
        // XOR a 16-bit error pattern starting at some bit; the burst may run off the end.
        const start = at % bitLen;
        const corrupted = [...bytes];
        for (let k = 0; k < 16; k++) {
          if (pattern & (1 << (15 - k)) && start + k < bitLen) {
            const pos = start + k;
            corrupted[pos >> 3]! ^= 0x80 >> (pos & 7);
          }
        }
        fc.pre(corrupted.some((b, i) => b !== bytes[i]));
        expect(referenceCrc16(corrupted)).not.toBe(referenceCrc16(bytes));
        expect(crc16(String.fromCharCode(...corrupted))).not.toBe(crc16(s));
      }),
      { numRuns: 2000 },
    );
  });
});
