/*
 * The device's events (hal.h edn_event_t) as the TypeScript simulator's `edn simulate --json`
 * lines (src/simulator/types.ts SimEvent), byte for byte the same JSON for the same event, so
 * that anything reading the simulator's event stream reads a simulated board's unchanged. No libc.
 */
#ifndef EDN_EVENT_JSON_H
#define EDN_EVENT_JSON_H

#include <stddef.h>

#include "hal.h"

/* Longest line: a rejected 256-byte line with every byte escaped as \u00XX, plus the rest. */
#define EVENT_JSON_MAX (256u * 6u + 64u)

/* Writes the JSON object (NUL-terminated, no newline) into buf; returns its length. */
size_t event_json(const edn_event_t *e, char *buf, size_t cap);

#endif
