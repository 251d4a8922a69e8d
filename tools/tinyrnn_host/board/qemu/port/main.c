// tinyrnn's main for MicroPython's ports/qemu (v1.28.0), replacing the port's main.c in the
// build copy. The port's own main runs only the REPL; a board runs, on every (soft) reset,
// the frozen _boot.py (here: littlefs2 on a RAM disk at /, ROMFS at /rom), then boot.py, then
// main.py when the REPL is the friendly one, as the stm32/rp2 ports do. MIT licence, as the
// MicroPython port it is part of (whose main.c, (c) 2014-2023 Damien P. George, it follows).

#include <stdlib.h>

#include "py/compile.h"
#include "py/runtime.h"
#include "py/gc.h"
#include "py/mperrno.h"
#include "py/mphal.h"
#include "shared/runtime/gchelper.h"
#include "shared/runtime/pyexec.h"

#if MICROPY_HEAP_SIZE <= 0
#error MICROPY_HEAP_SIZE must be a positive integer.
#endif

static uint32_t gc_heap[MICROPY_HEAP_SIZE / sizeof(uint32_t)];

int main(int argc, char **argv) {
    mp_cstack_init_with_sp_here(10240);
    gc_init(gc_heap, (char *)gc_heap + MICROPY_HEAP_SIZE);

    for (;;) {
        mp_init();

        #if MICROPY_MODULE_FROZEN
        pyexec_frozen_module("_boot.py", false);
        #endif
        int ret = pyexec_file_if_exists("boot.py");
        if (ret & PYEXEC_FORCED_EXIT) {
            goto soft_reset_exit;
        }
        if (pyexec_mode_kind == PYEXEC_MODE_FRIENDLY_REPL && ret != 0) {
            ret = pyexec_file_if_exists("main.py");
            if (ret & PYEXEC_FORCED_EXIT) {
                goto soft_reset_exit;
            }
        }

        for (;;) {
            if (pyexec_mode_kind == PYEXEC_MODE_RAW_REPL) {
                if (pyexec_raw_repl() != 0) {
                    break;
                }
            } else {
                if (pyexec_friendly_repl() != 0) {
                    break;
                }
            }
        }

    soft_reset_exit:
        mp_printf(&mp_plat_print, "MPY: soft reboot\n");

        gc_sweep_all();
        mp_deinit();
    }
}

void gc_collect(void) {
    gc_collect_start();
    gc_helper_collect_regs_and_stack();
    gc_collect_end();
}

// The console is QEMU's semihosting console (its chardev is the board's pty): SYS_READC for
// input (QEMU fills it from a FIFO, fast, where the CMSDK UART takes one byte per main-loop
// turn), SYS_WRITE0 for output, in pieces without NUL bytes (SYS_WRITEC for a NUL).
// QEMU 7.2 answers SYS_READC with r0 = 1 (the count) and leaves the character where it put
// it, one byte below the caller's SP: read it from there, with interrupts off so that no
// exception frame overwrites it first.
static uint32_t tinyrnn_semihosting_call(uint32_t num, const void *arg) {
    register uint32_t num_reg __asm__ ("r0") = num;
    register const void *args_reg __asm__ ("r1") = arg;
    __asm__ __volatile__ ("bkpt 0xAB\n" : "+r" (num_reg) : "r" (args_reg) : "memory");
    return num_reg;
}

int tinyrnn_console_rx(void) {
    uint32_t c;
    #if __ARM_ARCH_ISA_THUMB == 1
    // armv6m (the Cortex-M0): Thumb-1 has no negative offset, nor an SP-based ldrb
    __asm__ __volatile__ (
        "cpsid i\n"
        "movs r0, #7\n"              // SYS_READC
        "movs r1, #0\n"
        "bkpt 0xAB\n"
        "mov r1, sp\n"
        "sub r1, #1\n"                // (divided syntax: SUBS)
        "ldrb %0, [r1]\n"
        "cpsie i\n"
        : "=l" (c) : : "r0", "r1", "memory");
    #else
    __asm__ __volatile__ (
        "cpsid i\n"
        "movs r0, #7\n"              // SYS_READC
        "movs r1, #0\n"
        "bkpt 0xAB\n"
        "ldrb %0, [sp, #-1]\n"
        "cpsie i\n"
        : "=r" (c) : : "r0", "r1", "memory");
    #endif
    return (int)c;
}

void tinyrnn_console_tx(const char *str, size_t len) {
    char buf[129];
    while (len > 0) {
        if (*str == 0) {
            tinyrnn_semihosting_call(0x03, str);       // SYS_WRITEC
            str++;
            len--;
            continue;
        }
        size_t n = 0;
        while (n < len && n < sizeof(buf) - 1 && str[n] != 0) {
            buf[n] = str[n];
            n++;
        }
        buf[n] = 0;
        tinyrnn_semihosting_call(0x04, buf);           // SYS_WRITE0
        str += n;
        len -= n;
    }
}

// littlefs2 stamps files with this (the port has no clock): nanoseconds since the board started,
// from its tick counter, so it is deterministic under `-icount`.
uint64_t mp_hal_time_ns(void) {
    return (uint64_t)mp_hal_ticks_ms() * 1000000ULL;
}

void nlr_jump_fail(void *val) {
    mp_printf(&mp_plat_print, "uncaught NLR\n");
    exit(1);
}
