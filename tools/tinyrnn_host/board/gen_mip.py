"""Write or check package.json, the manifest `mpremote mip install` reads.

    tinyrnn mip                          # check: exit 1 if package.json is out of date
    tinyrnn mip --write                  # regenerate it from lib/tinyrnn/*.py
    tinyrnn mip --write --version 0.2.0

It lists every lib/tinyrnn/*.py as ["tinyrnn/<file>", "lib/tinyrnn/<file>"]:
the destination under the board's lib folder, and the source as a path
relative to package.json. mip resolves relative sources against where it
found package.json, so the same file serves
`mpremote mip install github:OWNER/REPO` and `mpremote mip install ./package.json`.
The version is kept from the existing package.json unless --version is given.
"""
import json
import pathlib
import re

from .. import paths

DEFAULT_VERSION = "0.1.0"


def package_json():
    """The checkout's package.json (mip reads it from the repository)."""
    root = paths.checkout()
    if root is None:
        raise FileNotFoundError("package.json lives in a tinyrnn checkout; this package runs from a wheel")
    return root / "package.json"


def current_version(path):
    try:
        return json.loads(pathlib.Path(path).read_text())["version"]
    except (OSError, ValueError, KeyError):
        return DEFAULT_VERSION


def manifest(version, lib=None):
    files = sorted(p.name for p in pathlib.Path(lib or paths.board_lib() / "tinyrnn").glob("*.py"))
    return {"urls": [["tinyrnn/" + f, "lib/tinyrnn/" + f] for f in files], "version": version}


def render(m):
    """JSON text with one [destination, source] pair per line (readable diffs)."""
    pairs = ",\n".join("    " + json.dumps(pair) for pair in m["urls"])
    return '{\n  "urls": [\n%s\n  ],\n  "version": %s\n}\n' % (pairs, json.dumps(m["version"]))


def main(write=False, version=None):
    """`tinyrnn mip`: check package.json against lib/tinyrnn, or rewrite it; exit code."""
    path = package_json()
    version = version or current_version(path)
    if not re.fullmatch(r"\d+\.\d+(\.\d+)?", version):
        print("gen_mip: version %r is not like 1.2.3" % version)
        return 1
    m = manifest(version)
    text = render(m)
    old = path.read_text() if path.exists() else ""
    if write:
        if old != text:
            path.write_text(text)
            print("gen_mip: wrote package.json (%d files, version %s)" % (len(m["urls"]), version))
        else:
            print("gen_mip: package.json is up to date")
        return 0
    if old != text:
        try:
            have = {d for d, _ in json.loads(old)["urls"]}
        except (ValueError, KeyError, TypeError):
            have = set()
        want = {d for d, _ in m["urls"]}
        print("gen_mip: package.json is out of date (missing: %s; extra: %s); run `tinyrnn mip --write`"
              % (", ".join(sorted(want - have)) or "-", ", ".join(sorted(have - want)) or "-"))
        return 1
    print("gen_mip: package.json lists the %d files of lib/tinyrnn (version %s)" % (len(m["urls"]), version))
    return 0
