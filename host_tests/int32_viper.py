"""Run the viper kernels' own source under CPython with 32-bit machine words.

Viper code computes in machine words: 32 bits on a board, 64 on the unix port,
so a sum that passes 2^31 would wrap on a board and not here. This module
stands in for the board: it takes lib/tinyrnn/_viper*.py as text, drops the
@micropython.viper decorator, and executes each function with

- `int` values that wrap to int32 after every operation (class I32),
- `ptr16(buf)`: unsigned 16-bit loads, 16-bit stores (as viper's ptr16),
- `ptr32(buf)`: signed 32-bit loads (as on a 32-bit board), 32-bit stores,
- arguments annotated `ptr16` / `ptr32` / `int` converted as viper converts them.

So the kernel's exact operation order runs in 32-bit arithmetic; a kernel whose
sums are not 32-bit clean gives a wrong answer here (the tests compare with the
NumPy mirror, which computes exactly in int64).

    k = load("_viper")          # a namespace with elman_step, gru_step, ...
    k.gru_step(p, x, h, work, I, H, 0)
    k.wraps                     # how many multiplications wrapped (must stay 0)
"""
import array
import pathlib
import re
import types

LIB = pathlib.Path(__file__).resolve().parent.parent / "lib" / "tinyrnn"
M32 = 0xFFFFFFFF


def wrap(v):
    return ((int(v) + 0x80000000) & M32) - 0x80000000


class Counter:
    mul_wraps = 0


