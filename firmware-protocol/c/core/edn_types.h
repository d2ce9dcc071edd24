/* The protocol's enumerations and the stored program: shared by the codec, the device and the HAL. */
#ifndef EDN_TYPES_H
#define EDN_TYPES_H

#include <stdint.h>

/* §8: the error codes, in the spec's order. EDN_E_NONE is "no error". */
typedef enum {
    EDN_E_NONE = 0,
    EDN_E_BAD_CRC,
    EDN_E_BAD_FRAME,
    EDN_E_TOO_LONG,
    EDN_E_UNKNOWN_VERB,
    EDN_E_BAD_ARG,
    EDN_E_RANGE,
    EDN_E_CHARGE,
    EDN_E_VERSION,
    EDN_E_NO_HELLO,
    EDN_E_LATCHED,
    EDN_E_STATE,
    EDN_E_INTERNAL,
    EDN_E_COUNT
} edn_error_t;

/* §4.2: the request verbs. */
typedef enum {
    EDN_V_HELLO = 0,
    EDN_V_SET,
    EDN_V_START,
    EDN_V_AMP,
    EDN_V_STOP,
    EDN_V_ESTOP,
    EDN_V_CLEAR,
    EDN_V_HB,
    EDN_V_STATUS,
    EDN_V_IMP,
    EDN_V_COUNT
} edn_verb_t;

/* §7.3: the unsolicited events. */
typedef enum { EDN_N_TEL = 0, EDN_N_DONE, EDN_N_FAULT, EDN_N_WDOG, EDN_N_BOOT, EDN_N_COUNT } edn_event_name_t;

/* §6.2 mode and wf; §6.9 channel states; §7.3 fault codes. */
typedef enum { EDN_MODE_CONT = 0, EDN_MODE_DD, EDN_MODE_BURST } edn_mode_t;
typedef enum { EDN_WF_SYM = 0, EDN_WF_ASYM } edn_wf_t;
typedef enum { EDN_CH_OFF = 0, EDN_CH_STAGED, EDN_CH_ON, EDN_CH_DONE } edn_ch_state_t;
typedef enum { EDN_FAULT_OPEN = 0, EDN_FAULT_COMPLIANCE, EDN_FAULT_OVERCURRENT, EDN_FAULT_INTERNAL } edn_fault_t;

/* §5 ohm: OPEN on the wire. */
#define EDN_Z_OPEN 0xFFFFFFFFu

/* §6.2: one channel's program, as a SET carries it. f2 and dwell / n only for their modes. */
typedef struct {
    uint8_t ch;
    uint8_t mode; /* edn_mode_t */
    uint8_t wf;   /* edn_wf_t */
    uint8_t n;    /* BURST: pulses per burst */
    uint32_t f, f2, dwell, pw, amp, dur, ramp;
} edn_program_t;

#endif
