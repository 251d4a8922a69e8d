"""What every board the host starts as a child process shares: its PID, whether it runs, `with`."""


class ProcessBoard:
    """Mixin: the class sets self.proc (a Popen, or None) in start() and defines stop()."""

    proc = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
