/*
 * Reset and the vector table for the Cortex-M3 (ARMv7-M B1.5): the initial stack pointer, the
 * reset handler that copies .data, zeroes .bss and calls main, and the handlers this port uses.
 * Every other exception parks the CPU with every output off.
 */
#include <stdint.h>

#include "hal.h"
#include "mps2.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);
void Reset_Handler(void);
void Default_Handler(void);

void Reset_Handler(void)
{
    /* The linker's symbols bound regions, not objects: walk them as addresses. */
    uintptr_t src = (uintptr_t)&_sidata;
    for (uintptr_t dst = (uintptr_t)&_sdata; dst < (uintptr_t)&_edata; dst += 4u, src += 4u) {
        *(volatile uint32_t *)dst = *(const volatile uint32_t *)src;
    }
    for (uintptr_t dst = (uintptr_t)&_sbss; dst < (uintptr_t)&_ebss; dst += 4u) *(volatile uint32_t *)dst = 0;
    (void)main();
    for (;;) {
    }
}

/* A fault or an unexpected interrupt: outputs off, then wait for the hardware watchdog. */
void Default_Handler(void)
{
    edn_hal_output_all_off();
    for (;;) {
    }
}

typedef void (*vector_t)(void);

__attribute__((section(".vectors"), used)) static const vector_t vectors[16 + 32] = {
    (vector_t)(uintptr_t)&_estack,
    Reset_Handler,
    Default_Handler, /* NMI */
    Default_Handler, /* HardFault */
    Default_Handler, /* MemManage */
    Default_Handler, /* BusFault */
    Default_Handler, /* UsageFault */
    0, 0, 0, 0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMon */
    0,
    Default_Handler, /* PendSV */
    SysTick_Handler,
    UART0_RX_Handler, UART0_TX_Handler, UART1_RX_Handler, UART1_TX_Handler, /* IRQ 0..3 */
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
};
