"""Write or check package.json, the manifest `mpremote mip install` reads, and one
package-<arch>.json per arch with prebuilt C kernels.

    tinyrnn mip                          # check: exit 1 if a package file is out of date
    tinyrnn mip --write                  # regenerate them from lib/tinyrnn/*.py
    tinyrnn mip --write --version 0.2.0

It lists every lib/tinyrnn/*.py as ["tinyrnn/<file>", "lib/tinyrnn/<file>"]:
the destination under the board's lib folder, and the source as a path
relative to package.json. mip resolves relative sources against where it
found package.json, so the same file serves
`mpremote mip install github:OWNER/REPO` and `mpremote mip install ./package.json`.
The version is kept from the existing package.json unless --version is given.

mip cannot choose an arch, so package.json has no native code (the viper sources compile
on a board with a native emitter). package-<arch>.json (x64, armv6m, armv7m, armv7emsp,
armv7emdp, rv32imc: natmod.ARCHS) lists the same files plus that arch's prebuilt C kernels,
["tinyrnn/_c.mpy", "lib/tinyrnn_c/prebuilt/<arch>/_c.mpy"] and _c_train.mpy:

    mpremote mip install github:OWNER/REPO/package-armv6m.json     # RP2040: C kernels

lib/tinyrnn_c/prebuilt/README.md says which `sys.implementation._mpy` takes which file.
They sit beside package.json because mip resolves relative sources against the folder
of the package file (and a "../" in a URL is not something to count on).
"""
import json
import pathlib
import re

from .. import paths
from . import natmod

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


def manifest(version, lib=None, arch=None):
    """package.json's content; arch: package-<arch>.json's (the prebuilt C kernels too)."""
    files = sorted(p.name for p in pathlib.Path(lib or paths.board_lib() / "tinyrnn").glob("*.py"))
    urls = [["tinyrnn/" + f, "lib/tinyrnn/" + f] for f in files]
    if arch:
        urls += [["tinyrnn/%s.mpy" % m, "lib/tinyrnn_c/prebuilt/%s/%s.mpy" % (arch, m)] for m in natmod.MODULES]
    return {"urls": urls, "version": version}


def arch_json(arch):
    return package_json().with_name("package-%s.json" % arch)


def targets(version):
    """[(path, manifest)]: package.json, then package-<arch>.json for each prebuilt arch."""
    return [(package_json(), manifest(version))] + [(arch_json(a), manifest(version, arch=a)) for a in natmod.ARCHS]


def render(m):
    """JSON text with one [destination, source] pair per line (readable diffs)."""
    pairs = ",\n".join("    " + json.dumps(pair) for pair in m["urls"])
    return '{\n  "urls": [\n%s\n  ],\n  "version": %s\n}\n' % (pairs, json.dumps(m["version"]))


def main(write=False, version=None):
    """`tinyrnn mip`: check package.json and package-<arch>.json against lib/tinyrnn, or rewrite them; exit code."""
    path = package_json()
    version = version or current_version(path)
    if not re.fullmatch(r"\d+\.\d+(\.\d+)?", version):
        print("gen_mip: version %r is not like 1.2.3" % version)
        return 1
    wanted = targets(version)
    extra = sorted(set(path.parent.glob("package-*.json")) - {p for p, _ in wanted})   # an arch no longer built
    bad = 0
    for target, m in wanted:
        text = render(m)
        old = target.read_text() if target.exists() else ""
        if write:
            if old != text:
                target.write_text(text)
                print("gen_mip: wrote %s (%d files, version %s)" % (target.name, len(m["urls"]), version))
            else:
                print("gen_mip: %s is up to date" % target.name)
            continue
        if not old:
            print("gen_mip: %s is missing; run `tinyrnn mip --write`" % target.name)
            bad += 1
        elif old != text:
            try:
                have = {d for d, _ in json.loads(old)["urls"]}
            except (ValueError, KeyError, TypeError):
                have = set()
            want = {d for d, _ in m["urls"]}
            print("gen_mip: %s is out of date (missing: %s; extra: %s); run `tinyrnn mip --write`"
                  % (target.name, ", ".join(sorted(want - have)) or "-", ", ".join(sorted(have - want)) or "-"))
            bad += 1
    for stale in extra:
        if write:
            stale.unlink()
            print("gen_mip: removed %s (no prebuilt C kernels for that arch)" % stale.name)
        else:
            print("gen_mip: %s is for an arch without prebuilt C kernels; run `tinyrnn mip --write`" % stale.name)
            bad += 1
    if write:
        return 0
    if bad:
        return 1
    print("gen_mip: package.json lists the %d files of lib/tinyrnn (version %s); package-<arch>.json adds the "
          "prebuilt C kernels for %s" % (len(wanted[0][1]["urls"]), version, ", ".join(natmod.ARCHS)))
    return 0
