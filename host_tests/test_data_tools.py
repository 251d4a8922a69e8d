"""The host parts of the real-data examples: the .ts reader, the normalisation fit, the .rec
recordings files (read on MicroPython by the board program itself), the classifier helpers,
the pictures."""
import pathlib

import numpy as np
import pytest

from tinyrnn_host.board import mpunix, stream
from tinyrnn_host.interop import classify, normalise, recordings, uea
from tinyrnn_host.mirror.model import Model as MirrorModel
from tinyrnn_host.reference import model as ref
from tinyrnn_host.reports import board_training, plots

TS = """# a comment
@problemName Tiny
@timeStamps false
@missing false
@univariate false
@dimensions 2
@equalLength false
@classLabel true walk run
@data
1.5,2,3:-1,-2,-3:run
0.25,0.5:1e-3,7:walk
"""


def test_ts_reader_parses_the_format():
    d = uea.parse(TS, "Tiny", "train")
    assert d.classes == ("walk", "run") and d.y.tolist() == [1, 0] and d.channels == 2
    assert d.series[0].tolist() == [[1.5, -1], [2, -2], [3, -3]]
    assert d.series[1].tolist() == [[0.25, 0.001], [0.5, 7]] and d.lengths().tolist() == [3, 2]


@pytest.mark.parametrize("bad, words", [
    (TS.replace("run\n0.25", "jog\n0.25"), "class 'jog' is not one of"),
    (TS.replace("-1,-2,-3", "-1,-2"), "channels of different lengths"),
    (TS.replace("1.5,2,3:", ""), "1 channels, @dimensions says 2"),
    (TS.replace("@missing false", "@missing true"), "not supported"),
    (TS.replace("@classLabel true walk run\n", ""), "@data before @classLabel"),
    (TS.replace("0.25,0.5", "0.25,x"), "line 11"),
])
def test_ts_reader_names_the_problem(bad, words):
    with pytest.raises(uea.DataError, match=words):
        uea.parse(bad, "Tiny")


def test_the_shipped_datasets_are_what_the_examples_expect():
    jv_tr, jv_te = uea.load("JapaneseVowels", "train"), uea.load("JapaneseVowels", "test")
    assert (len(jv_tr), len(jv_te), jv_tr.channels) == (270, 370, 12)
    assert jv_te.lengths().min() == 7 and jv_te.lengths().max() == 29 and jv_tr.classes == tuple("123456789")
    bm_tr, bm_te = uea.load("BasicMotions", "train"), uea.load("BasicMotions", "test")
    assert (len(bm_tr), len(bm_te), bm_tr.channels, bm_tr.lengths().max()) == (40, 40, 6, 100)
    assert bm_tr.classes == ("Standing", "Running", "Walking", "Badminton")
    assert "site-packages" in str(uea.data_dir())             # read from the installed package, never a copy
    with pytest.raises(ValueError, match="split"):
        uea.load("BasicMotions", "validation")
    with pytest.raises(uea.DataError, match="NoSuchSet_TRAIN.ts"):
        uea.load("NoSuchSet", "train")


def test_normalise_fit_standardises_each_channel():
    rng = np.random.default_rng(1)
    raw = normalise.to_raw(rng.normal([3.0, -20.0, 0.0], [0.5, 7.0, 0.01], (2000, 3)), 512)
    norm = normalise.fit(raw)
    x = norm.apply(raw) / 256.0
    # an independent float computation of what the integers approximate: the offset is a whole
    # count (the mean to within half a count), the scale 256 / std to within 2^-13
    assert np.abs(norm.offset - raw.mean(axis=0)).max() <= 0.5
    z = (raw - norm.offset) / raw.std(axis=0)
    assert np.abs(x - z).max() <= 0.5 / 256 + 2e-4 * np.abs(z).max()
    assert np.abs(x.std(axis=0) - 1).max() < 0.002
    assert norm.mul.max() <= 16383 and norm.shift.max() <= 16
    r = normalise.fit(raw, mode="range")
    y = r.apply(raw)
    assert y.min(axis=0).tolist() >= [-257] * 3 and y.max(axis=0).tolist() <= [257] * 3
    const = normalise.fit(np.full((10, 2), 7))
    assert const.mul.tolist() == [0, 0] and const.apply(np.full((1, 2), 9)).tolist() == [[0, 0]]


