"""Walk every page a user can reach from the home page and list the English left on a zh page,
and the ASCII colons after a Chinese label (the zh UI writes "：": "共享给角色：").

Used by tests/test_i18n_walk.py (HTTP client) and the browser test. A text node is English when,
after taking out data values (every string stored in the database), e-mails, URLs, numbers and a
short allowlist of codes, a word of two or more Latin letters is left.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import fields, is_dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import sqlalchemy as sa

from app.i18n import Msg
from app.metadata.spec import Text

# Proper nouns and codes a Chinese page may show as they are.
ALLOWED_WORDS = frozenset({
    "CSV", "XLSX", "Excel", "API", "ID", "id", "YAML", "JSON", "MetaCRM", "English", "UTC", "ETag", "URL",
    "HTTP", "CNY", "USD", "EUR", "KPI", "PDF", "WeChat", "QQ", "VIP", "RFM", "SLA", "LDAP", "OID",
    "YYYY", "MM", "DD", "HH", "SS",
})
ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
SKIP_TAGS = frozenset({"script", "style", "textarea", "code", "pre", "svg"})
SKIP_PATHS = ("/logout", "/lang/", "/api/", "/static/", "/crm-static/", "/appbuilder/", "/swagger",
              "/export", "/download", "/metrics", "/health")
PATTERNS = (
    re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),  # e-mail
    re.compile(r"https?://\S*|www\.\S+|/crm/\S*"),  # addresses
    re.compile(r"\b[\w-]+\.(yaml|yml|csv|xlsx)\b"),  # file names
    re.compile(r"#\d+"),
    re.compile(r"^__None$"),  # FAB's blank option of a relation select (teams' manager): a value, not a word
    re.compile(r"\b\d[\d,.:/\-T%]*\b"),  # numbers, dates, times
)
WORD = re.compile(r"[A-Za-z][A-Za-z'’]+")
CJK_COLON = re.compile(r"[\u3400-\u9fff]\s*:(?!//)")  # "角色:", not the "http://" of an address
# "记录数目：</strong> 56": a full-width colon, the elements it ends, then white space (a new line
# too: the browser draws any run of it as one space) before the value's text or an inline element
# (Chinese puts no space after "："); white space before a block element is layout, not a gap
INLINE = "a|abbr|b|button|code|em|i|img|input|kbd|label|select|small|span|strong|time"
WIDE_COLON_GAP = re.compile(r"[^\s>]{0,12}：(?:</[a-z]+>)*\s+(?:[^\s<]|<(?:" + INLINE + r")\b[^>]*>)[^<\n]{0,12}")
SCRIPTS = re.compile(r"<(script|style|textarea|pre|code)\b.*?</\1>", re.S | re.I)


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in SKIP_TAGS:
            self._skip += 1
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        self.texts += [v for k, v in attrs if k in ATTRIBUTES and v]
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.texts.append(values["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP_TAGS and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append(data.strip())


def parse(html: str) -> _Texts:
    parser = _Texts()
    parser.feed(html)
    return parser


def data_values(engine: sa.Engine) -> list[str]:
    """Every string stored in the database: data is shown as it was typed."""
    found: set[str] = set()
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, sa.String | sa.Text)]
            if not columns or table.name.startswith(("alembic", "crm_event", "crm_outbox")):
                continue
            for row in conn.execute(sa.select(*columns).limit(2000)):
                found.update(str(v) for v in row if v and 3 <= len(str(v)) < 200)
    return sorted(found, key=len, reverse=True)


def catalog_texts(lang: str = "zh") -> list[str]:
    """The literal parts of every translation in our catalog and FAB's: allowed as they are."""
    import flask_appbuilder
    from babel.messages.pofile import read_po

    from app.i18n.catalogs import load

    fab = Path(flask_appbuilder.__file__).parent / "translations" / lang / "LC_MESSAGES" / "messages.po"
    found: set[str] = set()
    for catalog in (load(lang), read_po(fab.open("rb"))):
        for message in catalog:
            if message.id and isinstance(message.string, str):
                found.update(p.strip() for p in re.split(r"\{[^}]*\}", message.string) if p.strip())
    return sorted(found, key=len, reverse=True)


def metadata_texts(spec: Any, lang: str = "zh") -> set[str]:
    """Every label, help and title the metadata gives in `lang` (data, not catalog text)."""
    found: set[str] = set()
    seen: set[int] = set()

    def visit(node: Any) -> None:
        if id(node) in seen or isinstance(node, str | int | float | bool | type(None)):
            return
        seen.add(id(node))
        if isinstance(node, Text) and not isinstance(node, Msg):
            found.update(v for k, v in node.values if k == lang and v)
        elif is_dataclass(node):
            for f in fields(node):
                visit(getattr(node, f.name))
        elif isinstance(node, dict):
            for value in node.values():
                visit(value)
        elif isinstance(node, list | tuple | set | frozenset):
            for value in node:
                visit(value)

    visit(spec)
    return found