class I32:
    """A 32-bit machine word as viper's `int`: every result wraps to int32.
    (The operators build results with _w, wrap's arithmetic inline: these objects are made by the
    million in test_int32_kernels, whose time was mostly the construction of I32s.)"""
    __slots__ = ("v",)

    def __init__(self, v=0):
        self.v = wrap(v.v if isinstance(v, I32) else v)

    def __int__(self):
        return self.v

    __index__ = __int__

    def __bool__(self):
        return self.v != 0

    def __repr__(self):
        return "I32(%d)" % self.v

    def _o(other):
        return other.v if type(other) is I32 else int(other)

    def __add__(self, o): return _w(self.v + (o.v if type(o) is I32 else int(o)))
    def __radd__(self, o): return _w((o.v if type(o) is I32 else int(o)) + self.v)
    def __sub__(self, o): return _w(self.v - (o.v if type(o) is I32 else int(o)))
    def __rsub__(self, o): return _w((o.v if type(o) is I32 else int(o)) - self.v)

    def __mul__(self, o):
        p = self.v * (o.v if type(o) is I32 else int(o))
        r = _new(I32)
        r.v = w = ((p + 0x80000000) & M32) - 0x80000000
        if w != p:
            Counter.mul_wraps += 1
        return r

    __rmul__ = __mul__

    def __floordiv__(self, o): return _w(self.v // I32._o(o))
    def __rfloordiv__(self, o): return _w(I32._o(o) // self.v)
    def __mod__(self, o): return _w(self.v % I32._o(o))
    def __lshift__(self, o): return _w(self.v << (I32._o(o) & 31))
    def __rlshift__(self, o): return _w(I32._o(o) << (self.v & 31))
    def __rshift__(self, o): return _w(self.v >> (I32._o(o) & 31))
    def __rrshift__(self, o): return _w(I32._o(o) >> (self.v & 31))
    def __and__(self, o): return _w(self.v & (o.v if type(o) is I32 else int(o)))
    __rand__ = __and__
    def __or__(self, o): return _w(self.v | (o.v if type(o) is I32 else int(o)))
    __ror__ = __or__
    def __xor__(self, o): return _w(self.v ^ (o.v if type(o) is I32 else int(o)))
    __rxor__ = __xor__
    def __neg__(self): return _w(-self.v)
    def __lt__(self, o): return self.v < (o.v if type(o) is I32 else int(o))
    def __le__(self, o): return self.v <= (o.v if type(o) is I32 else int(o))
    def __gt__(self, o): return self.v > (o.v if type(o) is I32 else int(o))
    def __ge__(self, o): return self.v >= (o.v if type(o) is I32 else int(o))
    def __eq__(self, o): return self.v == (o.v if type(o) is I32 else int(o))
    def __ne__(self, o): return self.v != (o.v if type(o) is I32 else int(o))
    def __hash__(self): return hash(self.v)


_new = object.__new__


def _w(v):
    """I32(v) for a Python int v: wrap(v) without the checks."""
    r = _new(I32)
    r.v = ((v + 0x80000000) & M32) - 0x80000000
    return r


def _raw(buf):
    """The memory behind an array / memoryview as a writable byte view."""
    if isinstance(buf, _Ptr):
        return buf.mem
    return memoryview(buf).cast("B")


class _Ptr:
    size = 2
    fmt = "H"

    def __init__(self, buf):
        self.mem = _raw(buf)
        self.view = self.mem.cast(self.fmt)

    def __getitem__(self, i):
        return _w(self.view[int(i)])

    def __setitem__(self, i, v):
        self.view[int(i)] = int(v) & ((1 << (8 * self.size)) - 1)


class Ptr16(_Ptr):
    size, fmt = 2, "H"


class Ptr32(_Ptr):
    size, fmt = 4, "I"

    def __getitem__(self, i):                   # a 32-bit board loads a signed word
        return I32(self.view[int(i)])


def _int(v=0):
    return I32(v)


CONVERT = {"ptr16": Ptr16, "ptr32": Ptr32, "int": I32}


def _viperize(fn, ann):
    names = fn.__code__.co_varnames[:fn.__code__.co_argcount]

    def call(*args):
        conv = []
        for name, a in zip(names, args):
            kind = ann.get(name)
            conv.append(CONVERT[kind](a) if kind else a)
        r = fn(*conv)
        return int(r) if isinstance(r, I32) else r      # viper boxes a returned int
    call.__name__ = fn.__name__
    return call


def load(module):
    """The module's functions, viper ones running in int32 emulation."""
    src = (LIB / (module + ".py")).read_text()
    return load_source(src, module)


def load_source(src, module="_viper"):
    # keep the annotations by name (viper reads them as types), then run the code with
    # the decorator removed and the module's own imports replaced by the real arrays
    anns = {}
    for m in re.finditer(r"@micropython\.viper\s*\ndef (\w+)\((.*?)\)", src, re.S):
        anns[m.group(1)] = {a.split(":")[0].strip(): a.split(":")[1].strip()
                            for a in m.group(2).split(",") if ":" in a}
    body = src.replace("@micropython.viper\n", "")
    body = re.sub(r"^import micropython\n", "", body, flags=re.M)
    body = re.sub(r"^from \._tables import .*\n", "", body, flags=re.M)
    body = re.sub(r"^from \._viper import .*\n", "", body, flags=re.M)
    body = re.sub(r"\) -> int:", "):", body)
    ns = types.SimpleNamespace()
    glb = {"ptr16": Ptr16, "ptr32": Ptr32, "int": _int, "array": array.array, "__name__": module}
    tables = _tables()
    glb.update(tables)
    glb["_SIG"] = array.array("H", tables["SIGMOID"])
    glb["_TANH"] = array.array("H", tables["TANH"])
    exec(compile(body, str(LIB / (module + ".py")), "exec"), glb)
    for name, fn in list(glb.items()):
        if isinstance(fn, types.FunctionType) and fn.__code__.co_filename.endswith(module + ".py"):
            if name in anns:
                glb[name] = _viperize(fn, anns[name])
    for name, fn in glb.items():
        if isinstance(fn, types.FunctionType) or callable(getattr(fn, "__call__", None)):
            setattr(ns, name, fn)
    return ns


def _tables():
    ns = {}
    exec((LIB / "_tables.py").read_text(), ns)
    return {k: ns[k] for k in ("SIGMOID", "TANH", "EXP2")}
