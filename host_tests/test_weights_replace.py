"""Replacing a weights file survives a power cut at any point, and a file that changes while it
is being loaded never half-loads.

The power cuts are real FAT: the MicroPython unix port formats a FAT filesystem (its VfsFat,
FatFs underneath, whose rename refuses to replace a file) on a RAM block device that logs
every block write. A save is run once with the log on; then every prefix of the logged writes
(a cut after write k, for every k) is mounted afresh and loaded, or saved again and cut again."""
import json
import pathlib

import pytest

from tinyrnn_host.board import mpunix
from tinyrnn import weights
from tinyrnn import _wload        # the reader, whose open() the tests wrap: loaded here, it stays
from tinyrnn.model import Model   # (tinyrnn._once keeps what was loaded before its call)

FAT = r"""
import json, os, vfs
from tinyrnn import weights
from tinyrnn.model import Model

class RAMBlock:
    # a block device whose writes can be logged and replayed (a power cut = a prefix of them)
    def __init__(self, blocks):
        self.data = bytearray(blocks * 512)
        self.log = None
    def readblocks(self, n, buf):
        buf[:] = self.data[n * 512:n * 512 + len(buf)]
    def writeblocks(self, n, buf):
        if self.log is not None:
            self.log.append((n, bytes(buf)))
        self.data[n * 512:n * 512 + len(buf)] = buf
    def ioctl(self, op, arg):
        return len(self.data) // 512 if op == 4 else (512 if op == 5 else 0)

DESC = {"input": 4, "layers": [{"kind": "gru", "hidden": 12}], "head": {"out": 3, "act": "softmax"}}
MODELS = {name: Model(DESC, seed=seed) for name, seed in (("A", 1), ("B", 2), ("C", 3))}
MODELS["B"].labels = ("x", "y", "z")
PARAMS = {name: list(m.params) for name, m in MODELS.items()}
dev = RAMBlock(128)

def mount(image):
    dev.data[:] = image
    vfs.mount(vfs.VfsFat(dev), "/fat")

def unmount():
    vfs.umount("/fat")
    return bytes(dev.data)

def writes_of(image, name):
    # the block writes of saving model `name` over the image, and the image after it
    mount(image)
    dev.log = []
    weights.save(MODELS[name], "/fat/m.bin")
    log = dev.log
    dev.log = None
    return log, unmount()

def cut(image, log, k):
    img = bytearray(image)
    for n, b in log[:k]:
        img[n * 512:n * 512 + len(b)] = b
    return img

def which():
    # what a fresh boot loads: the name of the model, or the error
    try:
        m = weights.load("/fat/m.bin")
    except Exception as e:
        return "%s: %s" % (type(e).__name__, e)
    for name, p in PARAMS.items():
        if list(m.params) == p:
            return name
    return "MIXED"

out = {}
vfs.VfsFat.mkfs(dev)
vfs.mount(vfs.VfsFat(dev), "/fat")
empty = unmount()
# the very first save, cut at every write: nothing, or A
log0, with_a = writes_of(empty, "A")
first = []
for k in range(len(log0) + 1):
    mount(cut(empty, log0, k))
    first.append(which())
    unmount()
out["first"] = first
# replacing A by B, cut at every write: then a boot loads
log1, with_b = writes_of(with_a, "B")
out["n_writes"] = len(log1)
loads, listed, saves = [], [], []
for k in range(len(log1) + 1):
    state = cut(with_a, log1, k)
    mount(state)
    listed.append(sorted(os.listdir("/fat")))
    loads.append(which())
    unmount()
    # or the next boot saves C straight away, and that save is cut at every write too
    log2, _ = writes_of(state, "C")
    row = []
    for j in range(len(log2) + 1):
        mount(cut(state, log2, j))
        row.append(which())
        unmount()
    saves.append(row)
out["listed"] = listed
out["loads"] = loads
out["saves"] = saves
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def fat_runs():
    res = mpunix.run_unix(FAT, heap_bytes=1 << 20, timeout=600)
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_a_cut_at_every_write_of_a_replace_leaves_the_old_or_the_new_file(fat_runs):
    loads = fat_runs["loads"]
    assert len(loads) == fat_runs["n_writes"] + 1 >= 8
    assert set(loads) <= {"A", "B"}, loads
    assert loads[0] == "A" and loads[-1] == "B"
    # FAT's rename will not replace: the old file is removed first, and some cuts leave
    # only the complete .tmp; the loader completed those from it
    only_tmp = [k for k, names in enumerate(fat_runs["listed"]) if names == ["m.bin.tmp"]]
    assert only_tmp, fat_runs["listed"]
    assert all(loads[k] == "B" for k in only_tmp)


def test_the_next_save_after_a_cut_is_safe_even_if_cut_itself(fat_runs):
    for k, row in enumerate(fat_runs["saves"]):
        assert row[-1] == "C", (k, row)                         # a completed save wins
        assert set(row) <= {"A", "B", "C"}, (k, row)            # every cut of it: a whole model


def test_a_cut_first_save_leaves_nothing_or_the_whole_file(fat_runs):
    first = fat_runs["first"]
    assert first[-1] == "A"
    assert all(r == "A" or r.startswith("WeightsError: weights: cannot open") for r in first), first


# -- a file that changes between the loader's two passes ------------------------------------

class Changer:
    """A file object that runs `change()` when the loader seeks back for its second pass."""

    def __init__(self, f, change):
        self.f, self.change = f, change

    def seek(self, *a):
        if self.change:
            self.change()
            self.change = None
        return self.f.seek(*a)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.f.close()


DESC = {"input": 3, "layers": [{"kind": "gru", "hidden": 6}], "head": {"out": 2, "act": "softmax"}}


def write_pair(tmp_path):
    path = tmp_path / "m.bin"
    weights.save(Model(DESC, seed=1), str(path))
    weights.save(Model(DESC, seed=2), str(tmp_path / "other.bin"))
    return path, path.read_bytes(), (tmp_path / "other.bin").read_bytes()


@pytest.mark.parametrize("how", ["rewritten in place", "truncated", "one byte changed"])
def test_a_file_changing_between_the_passes_never_half_loads(how, tmp_path, monkeypatch):
    path, good, other = write_pair(tmp_path)

    def change():
        with open(path, "r+b") as f:
            if how == "rewritten in place":
                f.write(other)          # the same size, a valid file of other weights
            elif how == "truncated":
                f.truncate(len(good) - 40)
            else:
                f.seek(len(good) - 10)
                f.write(bytes([good[-10] ^ 1]))

    real_open = open
    monkeypatch.setattr(_wload, "open", lambda p, mode="r": Changer(real_open(p, mode), change), raising=False)
    m = Model(DESC, seed=5)
    with pytest.raises(ValueError, match="while loading.*cleared, not left half loaded"):
        weights.load_into(m, str(path))
    assert list(m.params) == [0] * m.n_params               # cleared, never a mix of old and new


def test_the_second_pass_checks_on_micropython_too(tmp_path):
    path, good, other = write_pair(tmp_path)
    script = r"""