def metadata_codes(metadata_dir: Path, reference: Path) -> frozenset[str]:
    """Identifiers of the YAML (keys, field types, actions, choice values) and the ones the
    metadata reference quotes: the settings editor shows them as the admin types them."""
    from app.fieldtypes import BUILTIN_TYPES

    words: set[str] = {"True", "False", *BUILTIN_TYPES}
    for path in metadata_dir.rglob("*.yaml"):
        words.update(re.findall(r"\b[a-z][a-z0-9_]*\b", path.read_text(encoding="utf-8")))
    for quoted in re.findall(r"`([^`]+)`", reference.read_text(encoding="utf-8")):
        words.update(re.findall(r"\b[a-z][a-z0-9_]*\b", quoted))
    return frozenset(words)


SNAKE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)+")
CODE = re.compile(r"`[^`]*`"  # an expression or a field list quoted as code
                  r"|(?:can [a-z_ ]+?|menu access|[a-z_]+) on [^,\]\[]+")  # FAB permission names


def english_left(text: str, data: Iterable[str], codes: frozenset[str] = frozenset()) -> list[str]:
    rest = CODE.sub(" ", text)
    if codes:  # the settings editor: YAML identifiers are what the admin types
        rest = " ".join(w for w in re.split(r"([\w-]+)", rest) if w not in codes and not SNAKE.fullmatch(w))
    for value in data:
        if value in rest:  # a whole value, not the middle of a word ("number" in "autonumber")
            rest = re.sub(rf"(?<![A-Za-z]){re.escape(value)}(?![A-Za-z])", " ", rest)
    for pattern in PATTERNS:
        rest = pattern.sub(" ", rest)
    return [w for w in WORD.findall(rest) if w not in ALLOWED_WORDS]


def colon_texts(lang: str = "zh") -> list[str]:
    """The catalog's own texts with an ASCII colon after Chinese: syntax examples ("实体.字段: hidden")."""
    return [t for t in catalog_texts(lang) if CJK_COLON.search(t)]


def ascii_colon_left(text: str, allowed: Iterable[str]) -> list[str]:
    """The Chinese labels followed by an ASCII colon, outside data and the catalog's syntax examples."""
    rest = CODE.sub(" ", text)
    for value in allowed:
        rest = rest.replace(value, " ")
    return CJK_COLON.findall(rest)


def wide_colon_gaps(html: str, allowed: Iterable[str] = ()) -> list[str]:
    """The places a page puts a space after a full-width colon, outside scripts and data values."""
    found = WIDE_COLON_GAP.findall(SCRIPTS.sub(" ", html))
    spaced = [v for v in allowed if re.search(r"：[ \t]", v)]  # data typed with the space: as it is
    return [f for f in found if not any(value in f or f in value for value in spaced)]


def shape(path: str) -> str:
    """/crm/deal/show/12 and /crm/deal/show/13 are one page to walk."""
    return re.sub(r"/\d+", "/N", path)


def walk(client: Any, start: Iterable[str], data: list[str], codes: frozenset[str] = frozenset(),
         limit: int = 400, colons: Iterable[str] | None = None,
         missing: Iterable[str] = ()) -> dict[str, list[str]]:
    """Visit start pages and every internal link they lead to (one page per URL shape); `codes`
    may stay English on the settings editor's pages. With `colons` (the texts an ASCII colon may
    follow Chinese in: data values, the catalog's syntax examples) such colons are problems too.
    With `colons`, a space after a full-width colon ("记录数目： 56") is a problem too.
    A start page that answers 404 is a problem unless it is in `missing` (the not-found page itself):
    a mistyped address would otherwise walk the 404 page and pass (/crm/my-tasks/ did)."""
    listed, expected_missing = set(start), set(missing)
    queue, seen, problems = list(start), set(), {}
    while queue and len(seen) < limit:
        url = queue.pop(0)
        parts = urlsplit(url)
        key = shape(parts.path)  # one visit per page shape: its sort and page links are the same page
        if key in seen or any(s in parts.path for s in SKIP_PATHS) or parts.netloc:
            continue
        seen.add(key)
        answer = client.get(url)
        if answer.status_code == 404 and url in listed and url not in expected_missing:
            problems[url] = ["404 Not Found: a listed page that does not exist"]
            continue
        if answer.status_code in (301, 302, 303):
            queue.append(urlsplit(answer.headers["Location"])._replace(scheme="", netloc="").geturl())
            continue
        if "text/html" not in answer.content_type:
            continue
        html = answer.get_data(as_text=True)
        page = parse(html)
        allowed = codes if parts.path.startswith("/crm/settings/") else frozenset()
        left = [t for t in page.texts if english_left(t, data, allowed)
                or (colons is not None and ascii_colon_left(t, colons))]
        if colons is not None:
            left += wide_colon_gaps(html, data)
        if left:
            problems[url] = left
        queue += [urljoin(url, href).split("#")[0] for href in page.links
                  if not href.startswith(("#", "javascript:", "mailto:", "tel:", "http"))]
    return problems
