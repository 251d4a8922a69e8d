"""The recordings reader on the Cortex-M3 board (QEMU mps2-an385, MicroPython v1.28.0, 64 KB
heap, the library as a deploy gives it): test_recordings_fuzz.py's 1,857 files (about 20 s),
sent as one blob, each written to the board's littlefs and opened there. Every file the
host's check() refuses raises RecordingsError with exactly the host's message, never
MemoryError or anything else; every other one loads with the host's values."""
import json

import pytest

import needs
import rec_fuzz
from tinyrnn_host.board import qemu

pytestmark = pytest.mark.slow

SCRIPT = rec_fuzz.BOARD + """
import json
sizes = json.load(open('sizes.json'))
blob = open('cases.bin', 'rb')
for i in range(len(sizes)):
    data = blob.read(sizes[i])
    with open('c.rec', 'wb') as f:
        f.write(data)
    data = None
    one(i, 'c.rec')
"""


def test_every_fuzz_file_on_the_cortex_m3_under_64k():
    needs.qemu_toolchain()
    files = rec_fuzz.cases()
    with qemu.Session(qemu.DEFAULT_HEAP, timeout=600) as s:
        s.install_lib()
        res = s.run(SCRIPT, files={"cases.bin": b"".join(files),
                                   "sizes.json": json.dumps([len(b) for b in files]).encode()})
    got = rec_fuzz.parse(res.stdout, len(files))
    others = [(i, t, m) for i, (t, m) in got.items() if t not in ("OK", "RecordingsError")]
    assert not others, others[:10]
    bad = rec_fuzz.mismatches(files, got, lambda i: "c.rec")
    assert not bad, "%d files: %s" % (len(bad), bad[:5])
