"""Write or check package.json, the manifest `mpremote mip install` reads.

    python tools/gen_mip.py              # check: exit 1 if package.json is out of date
    python tools/gen_mip.py --write      # regenerate it from lib/tinyrnn/*.py
    python tools/gen_mip.py --write --version 0.2.0

It lists every lib/tinyrnn/*.py as ["tinyrnn/<file>", "lib/tinyrnn/<file>"]:
the destination under the board's lib folder, and the source as a path
relative to package.json. mip resolves relative sources against where it
found package.json, so the same file serves
`mpremote mip install github:OWNER/REPO` and `mpremote mip install ./package.json`.
The version is kept from the existing package.json unless --version is given.
"""
import argparse
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
LIB = ROOT / "lib" / "tinyrnn"
PACKAGE_JSON = ROOT / "package.json"
DEFAULT_VERSION = "0.1.0"


def current_version(path=PACKAGE_JSON):
    try:
        return json.loads(pathlib.Path(path).read_text())["version"]
    except (OSError, ValueError, KeyError):
        return DEFAULT_VERSION


def manifest(version, lib=LIB):
    files = sorted(p.name for p in pathlib.Path(lib).glob("*.py"))
    return {"urls": [["tinyrnn/" + f, "lib/tinyrnn/" + f] for f in files], "version": version}


def render(m):
    """JSON text with one [destination, source] pair per line (readable diffs)."""
    pairs = ",\n".join("    " + json.dumps(pair) for pair in m["urls"])
    return '{\n  "urls": [\n%s\n  ],\n  "version": %s\n}\n' % (pairs, json.dumps(m["version"]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="rewrite package.json")
    ap.add_argument("--version", help="set the package version (e.g. 0.2.0)")
    args = ap.parse_args(argv)
    version = args.version or current_version()
    if not re.fullmatch(r"\d+\.\d+(\.\d+)?", version):
        print("gen_mip: version %r is not like 1.2.3" % version)
        return 1
    m = manifest(version)
    text = render(m)
    old = PACKAGE_JSON.read_text() if PACKAGE_JSON.exists() else ""
    if args.write:
        if old != text:
            PACKAGE_JSON.write_text(text)
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
        print("gen_mip: package.json is out of date (missing: %s; extra: %s); run `python tools/gen_mip.py --write`"
              % (", ".join(sorted(want - have)) or "-", ", ".join(sorted(have - want)) or "-"))
        return 1
    print("gen_mip: package.json lists the %d files of lib/tinyrnn (version %s)" % (len(m["urls"]), version))
    return 0


if __name__ == "__main__":
    sys.exit(main())
