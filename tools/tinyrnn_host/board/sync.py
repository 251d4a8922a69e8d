"""Bring a board's files to what a deploy wants, comparing digests from the probe:
upload only what differs, remove the package's stale modules.

A library upgrade is all or nothing (docs/deploy.md, "An upgrade is all or nothing"): before the
first file of the package folder changes, a marker file MARKER is written into it, and it is
removed only after the last upload and removal; lib/tinyrnn/__init__.py refuses to import while
it is there, so a board whose upgrade was cut short (cable, Ctrl-C, a crash, a power cut) runs
neither the old set nor a mix of old and new modules, but says to deploy again, and the next
deploy finishes the job. __init__ itself goes first (the check is then the new one), under a
temporary name and renamed into place, so it is never half-written."""
import hashlib
import pathlib
import zlib


def say(*args):
    print(*args, flush=True)


def same_content(local, board_digest):
    """Whether the board's digest (from the probe) is that of this local file."""
    if not board_digest:
        return False                   # the board cannot hash: always upload
    kind, _, value = board_digest.partition(":")
    data = pathlib.Path(local).read_bytes()
    if kind == "sha256":
        return hashlib.sha256(data).hexdigest() == value
    if kind == "crc32":
        return "%08x" % zlib.crc32(data) == value
    return False


C_MODULES = ("_c.mpy", "_c_train.mpy")      # the C kernels, per arch (natmod.py)


def kept_c_modules(info, files):
    """The board's own C kernels that a deploy bringing none leaves in place: the host had none
    for it (no build for its arch, another .mpy version), which is no reason to take working
    kernels away. [] when the deploy brings its own (then the board's are replaced or removed)."""
    prefix = info.package_dir + "/"
    if any(prefix + m in files for m in C_MODULES):
        return []
    return [prefix + m for m in C_MODULES if prefix + m in info.files]


def plan_package(info, files, suffixes=(".py", ".mpy")):
    """Split {board path: local file} into (upload, unchanged), and list the package
    folder's other modules (stale .py/.mpy) for removal; the board's C kernels stay
    when `files` has none (kept_c_modules)."""
    upload, unchanged = [], []
    for remote, local in files.items():
        have = info.files.get(remote)
        if have and have[0] == pathlib.Path(local).stat().st_size and same_content(local, have[1]):
            unchanged.append(remote)
        else:
            upload.append(remote)
    prefix = info.package_dir + "/"
    kept = kept_c_modules(info, files)
    stale = sorted(p for p in info.files
                   if p.startswith(prefix) and p not in files and p.endswith(suffixes) and p not in kept)
    return upload, unchanged, stale


def mkdirs_code(dirs):
    return ("import os\nfor d in %r:\n    try:\n        os.mkdir(d)\n    except OSError:\n        pass\n" % (dirs,))


def remove_code(paths):
    return ("import os\nfor p in %r:\n    try:\n        os.remove(p)\n    except OSError:\n        pass\n" % (paths,))


MARKER = "_upgrading"         # in the package folder while an upgrade changes it (lib/tinyrnn/__init__.py)


def marker_text(path):
    """What the marker file says: the text of the ImportError the library raises while it is there."""
    return ("tinyrnn: an upgrade of this library was interrupted (%s is there): its modules may be a mix "
            "of old and new. Run `tinyrnn deploy` again to finish it." % path)


def mark_code(path):
    # written under a temporary name and renamed: the marker is never there without its text
    return ("f = open(%r, 'w')\nf.write(%r)\nf.close()\n" % (path + ".tmp", marker_text(path))
            + rename_code(path + ".tmp", path))


def rename_code(tmp, dst):
    # a replace of dst by tmp (one folder): one rename where the filesystem replaces (littlefs,
    # posix), else remove and rename (FAT); by bare names from inside the folder (the unix-port
    # virtual board's VfsPosix loses an absolute destination)
    folder, tmp = tmp.rsplit("/", 1)
    dst = dst.rsplit("/", 1)[1]
    return ("import os\nc = os.getcwd()\nos.chdir(%r)\ntry:\n    os.rename(%r, %r)\nexcept OSError:\n"
            "    os.remove(%r)\n    os.rename(%r, %r)\nos.chdir(c)\n" % (folder, tmp, dst, dst, tmp, dst))


