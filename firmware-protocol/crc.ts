/**
 * CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no input or output reflection,
 * no final XOR. Check value: crc16("123456789") === 0x29B1.
 *
 * Computed over every byte of a frame before the ` *` that introduces the CRC (PROTOCOL.md §3).
 */

const TABLE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    table[byte] = crc;
  }
  return table;
})();

/** CRC over the low byte of each UTF-16 code unit: callers pass ASCII text (frames are ASCII). */
export function crc16(text: string): number {
  let crc = 0xffff;
  for (let i = 0; i < text.length; i++) {
    const byte = text.charCodeAt(i) & 0xff;
    crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >>> 8) ^ byte) & 0xff] as number);
  }
  return crc;
}

/** The CRC as it appears on the wire: four upper-case hexadecimal digits. */
export function crcHex(text: string): string {
  return crc16(text).toString(16).toUpperCase().padStart(4, '0');
}
