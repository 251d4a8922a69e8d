// tinyrnn's machine-module hooks for ports/qemu (included by extmod/modmachine.c via
// MICROPY_PY_MACHINE_INCLUDEFILE), replacing the port's, whose machine.reset() ends QEMU.
// Here machine.reset() is a board's hard reset: SYSRESETREQ, which QEMU's mps2 machine
// answers by resetting the CPU and reloading the firmware in the same process (same serial
// pty). The RAM disk (littlefs at /, outside the firmware's image) is not reloaded, so the
// files survive as a board's flash does.

#include <stdlib.h>

#define TINYRNN_SCB_AIRCR (*(volatile uint32_t *)0xE000ED0C)

static void mp_machine_idle(void) {
}

#if MICROPY_PY_MACHINE_RESET

static void mp_machine_reset(void) {
    #if defined(__ARM_ARCH_ISA_THUMB)
    TINYRNN_SCB_AIRCR = (0x05FAu << 16) | (1u << 2);   // VECTKEY | SYSRESETREQ
    for (;;) {
    }
    #else
    exit(0);
    #endif
}

static mp_int_t mp_machine_reset_cause(void) {
    return 0;
}

#endif
