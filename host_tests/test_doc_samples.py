"""Every ```python block of README.md and docs/*.md runs as written, on its runtime, and
states what it prints (doc_samples.py says how blocks are marked and checked).

Board blocks run on the MicroPython unix port (the library as .mpy, viper native) and on
the WebAssembly VM; host blocks under CPython. The blocks of one document share a
working folder in order (files one writes are there for the next, on every runtime).
"""
import os
import pathlib
import subprocess
import sys

import pytest

import doc_samples
from tinyrnn_host.board import mpunix, mpvm

UNIX_HEAP = 256 * 1024
VENV_BIN = pathlib.Path(sys.executable).parent


def test_every_block_is_found_and_marked():
    found = [b for d in doc_samples.documents() for b in doc_samples.blocks(d)]
    assert len([b for b in found if b.doc == "README.md"]) >= 6
    assert {b.runtime for b in found} <= {"board", "host"}, [(b.name, b.runtime) for b in found]


def test_printed_comments_are_read():
    src, checks = doc_samples.instrumented("from tinyrnn import q88\n"
                                           "a = q88.from_str('1.5')   # 384\n"
                                           "q88.to_str(a)   # '1.5000'\n"
                                           "q88.add(a, a)   # 768: doubled\n"
                                           "q88.mul(a, a)   # the product, rounded once\n")
    assert checks == [(2, 384), (3, "1.5000"), (4, 768)]
    assert doc_samples.matches("0.9063", "'0.9063'") and not doc_samples.matches("0.9062", "'0.9063'")


def _files(work):
    return {str(p.relative_to(work)): p.read_bytes() for p in work.rglob("*") if p.is_file()}


def _written(block):
    """File names the block's string literals mention (read back after a board run)."""
    import ast
    return sorted({n.value for n in ast.walk(ast.parse(block.source))
                   if isinstance(n, ast.Constant) and isinstance(n.value, str)
                   and "." in n.value and " " not in n.value and not n.value[0].isdigit()})


@pytest.fixture(scope="module")
def compiled_lib(tmp_path_factory):
    """The library as .mpy for the unix port, compiled once for every board block."""
    return mpunix.compiled_lib_dir(tmp_path_factory.mktemp("doc_samples_lib") / "lib")


def _run(block, src, work, compiled_lib):
    """Run one block on each of its runtimes; [(runtime, stdout)]."""
    if block.runtime == "host":
        env = dict(os.environ, PYTHONPATH=str(doc_samples.ROOT / "examples"),
                   PATH=str(VENV_BIN) + os.pathsep + os.environ.get("PATH", ""))
        res = subprocess.run([sys.executable, "-c", src], cwd=work, capture_output=True, text=True,
                             timeout=300, env=env)
        assert res.returncode == 0, "%s on CPython:\n%s%s" % (block.name, res.stdout, res.stderr)
        return [("cpython", res.stdout)]
    files, names = _files(work), _written(block)
    extra = [str(doc_samples.ROOT / "examples")]
    unix = mpunix.run_unix(src, heap_bytes=UNIX_HEAP, files=files, collect=names, extra_dirs=extra,
                           timeout=120, check=False, compiled_lib=compiled_lib)
    assert unix.returncode == 0 and not unix.error, "%s on the unix port:\n%s%s" % (block.name, unix.stdout, unix.error)
    vm = mpvm.run_vm(src, files={"/" + k: v for k, v in files.items()}, collect=["/" + n for n in names],
                     extra_dirs=[(extra[0], "/lib")], allow_growth=True, check=False, timeout=120)
    assert not vm.error, "%s on the VM:\n%s%s" % (block.name, vm.stdout, vm.error)
    for name, data in unix.files.items():
        if data is not None:            # what the board wrote is there for the next block
            (work / name).write_bytes(data)
    return [("unix port", unix.stdout), ("VM", vm.stdout)]


@pytest.mark.parametrize("doc", [str(d.relative_to(doc_samples.ROOT)) for d in doc_samples.documents()
                                 if doc_samples.blocks(d)])
def test_document_samples_run_and_print_what_they_say(doc, tmp_path, compiled_lib):
    work = tmp_path / "work"
    work.mkdir()
    for block in doc_samples.blocks(doc_samples.ROOT / doc):
        if block.after:
            env = dict(os.environ, PATH=str(VENV_BIN) + os.pathsep + os.environ.get("PATH", ""))
            res = subprocess.run(block.after, shell=True, cwd=work, capture_output=True, text=True,
                                 timeout=300, env=env)
            assert res.returncode == 0, "%s: `%s` failed:\n%s%s" % (block.name, block.after, res.stdout, res.stderr)
        src, checks = doc_samples.instrumented(block.source)
        for runtime, stdout in _run(block, src, work, compiled_lib):
            printed = doc_samples.printed_values(stdout)
            for line, want in checks:
                assert line in printed, "%s line %d printed nothing on %s" % (block.name, line, runtime)
                assert doc_samples.matches(want, printed[line]), (
                    "%s line %d on %s: the comment says %r, it printed %s"
                    % (block.name, block.line + line - 1, runtime, want, printed[line]))
