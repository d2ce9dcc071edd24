/**
 * SHA-256 (FIPS 180-4) for the whole project: protocol content hashes here in the domain layer and
 * the journal's hash chain in src/session. It is `@noble/hashes` (audited, pure JavaScript, no
 * dependencies): synchronous, unlike WebCrypto, and free of `node:crypto`, so the same code runs in
 * the domain layer, the renderer and Node. Until issue 10 the domain had a hand-written SHA-256
 * and the journal used `node:crypto`; both gave the same digests as this (the FIPS vectors and the
 * test fixtures' stored hashes are checked in test/unit/domain/hash.test.ts).
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

/** SHA-256 digest of bytes, 32 bytes. */
export function sha256(message: Uint8Array): Uint8Array {
  return nobleSha256(message);
}

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  return bytesToHex(bytes);
}

/**
 * SHA-256 as 64 lower-case hex digits, of bytes or of a string's UTF-8 encoding (a lone surrogate
 * becomes U+FFFD, as TextEncoder and node:crypto both encode it).
 */
export function sha256Hex(data: string | Uint8Array): string {
  return bytesToHex(nobleSha256(typeof data === 'string' ? utf8ToBytes(data) : data));
}