def test_normalise_fit_refuses_what_the_board_cannot_take():
    with pytest.raises(TypeError, match="ints"):
        normalise.fit(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="int16"):
        normalise.fit(np.array([[40000, 0]]))
    with pytest.raises(ValueError, match="mode"):
        normalise.fit(np.zeros((4, 2), int), mode="minmax")
    assert normalise.scale_to_mul_shift(1.0) == (8192, 13)        # 16384 at shift 14 is one too many
    assert normalise.scale_to_mul_shift(1e9) == (16383, 0)
    assert normalise.to_raw([1.5, -200.0, 200.0], 256).tolist() == [384, -32768, 32767]


def test_recordings_files_round_trip_and_the_board_reads_them():
    rng = np.random.default_rng(2)
    raw = rng.integers(-32768, 32768, (3, 5, 2))
    y = np.array([1, 0, 1])
    data = recordings.encode(raw, y, "class", ("left", "right"))
    back, yb, kind, classes = recordings.decode(data)
    assert back.tolist() == raw.tolist() and yb.tolist() == y.tolist() and classes == ("left", "right")
    # the reader the board programs use (lib/tinyrnn/recordings.py), on MicroPython
    script = r"""
from tinyrnn.recordings import Recordings
r = Recordings("t.rec")
print(r.labels, len(r))
for i in range(len(r)):
    xs, k = r[i]
    print(k, [list(x) for x in xs])
"""
    res = mpunix.run_unix(script, heap_bytes=262144, files={"t.rec": data})
    lines = res.stdout.strip().splitlines()
    assert lines[0] == "('left', 'right') 3"
    for i, line in enumerate(lines[1:]):
        k, rows = line.split(" ", 1)
        assert int(k) == y[i] and eval(rows) == raw[i].tolist()


def test_classify_helpers_agree_with_the_reference_and_the_mirror():
    desc = {"input": 2, "layers": [{"kind": "gru", "hidden": 4}], "head": {"out": 3, "act": "softmax"}}
    rng = np.random.default_rng(3)
    xs = [rng.integers(-300, 300, (n, 2)) for n in (3, 7, 5)]
    params = ref.init_params(desc, rng)
    pf = classify.predict_float(desc, params, xs)
    q, sat = classify.quantise(params)
    pq = classify.predict_q88(desc, q, xs)
    for i, x in enumerate(xs):       # one sequence at a time, no padding: the same last-step outputs
        yf, _ = ref.forward(desc, params, x[None] / 256.0)
        assert np.allclose(yf[0, -1], pf[i])
        yq, _ = MirrorModel(desc, params=q).run(x[None])
        assert yq[0, -1].tolist() == pq[i].tolist()
    assert sat == 0
    assert classify.confusion([0, 1, 1], [0, 1, 0], 2).tolist() == [[1, 0], [1, 1]]


def test_board_program_constants_and_output_parsing():
    c = board_training.app_constants()
    assert {"HIDDEN", "EPOCHS", "BATCH", "LR", "SEED", "TRAIN", "TEST", "OUT"} <= set(c)
    out = ("GRU 6-12-4 on viper kernels (tinyrnn.KERNELS): ...\n"
           "epoch 1/2 loss 1.3594 (Q8.8 348), board time 140 ms, heap 9000 bytes used\n"
           "epoch 2/2 loss 1.0625 (Q8.8 272), board time 280 ms, heap 9100 bytes used\n"
           "TEST 0 1 1\nTEST 1 2 0\nRESULT motions trained on the board: test 1/2 correct, board time 300 ms, x\n")
    p = board_training.parse(out)
    assert p["losses"] == [348, 272] and p["tests"] == [(0, 1, 1), (1, 2, 0)] and p["board_ms"] == 300
    assert p["kernels"] == "viper" and p["heap_used"] == [9000, 9100]


def test_stream_ports_and_bytes():
    assert stream.device_path("a0") == "/dev/ttyACM0" and stream.device_path("u3") == "/dev/ttyUSB3"
    assert stream.device_path("/dev/pts/4") == "/dev/pts/4"
    assert stream.raw_bytes(np.array([[1, -1], [256, -32768]])) == bytes.fromhex("0100ffff00010080")


def test_pictures_are_written(tmp_path):
    files = [
        plots.training_curves(tmp_path / "a.png", "t", {"board": [1.0, 0.5, 0.25], "mirror": [1.0, 0.5, 0.25]}),
        plots.confusion(tmp_path / "b.png", "t", np.array([[3, 1], [0, 4]]), ("Walking", "Running")),
        plots.forecast(tmp_path / "c.png", "t", np.sin(np.arange(20)), {"q": np.sin(np.arange(20))}, warmup=3),
        plots.histogram(tmp_path / "d.png", "t", {"gru": {"h 3": np.abs(np.random.default_rng(0).normal(size=50))}}),
    ]
    for f in files:
        data = pathlib.Path(f).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 3000
