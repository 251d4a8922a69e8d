"""Figures the README states, read back so a test can hold them against the command that prints them.

Each helper finds one figure by the words around it and fails loudly when the
sentence is gone (a figure that moved must move its test with it)."""
import pathlib
import re

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def text():
    return README.read_text()


def find(pattern):
    """The groups of the one match of `pattern` in the README (whitespace-insensitive)."""
    flat = re.sub(r"\s+", " ", text())
    found = re.findall(pattern, flat)
    assert len(found) == 1, "README: expected one match of %r, found %d" % (pattern, len(found))
    return found[0]


def number(s):
    return float(s.replace(",", ""))


def table_column(header_cell, column):
    """The values of `column` in the README table whose header row has `header_cell`."""
    lines = text().splitlines()
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and header_cell in cells:
            at = cells.index(column)
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append([c.strip() for c in row.strip().strip("|").split("|")][at])
            return rows
    raise AssertionError("README: no table with a %r column" % header_cell)
