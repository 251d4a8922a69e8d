"""board/mpycompile: the arch name from a board's sys.implementation._mpy, and the files
compiled for each arch (mpy-cross cross-compiles, so every arch is checked here)."""
import pathlib

import pytest

from tinyrnn_host.board import deploy, mpycompile, natmod

LIB = pathlib.Path(__file__).resolve().parent.parent / "lib" / "tinyrnn"
NATIVE = {"_viper.mpy", "_viper_train.mpy"}
# The arch numbers of MicroPython's py/persistentcode.h (MP_NATIVE_ARCH_*), written out
# here independently of mpycompile.ARCHS.
ARCH_NUMBERS = {"x86": 1, "x64": 2, "armv6": 3, "armv6m": 4, "armv7m": 5, "armv7em": 6, "armv7emsp": 7,
                "armv7emdp": 8, "xtensa": 9, "xtensawin": 10, "rv32imc": 11, "rv64imc": 12}
# What this mpy-cross (1.27) can generate code for; rv64imc came later.
UNSUPPORTED = {"rv64imc"}


def mpy_value(major, sub, arch):
    return major | sub << 8 | ARCH_NUMBERS.get(arch, 0) << 10


def test_arch_flags_are_not_the_arch():
    """QEMU's VIRT_RV32 reports 77574: 6.3, rv32imc, arch flags 1 (Zba); a deploy gives it plain
    -march=rv32imc code (no -march-flags: an ESP32-C3/C6 has no Zba), which it loads."""
    v = mpycompile.decode_mpy(77574)
    assert (v.major, v.sub, v.arch_name, v.arch_flags) == (6, 3, "rv32imc", 1)
    assert mpycompile.native_arch(mpycompile.default_compiler(), v) == "rv32imc"
    assert mpycompile.loads_arch(v.arch_name, "rv32imc")


@pytest.mark.parametrize("arch", sorted(ARCH_NUMBERS))
def test_arch_from_the_boards_mpy_bits(arch):
    value = mpy_value(6, 3, arch)
    assert mpycompile.arch_of(value) == arch
    assert mpycompile.decode_mpy(value).arch_name == arch
    c = mpycompile.default_compiler()
    assert mpycompile.native_arch(c, mpycompile.decode_mpy(value)) == arch


def test_arch_none_and_unknown_bits_give_no_native_code():
    assert mpycompile.arch_of(774) is None                      # the WebAssembly port: v6.3, arch none
    assert mpycompile.arch_of(6 | 3 << 8 | 40 << 10) is None    # an arch this tool does not know
    assert mpycompile.arch_of(2822) == "x64"                    # the unix-port wheel
    # a board at v6.2 (MicroPython 1.22) with a v6.3 compiler: native code would not load there
    c = mpycompile.default_compiler()
    assert (c.major, c.sub) == (6, 3)
    assert mpycompile.native_arch(c, mpycompile.decode_mpy(mpy_value(6, 2, "armv6m"))) is None


@pytest.fixture(scope="module")
def per_arch(tmp_path_factory):
    """lib/tinyrnn compiled as a deploy compiles it for a v6.3 board of every arch (and arch none)."""
    root = tmp_path_factory.mktemp("arch")
    c = mpycompile.default_compiler()
    out = {}
    for arch in ["none"] + sorted(ARCH_NUMBERS):
        out[arch] = deploy.compile_lib(LIB, c, mpycompile.decode_mpy(mpy_value(6, 3, arch)), root,
                                       out=lambda *a: None)[0]
    return out


@pytest.mark.parametrize("arch", ["none"] + sorted(ARCH_NUMBERS))
def test_files_compiled_for_each_arch(per_arch, arch):
    out_dir = per_arch[arch]
    files = {p.name: p.read_bytes()[:4] for p in out_dir.glob("*.mpy")}
    bytecode = {p.stem + ".mpy" for p in LIB.glob("*.py")} - NATIVE
    native = NATIVE if arch != "none" and arch not in UNSUPPORTED else set()
    c_arch = natmod.FALLBACK.get(arch, arch)
    c_modules = {"_c.mpy", "_c_train.mpy"} if c_arch in natmod.ARCHS else set()   # the C kernels
    assert set(files) == bytecode | native | c_modules
    for name, head in files.items():
        assert head[:2] == b"M\x06", name
        if name in c_modules:
            assert (head[2] >> 2, head[2] & 3) == (ARCH_NUMBERS[c_arch], 3), name
        elif name in NATIVE:
            # header byte 2: arch << 2 | sub-version; native code carries the board's exact sub-version
            assert (head[2] >> 2, head[2] & 3) == (ARCH_NUMBERS[arch], 3), name
        else:
            assert head[2] == 0, name                           # bytecode: no arch, loads on every v6 board
    assert out_dir.parent.name == ("6.3" if arch == "none" else "6.3-" + arch)


def test_an_arch_the_compiler_cannot_target_gets_bytecode_with_a_note(tmp_path):
    lines = []
    c = mpycompile.default_compiler()
    out_dir, _ = deploy.compile_lib(LIB, c, mpycompile.decode_mpy(mpy_value(6, 3, "rv64imc")), tmp_path,
                                    out=lines.append)
    assert not any(p.name in NATIVE for p in out_dir.glob("*.mpy"))
    assert any("could not compile the viper modules for rv64imc" in line for line in lines)


def test_check_header_refuses_native_code_for_another_arch(per_arch):
    deploy.check_header(per_arch["armv6m"] / "_viper.mpy", mpycompile.decode_mpy(mpy_value(6, 3, "armv6m")))
    with pytest.raises(deploy.DeployError, match="native code for armv6m, but the board loads v6.3 native code for xtensawin"):
        deploy.check_header(per_arch["armv6m"] / "_viper.mpy", mpycompile.decode_mpy(mpy_value(6, 3, "xtensawin")))
    with pytest.raises(deploy.DeployError, match="native code for x64, but the board loads v6.3 native code for none"):
        deploy.check_header(per_arch["x64"] / "_viper.mpy", mpycompile.decode_mpy(774))
