"""Feed recordings to a board one by one and collect what it answers, over mpremote's raw REPL.

    with stream.Session(port) as s:                     # one raw REPL for the whole run
        s.exec("from classify_app import Classifier\\nc = Classifier('jv.bin')")
        lines = s.exec("c.classify(%r)" % raw_bytes)    # what the board printed

    results = stream.classify(port, "jv.bin", raw_seqs)  # [(class, [Q8.8 outputs])], a tqdm bar

The board must already hold the library, the weights and examples/classify_app.py
(board/deploy.py puts them there: the normal deploy path). Each recording goes over
the serial line as the little-endian int16 bytes a sensor driver would hand the app
(sent as hex text, bytes.fromhex on the board);
the board normalises, steps the model and prints `P <class> <label> <outputs>`.
`port`: a device path, or mpremote's shortcuts a0 / u0 / c0 (= /dev/ttyACM0, /dev/ttyUSB0, COM0).
"""
import numpy as np

from .device import device_path  # noqa: F401 (part of this module's API: a0 -> /dev/ttyACM0)


class StreamError(RuntimeError):
    """The board did not answer as expected; the message has what it printed."""


class Session:
    """One raw REPL on the board for many exec() calls (mpremote's SerialTransport)."""

    def __init__(self, port, timeout=60):
        self.port = device_path(port)
        self.timeout = timeout
        self.t = None

    def __enter__(self):
        from mpremote.transport_serial import SerialTransport
        self.t = SerialTransport(self.port, baudrate=115200)
        self.t.enter_raw_repl(soft_reset=True)
        return self

    def exec(self, code):
        """Run code on the board; the text it printed. StreamError on an exception there."""
        out, err = self.t.exec_raw(code, timeout=self.timeout)
        if err:
            raise StreamError("the board raised:\n%s" % err.decode("utf-8", "replace"))
        return out.decode("utf-8", "replace").replace("\r\n", "\n")

    def __exit__(self, *exc):
        if self.t is not None:
            try:
                self.t.exit_raw_repl()
            finally:
                self.t.close()
        return False


def raw_bytes(raw):
    """A (T, C) int array as little-endian int16 bytes, time-major."""
    return np.asarray(raw).astype("<i2").tobytes()


def classify(port, weights_name, raws, app="classify_app", progress=True, desc="board"):
    """Each recording in raws ((T, C) int arrays) through the board's Classifier:
    [(class, outputs list)], in order."""
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(raws), desc=desc, unit="seq")
    out = []
    with Session(port) as s:
        s.exec("from %s import Classifier\nc = Classifier(%r)" % (app, weights_name))
        for raw in raws:
            text = s.exec("c.classify(bytes.fromhex('%s'))" % raw_bytes(raw).hex())
            got = [line.split() for line in text.splitlines() if line.startswith("P ")]
            if len(got) != 1 or len(got[0]) < 4:
                raise StreamError("expected one 'P class label outputs' line, the board printed: %r" % text)
            out.append((int(got[0][1]), [int(v) for v in got[0][-1].split(",")]))   # (a label may hold spaces)
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    return out
