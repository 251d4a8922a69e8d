"""The Cortex-M3 board (board/qemu): MicroPython v1.28.0 firmware built from source for QEMU's
mps2-an385, reached through its pty by the real mpremote as a board on /dev/ttyACM0 is: a
littlefs filesystem that mpremote cp/ls use and that survives soft and hard resets, boot.py on
every reset and main.py after a hard one, the firmware cached by content, bad input refused."""
import os
import subprocess
import sys
import time

import pytest

from tinyrnn_host import paths
from tinyrnn_host.board import deploy, mpycompile
from tinyrnn_host.board.qemu import QemuBoard, QemuBoardError, build, firmware, qemu_command

import needs

LIB = paths.board_lib() / "tinyrnn"


@pytest.fixture(scope="module")
def elf():
    needs.qemu_toolchain()
    return firmware(65536)


@pytest.fixture
def board(elf):
    b = QemuBoard(elf=elf, time_limit=300)
    port = b.start()
    try:
        yield b, port
    finally:
        b.stop()
        assert not b.alive(), "QEMU outlived the test"
        with pytest.raises(ProcessLookupError):
            os.kill(b.pid, 0)


def mpremote(port, *args, timeout=60):
    proc = subprocess.run([sys.executable, "-m", "mpremote", "connect", port, *args],
                          capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout.replace("\r\n", "\n") + proc.stderr


def test_firmware_is_cached_by_content(elf):
    t = time.monotonic()
    assert firmware(65536) == elf                 # same inputs: the cached build, no make
    assert time.monotonic() - t < 10
    assert "64k" in elf.parent.name and (elf.parent / "manifest.py").read_text().count("_boot.py") == 1
    # a different heap is a different build (its name says so) -- not built here
    src = build.source_copy()
    port = build.port_copy(src)
    assert (port / "main.c").read_bytes() == (build.PORT_DIR / "main.c").read_bytes()
    assert (src / "ports" / "qemu" / "main.c").read_bytes() != (port / "main.c").read_bytes()


def test_identity_filesystem_and_resets(board, tmp_path):
    b, port = board
    assert b.banner.startswith("MicroPython v1.28.0") and "Cortex-M3" in b.banner, b.banner
    code, out = mpremote(port, "exec", "import sys, gc\nprint(sys.implementation._mpy, "
                         "sys.implementation._build, sys.platform, sys.path)\ngc.collect()\n"
                         "print('HEAP', gc.mem_free() + gc.mem_alloc())")
    assert code == 0, out
    assert "6918 MPS2_AN385 qemu ['', '.frozen', '/lib']" in out       # mpy 6.3, arch armv7m
    heap = int(out.split("HEAP ")[1].split()[0])
    assert 60000 < heap <= 65536, out                                   # MICROPY_HEAP_SIZE=65536
    (tmp_path / "boot.py").write_text("f = open('boots.txt', 'a')\nf.write('b')\nf.close()\n")
    (tmp_path / "main.py").write_text("f = open('mains.txt', 'a')\nf.write('m')\nf.close()\n")
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)) * 40)
    for name in ("boot.py", "main.py", "blob.bin"):
        code, out = mpremote(port, "cp", str(tmp_path / name), ":" + name)
        assert code == 0, out
    code, out = mpremote(port, "exec", "import os\nprint(sorted(os.listdir()))\n"
                         "print(open('boots.txt').read())\nprint(os.stat('blob.bin')[6])")
    assert code == 0, out
    # mpremote's soft reset at the start of each of the 3 calls since boot.py arrived ran it;
    # main.py does not run in the raw REPL
    assert "['blob.bin', 'boot.py', 'boots.txt', 'main.py']\nbbb\n10240\n" in out, out
    code, out = mpremote(port, "reset", timeout=30)        # machine.reset(): a hard reset, same pty
    assert code == 0, out
    time.sleep(2)
    assert b.alive(), "machine.reset() must reset the board, not end QEMU"
    code, out = mpremote(port, "exec", "print(open('mains.txt').read(), open('boots.txt').read())")
    assert code == 0, out
    # the hard reset ran boot.py, then main.py (the REPL is the friendly one after a reset), then
    # this call's soft reset boot.py again
    assert "m bbbbb" in out, out
    code, out = mpremote(port, "cp", ":blob.bin", str(tmp_path / "back.bin"))
    assert code == 0 and (tmp_path / "back.bin").read_bytes() == (tmp_path / "blob.bin").read_bytes(), out


