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


def _cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def table(header_cell):
    """The rows of the README table whose header row has `header_cell`, as {column: text}."""
    lines = text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|") and header_cell in _cells(line):
            head, rows = _cells(line), []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append(dict(zip(head, _cells(row))))
            return rows
    raise AssertionError("README: no table with a %r column" % header_cell)


def table_column(header_cell, column):
    """The values of `column` in the README table whose header row has `header_cell`."""
    return [row[column] for row in table(header_cell)]


def row(header_cell, first_column_value):
    """The one row of that table whose first cell is `first_column_value`."""
    rows = [r for r in table(header_cell) if list(r.values())[0] == first_column_value]
    assert len(rows) == 1, "README: table %r has %d rows %r" % (header_cell, len(rows), first_column_value)
    return rows[0]
