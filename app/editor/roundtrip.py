"""Round-trip YAML: load metadata texts, edit them, write back only the lines that changed.

ruamel.yaml keeps comments, key order and flow style, but re-dumping a file still
rewraps a few things (a long flow mapping spread over two lines, `[{a: b}]`). So we
never write ruamel's dump as is: we diff its dump before and after the edit and splice
only the changed lines into the original text. Lines ruamel would rewrap but the edit
did not touch stay exactly as the consultant wrote them.
"""

from __future__ import annotations

import difflib
import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString


def yaml() -> YAML:
    """The one ruamel configuration: the metadata's two-space style, no rewrapping."""
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def load(text: str) -> Any:
    doc = yaml().load(text)
    return CommentedMap() if doc is None else doc


def dump(doc: Any) -> str:
    out = io.StringIO()
    yaml().dump(doc, out)
    return out.getvalue()


def flow_map(values: dict[str, Any]) -> CommentedMap:
    """A `{en: ..., zh: ...}` mapping written on one line, as labels are in the starter."""
    node = CommentedMap(values)
    node.fa.set_flow_style()
    return node


def quoted(text: str) -> DoubleQuotedScalarString:
    """A colour as the starter writes it: `"#2e7d32"` (a bare # would start a comment)."""
    return DoubleQuotedScalarString(text)


def flow_seq(values: list[Any]) -> CommentedSeq:
    """A `[a, b, c]` list written on one line, as list columns are."""
    node = CommentedSeq(values)
    node.fa.set_flow_style()
    return node


def block_seq(values: list[Any]) -> CommentedSeq:
    node = CommentedSeq(values)
    node.fa.set_block_style()
    return node


def splice(original: str, before: str, after: str) -> str:
    """`original` with the change `before` -> `after` applied, where `before` is ruamel's dump
    of `original`. Lines of `original` that ruamel writes differently are kept unless the change
    touches them (then that passage is taken from `after`)."""
    if before == after:
        return original
    src, old, new = original.splitlines(True), before.splitlines(True), after.splitlines(True)
    blocks = _alignment(src, old)
    hunks = _hunks(old, new, blocks)
    out: list[str] = []
    t = 0  # next line of the original to copy
    for d1, d2, e1, e2 in hunks:
        t_start = _source_index(blocks, d1, len(src))
        out.extend(src[t:t_start])
        out.extend(new[e1:e2])
        t = _source_index(blocks, d2, len(src), end=True)
    out.extend(src[t:])
    return "".join(_blank_lines_stay_last(src, out))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _blank_lines_stay_last(src: list[str], out: list[str]) -> list[str]:
    """A block added at the end of a section goes before the blank lines that close it
    (ruamel hangs them on the section's last item, so the new item would come after them)."""
    ops = difflib.SequenceMatcher(None, src, out, autojunk=False).get_opcodes()
    for tag, i1, _i2, j1, j2 in reversed(ops):
        if tag != "insert" or i1 == 0 or i1 >= len(src) or out[j2 - 1].strip() == "":
            continue
        blanks = 0
        while blanks < i1 and src[i1 - 1 - blanks].strip() == "":
            blanks += 1
        if blanks and _indent(out[j1]) > _indent(src[i1]):
            out = out[:j1 - blanks] + out[j1:j2] + out[j1 - blanks:j1] + out[j2:]
    return out


Block = tuple[int, int, int, int]  # original t1..t2 aligned with dump d1..d2


def _alignment(src: list[str], old: list[str]) -> list[Block]:
    """Blocks pairing original lines with dump lines: one per equal line, one per rewrapped passage."""
    blocks: list[Block] = []
    for tag, t1, t2, d1, d2 in difflib.SequenceMatcher(None, src, old, autojunk=False).get_opcodes():
        if tag == "equal":
            blocks.extend((t1 + i, t1 + i + 1, d1 + i, d1 + i + 1) for i in range(t2 - t1))
        else:
            blocks.append((t1, t2, d1, d2))
    return blocks


def _hunks(old: list[str], new: list[str], blocks: list[Block]) -> list[tuple[int, int, int, int]]:
    """The dump's changes, each widened to whole rewrapped passages, overlapping ones merged."""
    multi = [(d1, d2) for _t1, _t2, d1, d2 in blocks if d2 - d1 > 1]
    hunks: list[list[int]] = []
    for tag, d1, d2, e1, e2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        for b1, b2 in multi:  # a change inside a passage ruamel rewraps takes the whole passage
            if b1 < d2 and d1 < b2 or b1 < d1 < b2:
                if b1 < d1:
                    e1, d1 = e1 - (d1 - b1), b1
                if b2 > d2:
                    e2, d2 = e2 + (b2 - d2), b2
        if hunks and d1 <= hunks[-1][1]:
            last = hunks[-1]
            last[1], last[3] = max(last[1], d2), e2 + max(0, last[1] - d2)
        else:
            hunks.append([d1, d2, e1, e2])
    return [(a, b, c, e) for a, b, c, e in hunks]


def _source_index(blocks: list[Block], d: int, size: int, end: bool = False) -> int:
    """The original line where dump line `d` starts; with `end`, where a dump range ending at `d` ends."""
    if end:
        return max((t2 for _t1, t2, d1, d2 in blocks if d2 > d1 and d2 <= d), default=0)
    return min((t1 for t1, _t2, d1, d2 in blocks if d2 > d1 and d1 >= d), default=size)
