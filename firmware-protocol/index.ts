/** The wire protocol: constants, CRC, message schemas and the codec. PROTOCOL.md is normative. */
export * from './constants.js';
export * from './crc.js';
export * from './messages.js';
export * from './codec.js';
