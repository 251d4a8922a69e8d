"""Bring a board's files to what a deploy wants, comparing digests from the probe:
upload only what differs, remove the package's stale modules."""
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


def sync_package(board, info, files, report, dry_run=False, out=say):
    """Bring the board's package folder to exactly `files` ({board path: local}):
    upload what differs, then remove stale modules, in one mpremote call."""
    upload, unchanged, stale = plan_package(info, files)
    for r in kept_c_modules(info, files):
        out("note: the board keeps its own %s (this deploy has no C kernels for it; `mpremote rm :%s` "
            "if it is from an older tinyrnn)" % (r, r))
    report.unchanged += unchanged
    verb = "would upload" if dry_run else "uploaded"
    if upload or stale:
        if not dry_run:
            args = ["exec", mkdirs_code([info.lib_dir, info.package_dir])]
            if upload:
                # Upload first, remove after: if the upload fails the board keeps a working set.
                args += ["+", "cp", "-f"] + [str(files[r]) for r in upload] + [":" + info.package_dir + "/"]
            if stale:
                args += ["+", "exec", remove_code(stale)]
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
