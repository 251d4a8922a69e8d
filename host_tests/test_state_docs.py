"""The Python blocks of README's "State across sleep" and docs/state.md run on the unix port
(lib as .mpy, 64 KB hard cap) and print what their comments say. The board program that
needs machine.RTC (an ESP32's) is only compiled here."""
import pathlib
import re

import pytest

from tinyrnn_host.board import mpunix

ROOT = pathlib.Path(__file__).resolve().parent.parent


def blocks(text):
    return re.findall(r"^```python\n(.*?)^```", text, re.M | re.S)


def readme_section():
    text = (ROOT / "README.md").read_text()
    return text[text.index("### State across sleep"):text.index("## Training on the board")]


DOCS = blocks((ROOT / "docs" / "state.md").read_text())
CASES = {"readme": (blocks(readme_section())[0], "46\nTrue\n"),
         "docs-state": (DOCS[0], "96\n"),
         "docs-stream": (DOCS[2], "3 4\n")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_block_runs_on_the_unix_port(name):
    code, out = CASES[name]
    res = mpunix.run_unix(code, heap_bytes=65536)
    assert res.stdout == out


def test_the_rtc_program_compiles():
    assert "machine.deepsleep" in DOCS[1] and "state.loads(model, rtc.memory())" in DOCS[1]
    compile(DOCS[1], "docs/state.md", "exec")
