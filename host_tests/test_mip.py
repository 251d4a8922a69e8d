"""package.json (for `mpremote mip install`) lists lib/tinyrnn exactly, and mip
installs from it, offline: from the checkout's path and from a local HTTP
server laid out like the repository (what `github:OWNER/REPO` resolves to)."""
import functools
import http.server
import json
import pathlib
import re
import subprocess
import sys
import threading

import pytest

import needs

from tinyrnn_host.board import gen_mip
from tinyrnn_host.board import uboard

ROOT = pathlib.Path(__file__).resolve().parent.parent
LIB = ROOT / "lib" / "tinyrnn"


def test_package_json_lists_exactly_lib_tinyrnn():
    pkg = json.loads((ROOT / "package.json").read_text())
    files = sorted(p.name for p in LIB.glob("*.py"))
    assert pkg["urls"] == [["tinyrnn/" + f, "lib/tinyrnn/" + f] for f in files], \
        "package.json is out of date: run `tinyrnn mip --write`"
    for dest, src in pkg["urls"]:
        assert (ROOT / src).is_file()
    assert re.fullmatch(r"\d+\.\d+\.\d+", pkg["version"])
    assert set(pkg) <= {"urls", "version", "deps", "hashes"}    # the keys mip reads (and version)
    assert gen_mip.main() == 0                                # the checker agrees, byte for byte


def test_github_source_resolves_to_the_repository_layout():
    """mip turns github:OWNER/REPO into .../OWNER/REPO/HEAD/package.json and each
    relative source into .../OWNER/REPO/HEAD/<source>: the repository layout."""
    mip = needs.mpremote_mip()
    assert hasattr(mip, "_rewrite_url"), "the pinned mpremote's mip has _rewrite_url"
    base = "github:OWNER/tinyrnn/package.json".rpartition("/")[0]
    url = mip._rewrite_url(base + "/lib/tinyrnn/gru.py")
    assert url.endswith("/OWNER/tinyrnn/HEAD/lib/tinyrnn/gru.py")


@pytest.mark.parametrize("runtime", ["wasm", "unix"])
def test_mip_install_on_the_virtual_board(tmp_path, runtime):
    """The real `mpremote mip install` onto the WebAssembly virtual board (arch none: the
    viper sources are there but fail to compile, so bytecode kernels) and the unix-port one
    (viper from source), then a smoke inference equal to the host's."""
    needs.node()
    handler = functools.partial(_QuietHandler, directory=str(ROOT))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    flash = tmp_path / "flash"
    b, port = uboard.start_virtual(runtime, None, flash, time_limit=90)
    try:
        def mpremote(*args):
            proc = subprocess.run([sys.executable, "-m", "mpremote", "connect", port, *args],
                                  capture_output=True, text=True, timeout=60, cwd=str(ROOT))
            assert proc.returncode == 0, proc.stdout + proc.stderr
            return proc.stdout.replace("\r\n", "\n")

        for source in ("./package.json", "http://127.0.0.1:%d/package.json" % server.server_address[1]):
            out = mpremote("mip", "install", source)
            assert "Done" in out
            for py in LIB.glob("*.py"):
                assert (flash / "lib" / "tinyrnn" / py.name).read_bytes() == py.read_bytes(), (source, py.name)
            out = mpremote("exec", "from tinyrnn.model import Model\nimport tinyrnn.model as M\n"
                                   "m = Model({'input': 2, 'layers': [{'kind': 'gru', 'hidden': 3}]}, seed=1)\n"
                                   "import tinyrnn\n"
                                   "print('OUT', list(m.step([256, -128])), M.__file__, tinyrnn.KERNELS)")
            from tinyrnn.model import Model
            want = list(Model({"input": 2, "layers": [{"kind": "gru", "hidden": 3}]}, seed=1).step([256, -128]))
            kernels = "viper" if runtime == "unix" else "bytecode"
            assert "OUT %r /lib/tinyrnn/model.py %s" % (want, kernels) in out
            mpremote("rm", "-r", ":lib")
            assert not (flash / "lib").exists()
    finally:
        b.stop()
        server.shutdown()
        server.server_close()
    assert not b.alive()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
