"""The recordings reader never allocates from a size it has not checked (docs/recordings-format.md):
about 2,000 files (rec_fuzz.py: every truncation, bit flips with the stored and with a
recomputed CRC, headers declaring huge or inconsistent sizes with a valid CRC, random damage)
opened on the MicroPython unix port under a hard 64 KB heap in one interpreter. Every file
the host's check() refuses raises RecordingsError there with exactly the host's message (never
MemoryError or anything else), every other one loads with the values the host's decode gives;
lib/tinyrnn under CPython and decode() agree too."""

import pytest

import needs
import rec_fuzz
from tinyrnn_host.board import mpunix
from tinyrnn_host.interop import recordings as host_rec
from tinyrnn.recordings import Recordings, RecordingsError


@pytest.fixture(scope="module")
def files():
    return rec_fuzz.cases()


def test_the_corpus_holds_what_it_must(files):
    why = [host_rec.check(b) for b in files]
    assert len(files) > 1500
    assert sum(w is None for w in why) > 50                      # valid files, not only the bases
    for words in ("truncated", "trailing bytes", "CRC mismatch", "has class", "labels for", "label 0 is not",
                  "is 0", "classes: a class target", "only class targets have labels", "not a recordings file",
                  "format version", "target kind"):
        assert any(w and words in w for w in why), words
    # headers whose declared sizes ask for gigabytes, with a valid CRC
    huge = [b for b, w in zip(files, why) if w and b[8:12] == b"\xff" * 4]
    assert any(len(b) == 20 for b in huge) and len(huge) > 20


def test_every_file_on_the_unix_port_under_64k(files):
    needs.unix_port()
    script = rec_fuzz.BOARD + "for i in range(%d):\n    one(i, '%%d.rec' %% i)\n" % len(files)
    res = mpunix.run_unix(script, heap_bytes=65536, files={"%d.rec" % i: b for i, b in enumerate(files)},
                          timeout=300)
    got = rec_fuzz.parse(res.stdout, len(files))
    others = [(i, t, m) for i, (t, m) in got.items() if t not in ("OK", "RecordingsError")]
    assert not others, others[:10]
    bad = rec_fuzz.mismatches(files, got, lambda i: "%d.rec" % i)
    # The unix port's collector scans the C stack conservatively: after a thousand files a stale
    # word can pin a block, and a valid file whose buffers need 29 KB of the 54 KB free is then
    # refused as too big for the heap. That answer is right for that heap; the same file must
    # still load, with the host's values, in a fresh interpreter (the QEMU board's heap is exact:
    # test_qemu_recordings allows nothing of the kind).
    crowded = [i for i, _, _, (t, m), (w, _) in bad
               if w == "OK" and t == "RecordingsError" and "too big for the free heap" in m]
    for i in crowded:
        res = mpunix.run_unix(rec_fuzz.BOARD + "one(%d, '%d.rec')\n" % (i, i), heap_bytes=65536,
                              files={"%d.rec" % i: files[i]})
        got[i] = rec_fuzz.parse(res.stdout, [i])[i]
    bad = rec_fuzz.mismatches(files, got, lambda i: "%d.rec" % i)
    assert not bad, "%d files: %s" % (len(bad), bad[:5])


def test_cpython_lib_and_host_decode_refuse_the_same_files(files, tmp_path):
    p = tmp_path / "f.rec"
    for i, b in enumerate(files):
        p.write_bytes(b)
        why = host_rec.check(b)
        try:
            Recordings(str(p)).close()
            lib = None
        except RecordingsError as e:
            lib = str(e)
        assert lib == (why and "%s: %s" % (p, why)), (i, b[:24].hex(), lib, why)
        if why is None:
            host_rec.decode(b)
        else:
            with pytest.raises(host_rec.RecordingsError) as e:
                host_rec.decode(b)
            assert str(e.value) == why
            with pytest.raises(host_rec.RecordingsError, match="^" + str(p) + ": "):
                host_rec.read(p)


def test_classes_are_unsigned():
    data = host_rec.encode([[[0]]] * 3, [35000, 65534, 0], "class")    # 65535 classes
    assert host_rec.decode(data)[1].tolist() == [35000, 65534, 0]
    needs.unix_port()
    res = mpunix.run_unix("from tinyrnn.recordings import Recordings\nr = Recordings('c.rec')\n"
                          "print(r.outputs, [r[i][1] for i in range(3)])", heap_bytes=65536, files={"c.rec": data})
    assert res.stdout.split("\n")[0] == "65535 [35000, 65534, 0]", res.stdout


def test_a_valid_file_too_big_for_the_heap_is_a_recordings_error():
    # 1 recording of 200 steps x 100 channels: 40 KB in a 40 KB file, its buffers do not fit
    # 64 KB. The host reads it; the board names the sizes instead of a bare MemoryError.
    data = host_rec.encode([[[1] * 100] * 200], [1], "class")
    assert host_rec.check(data) is None
    needs.unix_port()
    res = mpunix.run_unix(rec_fuzz.BOARD + "one(0, 'big.rec')\n", heap_bytes=65536, files={"big.rec": data})
    assert res.stdout.strip() == ("0 RecordingsError big.rec: too big for the free heap: 0 label bytes, "
                                  "recordings of 200 steps x 100 channels and 1 target values"), res.stdout


def test_like_shares_the_buffers_and_survives_a_refused_file(tmp_path):
    a, b = tmp_path / "a.rec", tmp_path / "b.rec"
    host_rec.write(a, [[[1, 2]], [[3, 4]]], [0, 40001], "class")          # 40002 classes each
    host_rec.write(b, [[[5, 6]], [[7, 8]]], [40000, 40001], "class")
    ra = Recordings(str(a))
    rb = Recordings(str(b), like=ra)
    assert rb.raw is ra.raw and rb.y is ra.y and rb.rows is ra.rows and rb.outputs == 40002
    assert [list(rb[0][0][0]), rb[0][1]] == [[5, 6], 40000]
    assert [list(ra[1][0][0]), ra[1][1]] == [[3, 4], 40001]
    b.write_bytes(b.read_bytes()[:-1])
    with pytest.raises(RecordingsError, match="truncated"):
        Recordings(str(b), like=ra)
    assert [list(ra[0][0][0]), ra[0][1]] == [[1, 2], 0]
    ra.close()
    rb.close()
