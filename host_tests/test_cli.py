"""The `tinyrnn` command: every subcommand is listed and has --help, boards are named as
mpremote names them, and --help imports neither NumPy nor torch."""
import pathlib
import subprocess
import sys

import pytest

import needs

from tinyrnn_host import cli, paths
from tinyrnn_host.board import device

COMMANDS = ["demo", "deploy", "vboard", "device-test", "run", "mip", "dist", "import-torch", "export-torch",
            "torch-error", "import-keras", "keras-error", "train", "examples", "bench", "sizes", "quant-error",
            "tables"]


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    listed = [line.split()[0] for line in out.splitlines() if line.startswith("    ") and line[4:5].strip()]
    assert listed == COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_each_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main([command, "--help"])
    assert e.value.code == 0
    assert capsys.readouterr().out.startswith("usage: tinyrnn " + command)


def test_console_script_and_module_run_the_cli():
    script = pathlib.Path(sys.executable).with_name("tinyrnn")    # installed by `make setup` (pip install -e .)
    for argv in ([str(script), "--help"], [sys.executable, "-m", "tinyrnn_host", "--help"]):
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "import-torch" in r.stdout, r.stderr


def test_help_imports_no_numpy_or_torch():
    code = "import sys, tinyrnn_host.cli as c; c.parser(); print(sorted({'numpy', 'torch'} & set(sys.modules)))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "[]", r.stdout + r.stderr


def test_ports_as_mpremote_spells_them():
    assert device.connect_args("a0") == ["a0"]                  # mpremote's shortcuts, unchanged
    assert device.connect_args("u1") == ["u1"] and device.connect_args("c3") == ["c3"]
    assert device.connect_args("/dev/ttyACM0") == ["connect", "/dev/ttyACM0"]
    assert device.connect_args("COM3") == ["connect", "COM3"]
    assert device.connect_args("id:334D335C3138") == ["connect", "id:334D335C3138"]
    assert device.connect_args("auto") == ["connect", "auto"]
    assert device.mpremote_command("a0", "ls")[-2:] == ["a0", "ls"]
    args = cli.parser().parse_args(["demo", "-p", "u0"])
    assert args.port == "u0"


def test_heap_sizes_accept_k_and_m():
    assert cli.parser().parse_args(["run", "x.py", "--heap", "64K"]).heap == 65536
    assert cli.parser().parse_args(["run", "x.py", "--heap", "1M"]).heap == 1 << 20
    assert cli.parser().parse_args(["run", "x.py"]).heap == 65536


def test_train_refuses_bad_sizes_and_one_out_for_all_tasks(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--hidden", "32,x"])
    with pytest.raises(SystemExit):
        cli.main(["train", "--task", "all", "--out", "x.bin"])
    from tinyrnn_host.interop import host_train
    from tinyrnn_host.cli import interop
    assert interop.TASKS == tuple(sorted(host_train.TASKS))


def test_missing_webassembly_build_is_an_error_not_a_traceback(tmp_path, monkeypatch, capsys):
    (tmp_path / "x.py").write_text("print(1)\n")
    monkeypatch.setattr(paths, "node_modules", lambda: None)
    assert cli.main(["run", str(tmp_path / "x.py")]) == 2
    err = capsys.readouterr().err
    assert "tinyrnn run: error: the MicroPython WebAssembly build" in err and "make setup" in err
    assert cli.main(["deploy", "--fs", str(tmp_path / "fs"), "--build-dir", str(tmp_path / "build")]) == 2
    assert "deploy: error: virtual board (wasm): the MicroPython WebAssembly build" in capsys.readouterr().err


def test_run_reports_the_heap_cap(tmp_path, capfd):
    needs.node()
    (tmp_path / "fits.py").write_text("from tinyrnn import q88\nprint(q88.mul(384, 384))\n")
    assert cli.main(["run", str(tmp_path / "fits.py"), "--heap", "64K"]) == 0
    assert "576\n[heap: fits the 65536-byte cap" in capfd.readouterr().out
    (tmp_path / "hog.py").write_text("x = [bytearray(1024) for _ in range(100)]\n")
    assert cli.main(["run", str(tmp_path / "hog.py"), "--heap", "64K"]) == 1
    assert "script needed more than the 65536-byte heap cap" in capfd.readouterr().out
