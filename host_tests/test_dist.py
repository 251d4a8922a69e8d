"""`tinyrnn dist`: one bundle per .mpy version and native arch, each header right, and the
x64 bundle as it is runs on the unix port with its C kernels and the host's outputs."""
import pathlib
import zlib

import pytest

from tinyrnn_host.board import dist, mpunix, natmod

LIB = pathlib.Path(__file__).resolve().parent.parent / "lib" / "tinyrnn"
NATIVE = {"_viper.mpy", "_viper_train.mpy"}
C_MODULES = {"_c.mpy", "_c_train.mpy"}           # where natmod builds them (or an older Thumb arch's)
BYTECODE = {p.stem + ".mpy" for p in LIB.glob("*.py")} - NATIVE
ARCH_NUMBERS = {"x86": 1, "x64": 2, "armv6": 3, "armv6m": 4, "armv7m": 5, "armv7em": 6, "armv7emsp": 7,
                "armv7emdp": 8, "xtensa": 9, "xtensawin": 10, "rv32imc": 11}
DESC = {"input": 3, "layers": [{"kind": "gru", "hidden": 8}], "head": {"out": 2, "act": "identity"}}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    return dist.build(out, out=lambda *a: None)


def headers(folder):
    return {p.name: p.read_bytes()[:4] for p in (folder / "lib" / "tinyrnn").glob("*.mpy")}


def test_one_bundle_per_mpy_version_and_arch(bundles):
    v = dist.lib_version()
    want = {"tinyrnn-%s-mpy6-bytecode" % v, "tinyrnn-%s-mpy5-bytecode" % v}
    want |= {"tinyrnn-%s-mpy6.3-%s" % (v, a) for a in ARCH_NUMBERS}
    assert set(bundles) == want
    for name, folder in bundles.items():
        text = (folder / "README.md").read_text()
        assert text.startswith("# " + name) and "Which board takes it" in text and "mpremote cp -r lib :" in text


def test_bytecode_bundles_hold_no_native_code(bundles):
    v = dist.lib_version()
    for major in (6, 5):
        files = headers(bundles["tinyrnn-%s-mpy%d-bytecode" % (v, major)])
        assert set(files) == BYTECODE
        for name, head in files.items():
            assert head[:2] == bytes([ord("M"), major]), name
            assert head[2] >> 2 == 0, name                 # no arch
            assert head[2] & 3 == (0 if major == 6 else 2), name   # v5: the unicode feature flag
    assert "`sys.implementation._mpy & 0xff` == 6" in (bundles["tinyrnn-%s-mpy6-bytecode" % v] / "README.md").read_text()


@pytest.mark.parametrize("arch", sorted(ARCH_NUMBERS))
def test_native_bundle_headers(bundles, arch):
    folder = bundles["tinyrnn-%s-mpy6.3-%s" % (dist.lib_version(), arch)]
    files = headers(folder)
    c_arch = natmod.FALLBACK.get(arch, arch)
    assert set(files) == BYTECODE | NATIVE | (C_MODULES if c_arch in natmod.ARCHS else set())
    for name, head in files.items():
        want = (ARCH_NUMBERS[c_arch if name in C_MODULES else arch] << 2 | 3) if name in NATIVE | C_MODULES else 0
        assert head[:3] == bytes([ord("M"), 6, want]), name
    value = 6 | 3 << 8 | ARCH_NUMBERS[arch] << 10
    assert "`sys.implementation._mpy` == %d" % value in (folder / "README.md").read_text()


def test_x64_bundle_runs_on_the_unix_port_with_c_kernels(bundles):
    folder = bundles["tinyrnn-%s-mpy6.3-x64" % dist.lib_version()]
    xs = [[(j * 97 + t * 31) % 700 - 350 for j in range(3)] for t in range(5)]
    res = mpunix.run_unix(
        "import tinyrnn, tinyrnn._c as V\nfrom tinyrnn.model import Model\n"
        "m = Model(%r, seed=5)\nprint('OUT', [list(y) for y in m.run(%r)])\n"
        "import binascii\nf = open(V.__file__, 'rb')\n"
        "print('KERNELS', tinyrnn.KERNELS, V.__file__, binascii.crc32(f.read()))\n" % (DESC, xs),
        heap_bytes=65536, compiled_lib=folder / "lib")
    from tinyrnn.model import Model
    want = [list(y) for y in Model(DESC, seed=5).run(xs)]
    assert "OUT %r" % (want,) in res.stdout
    # the native module it ran is the bundle's file (the runner shows the bundle as ../lib)
    bundled = (folder / "lib" / "tinyrnn" / "_c.mpy").read_bytes()
    assert "KERNELS c ../lib/tinyrnn/_c.mpy %d" % zlib.crc32(bundled) in res.stdout
