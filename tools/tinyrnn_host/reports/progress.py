"""A tqdm bar fed by a MicroPython run's output, for the long reports (bench, the VM half of
examples): `echo=` of run_vm / run_unix takes its callback.

    bar = LineBar(total=8, desc="bench (unix port)", starts=b"{")   # one tick per line starting with {
    mpunix.run_unix(script, echo=bar.feed)
    bar.close()

Without tqdm (a demo-only venv: it is in requirements-dev.txt and the `plots` extra) it draws nothing.
"""


class LineBar:
    """Counts output lines that start with `starts` (bytes), one tick each, on stderr."""

    def __init__(self, total, desc, starts=b"", unit="line"):
        self.starts = starts
        self._rest = b""
        try:
            from tqdm import tqdm
        except ImportError:
            self.bar = None
        else:
            self.bar = tqdm(total=total, desc=desc, unit=unit, leave=True)

    def feed(self, data):
        lines = (self._rest + data).split(b"\n")
        self._rest = lines.pop()
        ticks = sum(1 for line in lines if line.startswith(self.starts))
        if ticks and self.bar is not None:
            self.bar.update(ticks)
        return ticks

    def close(self):
        if self.bar is not None:
            self.bar.close()
