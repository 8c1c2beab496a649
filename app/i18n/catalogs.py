"""Read, write and compile the catalogs (app/translations/<lang>/LC_MESSAGES/messages.po).

The compiled .mo files are committed next to their .po (a clean checkout runs with no
build step); tests/test_i18n_catalogs.py fails when one is out of date. After editing a
.po: `python -m app.i18n.catalogs compile` (or `make translations`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from app.i18n import CATALOG_DIR, DOMAIN


def po_path(lang: str, root: Path = CATALOG_DIR) -> Path:
    return root / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def load(lang: str, root: Path = CATALOG_DIR) -> Catalog:
    path = po_path(lang, root)
    if not path.exists():
        return Catalog(locale=lang, project="MetaCRM", fuzzy=False)
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def save(catalog: Catalog, lang: str, root: Path = CATALOG_DIR) -> None:
    path = po_path(lang, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = BytesIO()
    write_po(buf, catalog, width=0, sort_output=True, omit_header=False, no_location=True)
    path.write_bytes(buf.getvalue())


def mo_bytes(lang: str, root: Path = CATALOG_DIR) -> bytes:
    buf = BytesIO()
    write_mo(buf, load(lang, root), use_fuzzy=False)
    return buf.getvalue()


def compile_all(root: Path = CATALOG_DIR) -> list[Path]:
    """Write every .po's .mo; returns the files written."""
    written = []
    for po in sorted(root.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        lang = po.parent.parent.name
        mo = po.with_suffix(".mo")
        data = mo_bytes(lang, root)
        if not mo.exists() or mo.read_bytes() != data:
            mo.write_bytes(data)
            written.append(mo)
    return written


def stale(root: Path = CATALOG_DIR) -> list[Path]:
    """The .mo files that do not match their .po (missing ones included)."""
    return [po.with_suffix(".mo") for po in sorted(root.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
            if not po.with_suffix(".mo").exists()
            or po.with_suffix(".mo").read_bytes() != mo_bytes(po.parent.parent.name, root)]


def add(pairs: Iterable[tuple[str, dict[str, str]]], root: Path = CATALOG_DIR, context: str | None = None,
        replace: bool = False) -> list[str]:
    """Add msgids with their translations ({lang: text}; English is the msgid itself) to every
    catalog; returns conflicts (a msgid already translated differently is left as it was,
    unless `replace`)."""
    pairs = list(pairs)
    langs = sorted({p.parent.parent.name for p in root.glob(f"*/LC_MESSAGES/{DOMAIN}.po")} | {"en", "zh"})
    conflicts = []
    for lang in langs:
        catalog = load(lang, root)
        for msgid, texts in pairs:
            text = msgid if lang == "en" else texts.get(lang, "")
            current = catalog.get(msgid, context)
            if current is not None and current.string and text and current.string != text and not replace:
                conflicts.append(f"{lang}: {msgid!r} is {current.string!r}, kept (not {text!r})")
                continue
            if current is None or (text and (replace or not current.string)):
                if current is not None:
                    catalog.delete(msgid, context)  # Catalog.add keeps an existing string
                catalog.add(msgid, text, flags=("python-brace-format",) if "{" in msgid else (), context=context)
        save(catalog, lang, root)
    return conflicts


if __name__ == "__main__":  # python -m app.i18n.catalogs compile
    if sys.argv[1:] != ["compile"]:
        sys.exit("usage: python -m app.i18n.catalogs compile")
    for path in compile_all():
        print(f"wrote {path}")