def test_its_block_device_reads_files_without_allocating(board, tmp_path):
    # machine.RAMDisk is C, as a board's flash driver is: a file read through littlefs allocates
    # nothing (a block device in Python leaves garbage per block read, between the code objects
    # of every .mpy import: a more fragmented heap than a board's); a read past its end is EIO
    b, port = board
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)) * 40)
    code, out = mpremote(port, "cp", str(tmp_path / "blob.bin"), ":blob.bin")
    assert code == 0, out
    code, out = mpremote(port, "exec", "import machine, micropython\n"
                         "f = open('blob.bin', 'rb')\nbuf = bytearray(5000)\nmicropython.heap_lock()\n"
                         "try:\n    n = f.readinto(buf)\nfinally:\n    micropython.heap_unlock()\n"
                         "print('LOCKED', n, buf == bytes(range(256)) * 19 + bytes(range(136)))\n"
                         "d = machine.RAMDisk(0x20000000, 512, 2048)\n"
                         "try:\n    d.readblocks(2047, bytearray(1024))\nexcept OSError as e:\n    print('PAST', e.errno)\n"
                         "print('SIZE', d.ioctl(4, 0), d.ioctl(5, 0))\n")
    assert code == 0, out
    assert "LOCKED 5000 True" in out and "PAST 5" in out and "SIZE 2048 512" in out, out


def test_deploy_gives_it_native_code_matched_to_its_mpy(board, tmp_path):
    """_mpy 6918 is mpy 6.3 with arch 6, armv7em: MicroPython's persistentcode.h gives that to
    every Thumb-2 firmware without an FPU, the Cortex-M3's included (it loads armv6m..armv7em).
    The deploy reads it and compiles with -march=armv7em; for tinyrnn's viper modules that code
    is byte for byte mpy-cross's -march=armv7m output (only the header's arch field differs), so
    what runs here is Cortex-M3 code -- and QEMU's cortex-m3 would fault on a DSP instruction."""
    b, port = board
    lines = []
    deploy.deploy(port, out=lines.append)
    text = "\n".join(lines)
    assert "loads mpy v6.3, native arch armv7em" in text, text
    assert "native code for armv7em: _c.mpy, _c_train.mpy, _viper.mpy, _viper_train.mpy" in text, text
    assert "c kernels" in text, text              # the smoke step ran the best (C) and matched the host
    built = sorted((paths.build_dir() / "mpy").glob("6.3-armv7em/tinyrnn/_viper*.mpy"))
    assert [p.name for p in built] == ["_viper.mpy", "_viper_train.mpy"], built
    for mpy in built:
        v7m = tmp_path / mpy.name
        mpycompile.compile_file(LIB / (mpy.stem + ".py"), v7m, "tinyrnn/" + mpy.stem + ".py", arch="armv7m")
        a, c = mpy.read_bytes(), v7m.read_bytes()
        assert len(a) == len(c) and a[2] >> 2 == 6 and c[2] >> 2 == 5, (a[:4], c[:4])
        assert [i for i in range(len(a)) if a[i] != c[i]] == [2], mpy.name
    code, out = mpremote(port, "exec", "import tinyrnn\nfrom tinyrnn import kernels\nprint('K', kernels.name())")
    assert code == 0 and "K c" in out, out


def test_bad_input_is_refused_before_anything_starts(tmp_path):
    with pytest.raises(QemuBoardError, match="fs_dir"):
        QemuBoard(fs_dir=tmp_path)
    with pytest.raises(QemuBoardError, match="romfs image .* not found"):
        QemuBoard(romfs=tmp_path / "none.img")
    with pytest.raises(build.FirmwareError, match="heap_bytes"):
        firmware(100)
    with pytest.raises(build.FirmwareError, match="frozen"):
        firmware(65536, frozen=[3])
    assert "-icount" in qemu_command("f.elf") and "shift=0" in qemu_command("f.elf")
    assert "enable=on,target=native,chardev=console" in qemu_command("f.elf")
    assert "loader,file=r.img,addr=0x21000000,force-raw=on" in qemu_command("f.elf", romfs="r.img")


@pytest.mark.slow
def test_make_demo_on_the_cortex_m3(elf):
    """`make demo RUNTIME=qemu`: deploy, train on the Cortex-M3 board, pull the weights back with
    the real mpremote, and the mirror reproduces the board's outputs and training bit for bit."""
    root = paths.checkout()
    r = subprocess.run(["make", "demo", "RUNTIME=qemu"], capture_output=True, text=True, timeout=900, cwd=root)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = r.stdout
    assert "starting the Cortex-M3 board" in out and "native arch armv7em" in out, out[-3000:]
    assert "65536-byte heap: a stock 64 KB board's" in out, out[:3000]      # (it used to need 256 KB)
    assert "board: saved demo.bin" in out
    assert "RESULT bit-exact: the NumPy mirror reproduces all 10 board outputs" in out
    assert "RESULT training bit-exact: the mirror's replay writes the board's" in out
