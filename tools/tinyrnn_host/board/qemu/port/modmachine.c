// tinyrnn's machine-module hooks for ports/qemu (included by extmod/modmachine.c via
// MICROPY_PY_MACHINE_INCLUDEFILE), replacing the port's, whose machine.reset() ends QEMU.
// Here machine.reset() is a board's hard reset: SYSRESETREQ, which QEMU's mps2 machine
// answers by resetting the CPU and reloading the firmware in the same process (same serial
// pty). The RAM disk (littlefs at /, outside the firmware's image) is not reloaded, so the
// files survive as a board's flash does.

#include <stdlib.h>
#include <string.h>

#include "py/mperrno.h"
#include "extmod/vfs.h"

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

// machine.RAMDisk(addr, block_size, blocks): the block device under the board's littlefs, over
// memory outside the heap (QEMU's SSRAM2/3), in C as a board's flash driver is (rp2.Flash,
// pyb.Flash, esp32.Partition): reading and writing blocks allocates nothing. (A Python
// readblocks leaves a few objects of garbage per call, hundreds per import of a .mpy, which
// end up between the module's code objects as holes: a heap no real board has.)

typedef struct _tinyrnn_ramdisk_obj_t {
    mp_obj_base_t base;
    uint8_t *mem;
    mp_uint_t block_size;
    mp_uint_t blocks;
} tinyrnn_ramdisk_obj_t;

static mp_obj_t tinyrnn_ramdisk_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 3, 3, false);
    tinyrnn_ramdisk_obj_t *self = mp_obj_malloc(tinyrnn_ramdisk_obj_t, type);
    self->mem = (uint8_t *)(uintptr_t)mp_obj_get_int_truncated(args[0]);
    self->block_size = mp_obj_get_int(args[1]);
    self->blocks = mp_obj_get_int(args[2]);
    return MP_OBJ_FROM_PTR(self);
}

// the address of `len` bytes at block `args[1]` plus offset `args[3]` (if given), checked
static uint8_t *tinyrnn_ramdisk_at(size_t n_args, const mp_obj_t *args, size_t len) {
    tinyrnn_ramdisk_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    mp_uint_t off = mp_obj_get_int(args[1]) * self->block_size + (n_args == 4 ? mp_obj_get_int(args[3]) : 0);
    if (off + len > self->block_size * self->blocks) {
        mp_raise_OSError(MP_EIO);
    }
    return self->mem + off;
}

static mp_obj_t tinyrnn_ramdisk_readblocks(size_t n_args, const mp_obj_t *args) {
    mp_buffer_info_t buf;
    mp_get_buffer_raise(args[2], &buf, MP_BUFFER_WRITE);
    memcpy(buf.buf, tinyrnn_ramdisk_at(n_args, args, buf.len), buf.len);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(tinyrnn_ramdisk_readblocks_obj, 3, 4, tinyrnn_ramdisk_readblocks);

static mp_obj_t tinyrnn_ramdisk_writeblocks(size_t n_args, const mp_obj_t *args) {
    mp_buffer_info_t buf;
    mp_get_buffer_raise(args[2], &buf, MP_BUFFER_READ);
    memcpy(tinyrnn_ramdisk_at(n_args, args, buf.len), buf.buf, buf.len);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(tinyrnn_ramdisk_writeblocks_obj, 3, 4, tinyrnn_ramdisk_writeblocks);

static mp_obj_t tinyrnn_ramdisk_ioctl(mp_obj_t self_in, mp_obj_t op_in, mp_obj_t arg_in) {
    tinyrnn_ramdisk_obj_t *self = MP_OBJ_TO_PTR(self_in);
    switch (mp_obj_get_int(op_in)) {
        case MP_BLOCKDEV_IOCTL_BLOCK_COUNT:
            return MP_OBJ_NEW_SMALL_INT(self->blocks);
        case MP_BLOCKDEV_IOCTL_BLOCK_SIZE:
            return MP_OBJ_NEW_SMALL_INT(self->block_size);
        case MP_BLOCKDEV_IOCTL_BLOCK_ERASE:
            return MP_OBJ_NEW_SMALL_INT(0);
        default:
            return mp_const_none;
    }
}
static MP_DEFINE_CONST_FUN_OBJ_3(tinyrnn_ramdisk_ioctl_obj, tinyrnn_ramdisk_ioctl);

static const mp_rom_map_elem_t tinyrnn_ramdisk_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_readblocks), MP_ROM_PTR(&tinyrnn_ramdisk_readblocks_obj) },
    { MP_ROM_QSTR(MP_QSTR_writeblocks), MP_ROM_PTR(&tinyrnn_ramdisk_writeblocks_obj) },
    { MP_ROM_QSTR(MP_QSTR_ioctl), MP_ROM_PTR(&tinyrnn_ramdisk_ioctl_obj) },
};
static MP_DEFINE_CONST_DICT(tinyrnn_ramdisk_locals_dict, tinyrnn_ramdisk_locals_dict_table);

MP_DEFINE_CONST_OBJ_TYPE(
    tinyrnn_ramdisk_type,
    MP_QSTR_RAMDisk,
    MP_TYPE_FLAG_NONE,
    make_new, tinyrnn_ramdisk_make_new,
    locals_dict, &tinyrnn_ramdisk_locals_dict
    );
