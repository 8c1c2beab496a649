"""Move hand-made en/zh text tables into the catalogs, mechanically.

    python -m app.i18n.harvest app/web/bulk.py [--helper t] [more files...]

In Python it rewrites `Text((("en", A), ("zh", B)))`, `{"en": A, "zh": B}`,
`(("en", A), ("zh", B))` and `helper(A, B)` (for each --helper name) into `_t(A)`, and
adds A -> B to the zh catalog. In Jinja templates it rewrites
`'B' if crm_lang == 'zh' else 'A'` (and the `!=` form) into `_('A')`. Then it compiles the
catalogs. A `_t(A)` reads like the old value: `.get(lang)`, `[lang]`, `lazy(...)`.
Call sites that built a Text from pairs (`Text(PAIRS)`) need `PAIRS` alone afterwards;
review the diff.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

from app.i18n.catalogs import add, compile_all

Pair = tuple[str, dict[str, str]]


def _str(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _lang_pairs(node: ast.AST) -> dict[str, str] | None:
    """{lang: text} from (("en", A), ("zh", B)) or {"en": A, "zh": B}, else None."""
    if isinstance(node, ast.Tuple) and node.elts and all(
            isinstance(e, ast.Tuple) and len(e.elts) == 2 for e in node.elts):
        texts = {_str(e.elts[0]): _str(e.elts[1]) for e in node.elts}  # type: ignore[attr-defined]
    elif isinstance(node, ast.Dict) and node.keys:
        texts = {_str(k) if k else None: _str(v) for k, v in zip(node.keys, node.values, strict=True)}
    else:
        return None
    if "en" not in texts or None in texts or None in texts.values() or not set(texts) <= {"en", "zh", "ja"}:
        return None
    return texts  # type: ignore[return-value]


def _matches(tree: ast.AST, helpers: set[str]) -> list[tuple[ast.AST, dict[str, str]]]:
    found: list[tuple[ast.AST, dict[str, str]]] = []
    taken: set[int] = set()
    for node in ast.walk(tree):
        if id(node) in taken:
            continue
        texts = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "Text" and len(node.args) == 1 and not node.keywords:
                texts = _lang_pairs(node.args[0])
            elif node.func.id in helpers and len(node.args) == 2 and not node.keywords:
                en, zh = _str(node.args[0]), _str(node.args[1])
                texts = {"en": en, "zh": zh} if en is not None and zh is not None else None
        else:
            texts = _lang_pairs(node)
        if texts:
            found.append((node, texts))
            taken.update(id(n) for n in ast.walk(node))
    return found


def _offset(lines: list[bytes], line: int, col: int) -> int:
    return sum(len(x) for x in lines[:line - 1]) + col


def harvest_python(path: Path, helpers: set[str]) -> list[Pair]:
    source = path.read_bytes()
    matches = _matches(ast.parse(source), helpers)
    if not matches:
        return []
    lines = source.splitlines(keepends=True)
    spans = sorted(((_offset(lines, n.lineno, n.col_offset), _offset(lines, n.end_lineno, n.end_col_offset), t)
                    for n, t in matches), reverse=True)
    for start, end, texts in spans:
        source = source[:start] + f"_t({json.dumps(texts['en'], ensure_ascii=False)})".encode() + source[end:]
    text = source.decode()
    if not re.search(r"^from app\.i18n import .*\b_t\b", text, re.M):
        text = _add_import(text)
    path.write_text(text, encoding="utf-8")
    return [(t["en"], {k: v for k, v in t.items() if k != "en"}) for _, _, t in spans]


def _add_import(text: str) -> str:
    """`from app.i18n import _t` after the last top-level import."""
    tree = ast.parse(text)
    last = max((n.end_lineno or 0 for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))), default=0)
    lines = text.splitlines(keepends=True)
    lines.insert(last, "from app.i18n import _t\n")
    return "".join(lines)


_TEMPLATE = re.compile(r"""(?P<q>['"])(?P<a>[^'"]*)(?P=q)\s+if\s+crm_lang\s*(?P<op>==|!=)\s*['"]zh['"]\s+"""
                       r"""else\s+(?P<q2>['"])(?P<b>[^'"]*)(?P=q2)""")


def harvest_template(path: Path) -> list[Pair]:
    pairs: list[Pair] = []

    def swap(m: re.Match[str]) -> str:
        zh, en = (m["a"], m["b"]) if m["op"] == "==" else (m["b"], m["a"])
        pairs.append((en, {"zh": zh}))
        return f"_({json.dumps(en, ensure_ascii=False)})"

    text = _TEMPLATE.sub(swap, path.read_text(encoding="utf-8"))
    if pairs:
        path.write_text(text, encoding="utf-8")
    return pairs


def main(argv: list[str]) -> int:
    helpers = {argv[i + 1] for i, a in enumerate(argv) if a == "--helper"}
    files = [Path(a) for i, a in enumerate(argv) if a != "--helper" and (i == 0 or argv[i - 1] != "--helper")]
    pairs: list[Pair] = []
    for path in files:
        found = harvest_template(path) if path.suffix == ".html" else harvest_python(path, helpers)
        print(f"{path}: {len(found)} text(s)")
        pairs += found
    for conflict in add(pairs):
        print(f"conflict: {conflict}")
    compile_all()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
