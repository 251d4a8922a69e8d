// Error numbers as a board has them.
//
// This build's file system calls fail with WASI/Emscripten errno values
// (ENOENT is 44, EEXIST 20) while its `errno` module, like every board, uses
// MicroPython's own numbers (ENOENT 2, EEXIST 17). So on the VM
// open('missing') raised OSError(44), which `e.errno == errno.ENOENT` misses
// and mpremote cannot read (it needs "ENOENT" or 2 to tell that a file does
// not exist, e.g. for `cp x :newname`). We translate at the boundary between
// the WebAssembly code and Emscripten's system calls: the values those
// imports return become the numbers a board would use, so the VM raises
// "OSError: [Errno 2] ENOENT" exactly as a board does.

// WASI errno names in WASI order (1..76), and MicroPython's/Linux's numbers.
const WASI_ERRNO_NAMES = ('2BIG ACCES ADDRINUSE ADDRNOTAVAIL AFNOSUPPORT AGAIN ALREADY BADF BADMSG ' +
    'BUSY CANCELED CHILD CONNABORTED CONNREFUSED CONNRESET DEADLK DESTADDRREQ DOM DQUOT EXIST ' +
    'FAULT FBIG HOSTUNREACH IDRM ILSEQ INPROGRESS INTR INVAL IO ISCONN ISDIR LOOP MFILE MLINK ' +
    'MSGSIZE MULTIHOP NAMETOOLONG NETDOWN NETRESET NETUNREACH NFILE NOBUFS NODEV NOENT NOEXEC ' +
    'NOLCK NOLINK NOMEM NOMSG NOPROTOOPT NOSPC NOSYS NOTCONN NOTDIR NOTEMPTY NOTRECOVERABLE ' +
    'NOTSOCK NOTSUP NOTTY NXIO OVERFLOW OWNERDEAD PERM PIPE PROTO PROTONOSUPPORT PROTOTYPE RANGE ' +
    'ROFS SPIPE SRCH STALE TIMEDOUT TXTBSY XDEV').split(' ');
const BOARD_ERRNO = {
    PERM: 1, NOENT: 2, SRCH: 3, INTR: 4, IO: 5, NXIO: 6, '2BIG': 7, NOEXEC: 8, BADF: 9, CHILD: 10,
    AGAIN: 11, NOMEM: 12, ACCES: 13, FAULT: 14, BUSY: 16, EXIST: 17, XDEV: 18, NODEV: 19,
    NOTDIR: 20, ISDIR: 21, INVAL: 22, NFILE: 23, MFILE: 24, NOTTY: 25, TXTBSY: 26, FBIG: 27,
    NOSPC: 28, SPIPE: 29, ROFS: 30, MLINK: 31, PIPE: 32, DOM: 33, RANGE: 34, DEADLK: 35,
    NAMETOOLONG: 36, NOLCK: 37, NOSYS: 38, NOTEMPTY: 39, LOOP: 40, NOMSG: 42, IDRM: 43,
    NOLINK: 67, MULTIHOP: 72, BADMSG: 74, OVERFLOW: 75, ILSEQ: 84, NOTSOCK: 88, DESTADDRREQ: 89,
    MSGSIZE: 90, PROTOTYPE: 91, NOPROTOOPT: 92, PROTONOSUPPORT: 93, NOTSUP: 95, AFNOSUPPORT: 97,
    ADDRINUSE: 98, ADDRNOTAVAIL: 99, NETDOWN: 100, NETUNREACH: 101, NETRESET: 102,
    CONNABORTED: 103, CONNRESET: 104, NOBUFS: 105, ISCONN: 106, NOTCONN: 107, TIMEDOUT: 110,
    CONNREFUSED: 111, HOSTUNREACH: 113, ALREADY: 114, INPROGRESS: 115, STALE: 116, DQUOT: 122,
    CANCELED: 125, OWNERDEAD: 130, NOTRECOVERABLE: 131,
};

function errnoTable() {
    return new Map(WASI_ERRNO_NAMES.map((n, i) => [i + 1, BOARD_ERRNO[n] ?? i + 1]));
}

function translateImports(imports, toBoard) {
    const table = imports.env;
    const wrapped = { ...table };
    for (const [name, fn] of Object.entries(table)) {
        if (typeof fn !== 'function') continue;
        if (name.startsWith('__syscall_')) {
            // Emscripten syscalls return -errno on failure.
            wrapped[name] = (...a) => {
                const r = fn(...a);
                return r < 0 && r > -4096 ? -(toBoard.get(-r) ?? -r) : r;
            };
        } else if (name.startsWith('fd_')) {
            // WASI calls return the errno itself (0: success).
            wrapped[name] = (...a) => {
                const r = fn(...a);
                return r > 0 ? (toBoard.get(r) ?? r) : r;
            };
        }
    }
    const out = { ...imports };
    for (const k of Object.keys(imports)) if (imports[k] === table) out[k] = wrapped;
    return out;
}

// Make every WebAssembly module instantiated from now on in this thread (each
// interpreter) see board errno values. Call once, before the first interpreter.
export function installBoardErrno() {
    const toBoard = errnoTable();
    const realInstantiate = WebAssembly.instantiate;
    WebAssembly.instantiate = function (source, imports, ...rest) {
        if (imports && imports.env) imports = translateImports(imports, toBoard);
        return realInstantiate.call(WebAssembly, source, imports, ...rest);
    };
}
