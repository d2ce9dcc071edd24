/*
 * PROTOCOL.md §3: the spec's table-less reference. A 512-byte table would make a 256-byte line
 * about 4x faster, but the bitwise loop already costs well under 1% of the line time at 115200
 * baud (see the README's firmware budget), so flash wins.
 */
#include "edn_crc.h"

uint16_t edn_crc16_update(uint16_t crc, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)((uint16_t)data[i] << 8);
        for (unsigned bit = 0; bit < 8u; bit++) {
            crc = (crc & 0x8000u) ? (uint16_t)((uint16_t)(crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
        }
    }
    return crc;
}

uint16_t edn_crc16(const uint8_t *data, size_t len)
{
    return edn_crc16_update(EDN_CRC_INIT, data, len);
}
