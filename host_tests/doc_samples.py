"""The ```python blocks of README.md and docs/*.md as runnable samples (test_doc_samples.py).

Which runtime a block is for: an HTML comment on the line before it,
`<!-- sample: board -->`, `<!-- sample: host -->`; without one, from its imports
(`tinyrnn_host` or `torch`: host, CPython; `tinyrnn`: board, run on the unix port
and on the WebAssembly VM; neither: host). The comment may add a documented
command that makes a file the block reads, run first in the document's folder:
`<!-- sample: board; after: tinyrnn import-torch net.pt net.bin -->`.

Blocks of one document share a working folder, in order: a file one writes,
a later one (or the `after:` command) may read. Each block has its own names.

A comment after a top-level statement is an expected value when its text, up to
the first ':' or ';', is a Python literal: `q88.to_str(x)  # '2.2500'` (an
expression) or `a = q88.from_str("1.5")  # 384` (an assignment: the value
assigned). The block then prints what the statement gave, and the test compares.
Any other comment is prose.
"""
import ast
import io
import pathlib
import re
import tokenize

ROOT = pathlib.Path(__file__).resolve().parent.parent
MARK = "@@SAMPLE"
_FENCE = re.compile(r"^```python\s*$")
_SAMPLE = re.compile(r"<!--\s*sample:\s*(.*?)\s*-->")


class Block:
    def __init__(self, doc, line, source, runtime, after):
        self.doc, self.line, self.source = doc, line, source
        self.runtime, self.after = runtime, after   # 'board' | 'host'; a shell command or None

    @property
    def name(self):
        return "%s:%d" % (self.doc, self.line)


def documents():
    return [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))


def blocks(path):
    """The ```python blocks of one markdown file, in order."""
    lines = pathlib.Path(path).read_text().splitlines()
    rel = str(pathlib.Path(path).relative_to(ROOT))
    out, i = [], 0
    while i < len(lines):
        if _FENCE.match(lines[i]):
            j = i + 1
            while not lines[j].startswith("```"):
                j += 1
            src = "\n".join(lines[i + 1:j]) + "\n"
            mark = _SAMPLE.search(lines[i - 1]) if i else None
            runtime, after = _inferred(src), None
            if mark:
                for part in mark.group(1).split(";"):
                    part = part.strip()
                    if part.startswith("after:"):
                        after = part[len("after:"):].strip()
                    elif part:
                        runtime = part
            out.append(Block(rel, i + 2, src, runtime, after))
            i = j
        i += 1
    return out


def _inferred(src):
    mods = set()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Import):
            mods.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            mods.add(node.module.split(".")[0])
    if mods & {"tinyrnn_host", "torch"}:
        return "host"
    return "board" if "tinyrnn" in mods else "host"


def expected_value(comment):
    """The literal a comment states ('# 384', "# '2.2500': ..."), or a (False,) marker."""
    text = comment.lstrip("#").strip()
    for cand in (text, re.split(r"[:;]", text, maxsplit=1)[0].strip()):
        try:
            return (True, ast.literal_eval(cand))
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return (False,)


def instrumented(src):
    """(source that also prints each checked value, [(line, expected literal)])."""
    comments = {}
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = (tok.string, tok.start[1])
    lines = src.splitlines()
    checks, edits = [], []
    for node in ast.parse(src).body:
        comment, col = comments.get(node.end_lineno, (None, 0))
        if comment is None or not isinstance(node, (ast.Expr, ast.Assign)):
            continue
        got = expected_value(comment)
        if not got[0]:
            continue
        if isinstance(node, ast.Assign):
            if not isinstance(node.targets[0], ast.Name):
                continue
            target = node.targets[0].id
        else:
            target = None
        checks.append((node.lineno, got[1]))
        edits.append((node.lineno, node.end_lineno, col, target))
    for start, end, col, target in reversed(edits):
        if target is None:
            target = "_sample_value"
            lines[end - 1] = lines[end - 1][:col].rstrip() + ")"
            lines[start - 1] = target + " = (" + lines[start - 1]
        lines.insert(end, "print(%r, %d, repr(%s))" % (MARK, start, target))
    return "\n".join(lines) + "\n", checks


def printed_values(stdout):
    """{line: repr text} from an instrumented run's output."""
    got = {}
    for ln in stdout.splitlines():
        if ln.startswith(MARK + " "):
            _, line, text = ln.split(" ", 2)
            got[int(line)] = text.strip()
    return got


def matches(expected, printed):
    """Does a printed repr state the expected literal? (a repr the host can read, or its text)"""
    try:
        return ast.literal_eval(printed) == expected
    except (ValueError, SyntaxError):
        return printed == repr(expected) or printed == str(expected)