def is_init(remote):
    return remote.rsplit("/", 1)[-1] in ("__init__.py", "__init__.mpy")


def upgrade_steps(info, files, upload, stale):
    """The mpremote commands of one upgrade of the package folder, in order (sync_package runs
    them as one mpremote call, joined by "+"): write MARKER (and the folders); __init__ under a
    temporary name, renamed into place; the other files; the stale modules removed, MARKER last.
    Each step a list of mpremote arguments."""
    pkg = info.package_dir
    marker = pkg + "/" + MARKER
    steps = [["exec", mkdirs_code([info.lib_dir, pkg]) + mark_code(marker)]]
    tmps = []
    for r in upload:
        if is_init(r):
            steps.append(["cp", "-f", str(files[r]), ":" + r + ".tmp"])
            steps.append(["exec", rename_code(r + ".tmp", r)])
            tmps.append(r + ".tmp")
    rest = [str(files[r]) for r in upload if not is_init(r)]
    if rest:
        steps.append(["cp", "-f"] + rest + [":" + pkg + "/"])
    gone = stale + [pkg + "/" + n + ".tmp" for n in ("__init__.py", "__init__.mpy", MARKER)
                    if pkg + "/" + n + ".tmp" not in tmps]
    steps.append(["exec", remove_code(gone + [marker])])
    return steps


def sync_package(board, info, files, report, dry_run=False, out=say):
    """Bring the board's package folder to exactly `files` ({board path: local}): upload what
    differs, then remove stale modules, in one mpremote call, all or nothing (upgrade_steps, the
    module docstring). A MARKER left by an interrupted upgrade is finished and removed."""
    upload, unchanged, stale = plan_package(info, files)
    for r in kept_c_modules(info, files):
        out("note: the board keeps its own %s (this deploy has no C kernels for it; `mpremote rm :%s` "
            "if it is from an older tinyrnn)" % (r, r))
    marker = info.package_dir + "/" + MARKER
    interrupted = marker in info.files
    if interrupted:
        out("found %s: an earlier upgrade was interrupted (the board refuses to import tinyrnn until one "
            "finishes): %s it" % (marker, "this deploy would finish" if dry_run else "finishing"))
    report.unchanged += unchanged
    verb = "would upload" if dry_run else "uploaded"
    upload = sorted(upload, key=lambda r: not is_init(r))        # __init__ first
    if upload or stale or interrupted:
        if not dry_run:
            args = []
            for step in upgrade_steps(info, files, upload, stale):
                args += (["+"] if args else []) + step
            board.mpremote(*args, timeout=60 + sum(pathlib.Path(files[r]).stat().st_size for r in upload) // 500)
        for r in upload:
            out("%s %s (%d bytes)" % (verb, r, pathlib.Path(files[r]).stat().st_size))
        for r in stale:
            why = " (it would shadow %smpy)" % r[:-2] if r.endswith(".py") and r[:-3] + ".mpy" in files else ""
            out("%s stale %s%s" % ("would remove" if dry_run else "removed", r, why))
    report.uploaded += upload
    report.removed += stale
    return upload


def sync_file(board, info, local, remote, report, dry_run=False, out=say):
    """Upload one file to `remote` unless the board already has it."""
    have = info.files.get(remote)
    if have and have[0] == pathlib.Path(local).stat().st_size and same_content(local, have[1]):
        report.unchanged.append(remote)
        return False
    if not dry_run:
        board.cp(local, ":" + remote, timeout=60 + pathlib.Path(local).stat().st_size // 500)
    out("%s %s (%d bytes)" % ("would upload" if dry_run else "uploaded", remote, pathlib.Path(local).stat().st_size))
    report.uploaded.append(remote)
    return True
