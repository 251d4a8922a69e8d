"""The `tinyrnn` command: every subcommand is listed and has --help, boards are named as
mpremote names them, and --help imports neither NumPy nor torch."""
import pathlib
import subprocess
import sys

import pytest

import needs

from tinyrnn_host import cli, paths
from tinyrnn_host.board import device

COMMANDS = ["demo", "deploy", "vboard", "device-test", "run", "mip", "dist", "natmod", "import-torch", "export-torch",
            "torch-error", "import-keras", "keras-error", "train", "examples", "bench", "sizes", "programs", "quant-error",
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


# ---- errors name what is wrong and list what is valid, before any board starts ---------------
def test_unknown_example_lists_the_examples(capsys):
    from tinyrnn_host.reports import run_example
    assert cli.main(["examples", "nope"]) == 2
    err = capsys.readouterr().err
    assert "examples: no example 'nope'" in err and "Traceback" not in err
    assert all(name in err for name in run_example.CAPS)


def test_unknown_device_test_lists_the_test_files(capsys):
    assert cli.main(["device-test", "test_nope", "test_q88"]) == 2
    err = capsys.readouterr().err
    assert "no test file 'test_nope'" in err and "test_q88" in err and "test_train_locked" in err


def no_board(*a, **kw):
    raise AssertionError("a board was started")


def test_deploy_to_a_port_that_does_not_exist(monkeypatch, capsys):
    from tinyrnn_host.board import uboard
    monkeypatch.setattr(uboard, "start_virtual", no_board)
    monkeypatch.setattr(device.Board, "mpremote", no_board)
    for port, shown in (("/dev/ttyFOO", "port /dev/ttyFOO does not exist"),
                        ("a9", "port a9 (/dev/ttyACM9) does not exist")):
        assert cli.main(["deploy", "-p", port]) == 2
        err = capsys.readouterr().err
        assert shown in err and "in use" not in err, err
    assert cli.main(["demo", "-p", "/dev/ttyFOO"]) == 2
    assert "port /dev/ttyFOO does not exist" in capsys.readouterr().err


def test_deploy_refuses_a_missing_weights_file_before_any_board_starts(tmp_path, monkeypatch, capsys):
    from tinyrnn_host.board import uboard
    monkeypatch.setattr(uboard, "start_virtual", no_board)
    monkeypatch.setattr(device.Board, "mpremote", no_board)
    assert cli.main(["deploy", "--weights", str(tmp_path / "missing.bin")]) == 2
    assert "--weights: file %s not found" % (tmp_path / "missing.bin") in capsys.readouterr().err
    assert cli.main(["deploy", "--app", str(tmp_path / "app.py")]) == 2
    assert "--app: file" in capsys.readouterr().err


def test_a_pickled_module_is_refused_in_plain_text(tmp_path):
    import torch
    from tinyrnn_host.interop import torch_import
    torch.save(torch.nn.GRU(2, 3), tmp_path / "module.pt")
    with pytest.raises(torch_import.TorchImportError) as e:
        torch_import.load_torch(tmp_path / "module.pt")
    assert "not a plain state_dict" in str(e.value) and "--unsafe-pickle" in str(e.value)
    assert "\x1b" not in str(e.value)


# ---- progress: long runs feed a tqdm bar from the board's output ------------------------------
def test_the_bar_counts_lines_as_they_come_on_both_runtimes():
    from tinyrnn_host.board import mpunix, mpvm
    from tinyrnn_host.reports.progress import LineBar
    script = "for i in range(3):\n    print('{\"row\": %d}' % i)\n    print('other')\n"
    for run in (mpvm.run_vm, mpunix.run_unix):
        bar = LineBar(3, "test", b"{")
        seen = []
        res = run(script, echo=lambda data: seen.append(bar.feed(data)))
        bar.close()
        assert sum(seen) == 3 and bar.bar.n == 3, (run, seen)
        assert res.stdout.count("other") == 3


def test_bench_and_the_vm_half_of_examples_show_a_bar(monkeypatch):
    from tinyrnn_host.reports import bench, run_example
    echoes = []
    monkeypatch.setattr(bench.mpunix, "run_unix", lambda *a, **kw: echoes.append(kw["echo"]) or FakeRes())
    monkeypatch.setattr(bench.mpvm, "run_vm", lambda *a, **kw: echoes.append(kw["echo"]) or FakeRes())
    bench.measure_unix(progress=True)
    bench.measure_wasm(progress=True)
    monkeypatch.setattr(run_example, "on_unix", lambda path, cap, mpy, echo: ("RESULT x a=1\n" * 4, 0.1))
    monkeypatch.setattr(run_example, "on_vm", lambda path, cap, mpy, echo: echoes.append(echo) or (FakeRes(), 0.1))
    assert run_example.main(["gru_xor"]) == 0
    assert len(echoes) == 3 and all(callable(e) and e.__self__.__class__.__name__ == "LineBar" for e in echoes)


class FakeRes:
    stdout = "RESULT x a=1\n"
    heap_grew = False
    peak_alloc = heap_end = 1


# ---- tinyrnn run on either runtime, --fs kept ---------------------------------------------------
CHURN = "for i in range(400):\n    b = bytearray(1000)\nprint('churned')\n"   # 400 KB of garbage, 1 KB live
HOLD = "keep = [bytearray(1000) for _ in range(100)]\nprint('held')\n"         # 100 KB live


def test_run_on_the_unix_port_has_a_hard_cap_and_a_gc(tmp_path, capfd):
    (tmp_path / "churn.py").write_text(CHURN)
    (tmp_path / "hold.py").write_text(HOLD)
    assert cli.main(["run", str(tmp_path / "churn.py"), "--runtime", "unix", "--heap", "64K"]) == 0
    assert "churned\n[heap: ran under the 65536-byte hard cap (unix port)]" in capfd.readouterr().out
    assert cli.main(["run", str(tmp_path / "hold.py"), "--runtime", "unix", "--heap", "64K"]) == 1
    out, err = capfd.readouterr()
    assert "MemoryError" in out + err and "held" not in out
    needs.node()           # the VM frees nothing during a run: the garbage alone passes its cap
    assert cli.main(["run", str(tmp_path / "churn.py"), "--heap", "64K"]) == 1
    assert "the VM frees nothing during a run" in capfd.readouterr().out


def test_run_help_says_what_each_heap_figure_means(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "GROWS when full; it frees nothing while the script runs" in out
    assert "--heap is a HARD cap" in out and "--fs DIR" in out


@pytest.mark.parametrize("runtime", ["wasm", "unix"])
def test_run_keeps_what_the_script_writes_in_fs(runtime, tmp_path, capfd):
    if runtime == "wasm":
        needs.node()
    fs = tmp_path / "fs"
    (fs / "old").mkdir(parents=True)
    (fs / "n.txt").write_text("7")
    (fs / "old" / "gone.txt").write_text("x")
    (tmp_path / "s.py").write_text(
        "import os\nn = int(open('n.txt').read())\nos.mkdir('data')\n"
        "with open('data/out.bin', 'wb') as f:\n    f.write(bytes([n, n * 2]))\n"
        "with open('n.txt', 'w') as f:\n    f.write(str(n + 1))\nos.remove('old/gone.txt')\n")
    assert cli.main(["run", str(tmp_path / "s.py"), "--runtime", runtime, "--fs", str(fs)]) == 0
    assert "[fs: 2 file(s) written to %s, 1 removed]" % fs in capfd.readouterr().out
    assert (fs / "data" / "out.bin").read_bytes() == bytes([7, 14])
    assert (fs / "n.txt").read_text() == "8" and not (fs / "old" / "gone.txt").exists()
    assert cli.main(["run", str(tmp_path / "s.py"), "--runtime", runtime, "--fs", str(tmp_path / "nodir")]) == 2
