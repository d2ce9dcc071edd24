/* PROTOCOL.md §3: CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final XOR). */
#ifndef EDN_CRC_H
#define EDN_CRC_H

#include <stddef.h>
#include <stdint.h>

#define EDN_CRC_INIT 0xFFFFu

/* Continue a CRC over `len` more bytes (start with EDN_CRC_INIT). */
uint16_t edn_crc16_update(uint16_t crc, const uint8_t *data, size_t len);

/* The CRC of `len` bytes: edn_crc16((const uint8_t *)"123456789", 9) == 0x29B1. */
uint16_t edn_crc16(const uint8_t *data, size_t len);

/* The same CRC by the spec's bitwise reference loop (for tests; not used on the line path). */
uint16_t edn_crc16_bitwise(const uint8_t *data, size_t len);

#endif