from tinyrnn import weights, _wload
from tinyrnn.model import Model
real_open = open
class Changer:
    def __init__(self, f):
        self.f = f
        self.changed = False
    def read(self, n):
        return self.f.read(n)
    def readinto(self, b):
        return self.f.readinto(b)
    def seek(self, n):
        if not self.changed:
            self.changed = True
            with real_open('other.bin', 'rb') as src, real_open('m.bin', 'r+b') as dst:
                dst.write(src.read())
        return self.f.seek(n)
    def close(self):
        self.f.close()
    def __enter__(self):
        return self
    def __exit__(self, *a):
        self.f.close()
_wload.open = lambda p, mode='r': Changer(real_open(p, mode))
m = Model(%r, seed=5)
try:
    weights.load_into(m, 'm.bin')
    print('LOADED')
except ValueError as e:
    print('REFUSED', e)
print('ZEROS', all(v == 0 for v in m.params))
""" % (DESC,)
    res = mpunix.run_unix(script, heap_bytes=262144, files={"m.bin": good, "other.bin": other})
    assert "REFUSED weights: the file changed while loading" in res.stdout, res.stdout
    assert "ZEROS True" in res.stdout


def test_an_unchanged_file_loads_through_the_same_wrapper(tmp_path, monkeypatch):
    path, good, _ = write_pair(tmp_path)
    real_open = open
    monkeypatch.setattr(_wload, "open", lambda p, mode="r": Changer(real_open(p, mode), None), raising=False)
    m = weights.load_into(Model(DESC, seed=5), str(path))
    assert list(m.params) == list(Model(DESC, seed=1).params)


# -- deploy: the next upload after a cut replace ----------------------------------------------

def test_deploy_after_a_cut_replace_keeps_the_only_good_copy(tmp_path, monkeypatch):
    """A cut between FAT's remove and rename left only model.bin.tmp (complete, B). The next
    deploy is cut too, half way through its upload to model.bin.tmp: the board must still
    load B, because deploy first made the leftover .tmp model.bin again (weights.recover)."""
    from tinyrnn_host.board import deploy, vboard, weights_upload
    files = {}
    for name, seed in (("A", 1), ("B", 2), ("C", 3)):
        weights.save(Model(DESC, seed=seed), str(tmp_path / (name + ".bin")))
        files[name] = (tmp_path / (name + ".bin")).read_bytes()
    flash = tmp_path / "flash"
    quiet = lambda *a: None                                     # noqa: E731
    with vboard.VirtualBoard(fs_dir=flash, time_limit=300) as port:
        deploy.deploy(port, weights=tmp_path / "A.bin", weights_name="model.bin", build_dir=tmp_path / "mpy",
                      out=quiet)
        (flash / "model.bin").unlink()                          # the state the cut left
        (flash / "model.bin.tmp").write_bytes(files["B"])

        def cut_upload(board, local, remote):
            (flash / remote).write_bytes(pathlib.Path(local).read_bytes()[:100])
            raise deploy.DeployError("power cut during the upload")

        monkeypatch.setattr(weights_upload, "copy_to_board", cut_upload)
        with pytest.raises(deploy.DeployError, match="power cut"):
            deploy.deploy(port, weights=tmp_path / "C.bin", weights_name="model.bin", build_dir=tmp_path / "mpy",
                          out=quiet)
        out = deploy.Board(port).exec("from tinyrnn import weights\nprint('CRC', weights.file_crc('model.bin'))")
    assert "CRC %d" % int.from_bytes(files["B"][-4:], "little") in out
    assert (flash / "model.bin").read_bytes() == files["B"]
