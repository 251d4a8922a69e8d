"""A host folder as a script's filesystem (`tinyrnn run --fs DIR`): its files go in before
the run, and what the script wrote, changed or removed comes back into it after.

    files = script_fs.read(folder)                  # {relative path: bytes}
    ... run with those files, read every file back ...
    script_fs.write_back(folder, files, after)      # after: {relative path: bytes}
"""
import os
import pathlib


def read(folder):
    """Every file under folder, by its path relative to it ('/'-separated)."""
    folder = pathlib.Path(folder)
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def write_back(folder, before, after):
    """Make folder hold `after`: new and changed files written (via NAME.tmp and a rename),
    files the script removed removed. Returns (written, removed) relative paths."""
    folder = pathlib.Path(folder)
    written = [rel for rel, data in sorted(after.items()) if data is not None and before.get(rel) != data]
    removed = [rel for rel in sorted(before) if rel not in after]
    for rel in written:
        dst = folder / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(dst.name + ".tmp")
        tmp.write_bytes(after[rel])
        os.replace(tmp, dst)
    for rel in removed:
        (folder / rel).unlink()
    return written, removed
