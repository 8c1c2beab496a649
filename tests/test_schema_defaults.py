"""Every field type × required × default applies on SQLite and PostgreSQL: as a new table,
as a column added to an empty table and as a column added to a filled one (issue 11, item 9).

Generated from the field type registry (FIELD_TYPES), so a new type is covered by adding
its sample default below; a type without one fails the completeness test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from app.metadata.definitions import FIELD_TYPES
from app.schema.apply import apply_plan
from app.schema.plan import make_plan
from tests.conftest import login, write_tree

# A literal default per type (None: the type takes no literal default), plus its options.
SAMPLES: dict[str, tuple[Any, str]] = {
    "string": ("默认值", ""),
    "text": ("多行\n文本", ""),
    "integer": (7, ""),
    "decimal": (1.25, ", scale: 2"),
    "money": (99.5, ""),
    "percent": (12.5, ""),
    "boolean": (False, ""),
    "date": ("2024-01-31", ""),
    "datetime": ("2024-01-31 10:30:00", ""),
    "email": ("who@example.com", ""),
    "phone": ("+86 10 1234", ""),
    "url": ("https://example.com", ""),
    "choice": ("low", ", choices: [low, {value: high, label: {en: High, zh: 高}}]"),
    "multichoice": ("hot", ", choices: [hot, {value: new, label: {en: New, zh: 新}}]"),
    "link": (None, ", to: holder"),
    "links": (None, ", to: holder"),
    "user": ("current_user", ""),
    "autonumber": (None, ', format: "N-{000}"'),
    "formula": (None, ""),
    "lookup": (None, ""),
    "rollup": (None, ""),
}
# Computed kinds take no required/default: each has its own variants (a rollup has no column).
COMPUTED_VARIANTS: dict[str, dict[str, str]] = {
    "formula": {
        "f_formula": """{type: formula, expression: "concat(name, '号')"}""",
        "f_stored": """{type: formula, stored: true, index: true, expression: "upper(name)"}""",
    },
    "lookup": {
        "f_link": "{type: link, to: holder}",
        "f_lookup": "{type: lookup, path: f_link.name}",
        "f_copied": "{type: lookup, path: f_link.name, copy_at_create: true}",
    },
    "rollup": {},
}
KEYWORD_DEFAULTS = {"date": "today", "datetime": "now"}
ENTITY = """
label: {{en: {label}, zh: 测试}}
fields:
  name: {{type: string, required: true}}
{fields}
"""


def test_every_registered_type_has_a_sample():
    assert set(SAMPLES) == set(FIELD_TYPES)


def _yaml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]"
    if isinstance(value, str) and ("\n" in value or ": " in value):
        return '"' + value.replace("\n", "\\n") + '"'
    return str(value)


def field_variants(ftype: str) -> dict[str, str]:
    """Field name → YAML line: each required × default combination the type allows."""
    sample, options = SAMPLES[ftype]
    if ftype in COMPUTED_VARIANTS:
        return dict(COMPUTED_VARIANTS[ftype])
    if ftype == "autonumber":
        return {"f_plain": f"{{type: autonumber{options}}}"}
    defaults: dict[str, Any] = {"nodef": None}
    if sample is not None:
        defaults["def"] = sample
    if ftype in KEYWORD_DEFAULTS:
        defaults["kw"] = KEYWORD_DEFAULTS[ftype]
    if ftype == "boolean":
        defaults["true"] = True
    variants = {}
    for required in (False, True):
        for label, value in defaults.items():
            extra = "" if value is None else f", default: {_yaml(value)}"
            name = f"f_{'req' if required else 'opt'}_{label}"
            variants[name] = f"{{type: {ftype}, required: {'true' if required else 'false'}{extra}{options}}}"
    if "unique" in FIELD_TYPES[ftype].options:
        variants["f_unique"] = f"{{type: {ftype}, unique: true{options}}}"
        variants["f_unique_req"] = f"{{type: {ftype}, unique: true, required: true{options}}}"
    return variants


def _tree(root, ftype: str, with_fields: bool):
    fields = "".join(f"  {name}: {line}\n" for name, line in field_variants(ftype).items())
    entities = {
        "holder": ENTITY.format(label="Holder", fields=""),
        "filled": ENTITY.format(label="Filled", fields=fields if with_fields else ""),
        "blank": ENTITY.format(label="Blank", fields=fields if with_fields else ""),
    }
    if with_fields:
        entities["fresh"] = ENTITY.format(label="Fresh", fields=fields)
    return write_tree(root, entities)


def _apply(app, migrations) -> Any:
    with app.app_context():
        state = app.extensions["crm"]
        applied = apply_plan(state.db.engine, state.models, migrations)
        with state.db.engine.connect() as conn:
            assert not make_plan(conn, state.models).pending
    return applied


@pytest.mark.parametrize("ftype", list(FIELD_TYPES))
def test_every_combination_applies_new_empty_and_filled(make_app, tmp_path, ftype):
    first = make_app(_tree(tmp_path / "v1", ftype, with_fields=False))
    client = login(first.test_client())
    for name in ("旧记录一", "旧记录二"):
        assert client.post("/api/v1/filled/", json={"name": name}).status_code == 201
    second = make_app(_tree(tmp_path / "v2", ftype, with_fields=True), CRM_SCHEMA_MODE="off")
    applied = _apply(second, tmp_path / "migrations")
    assert applied.path is not None
    text = applied.path.read_text(encoding="utf-8")
    assert "sa.text('0')" not in text and "sa.text('1')" not in text
    client = login(second.test_client())
    rows = client.get("/api/v1/filled/?q=(columns:!(name))").json["result"]
    assert sorted(r["name"] for r in rows) == ["旧记录一", "旧记录二"]
    payload = {"name": "新记录"}
    sample, _ = SAMPLES[ftype]
    for field in field_variants(ftype):
        if "req" in field or "unique" in field:
            payload[field] = _value(client, ftype, sample, field)
    for entity in ("filled", "blank", "fresh"):
        created = client.post(f"/api/v1/{entity}/", json=payload)
        assert created.status_code == 201, (entity, created.json)


def _value(client: Any, ftype: str, sample: Any, field: str) -> Any:
    """A valid value for a required or unique field of `ftype`."""
    if ftype in ("link", "links"):
        made = client.post("/api/v1/holder/", json={"name": f"h-{field}"})
        assert made.status_code == 201
        return [made.json["id"]] if ftype == "links" else made.json["id"]
    if ftype == "user":
        return 1
    if ftype == "boolean":
        return True
    if ftype == "datetime":
        return dt.datetime(2025, 5, 6, 7, 8, 9).isoformat()
    return sample


def test_a_boolean_default_renders_portably(make_app, tmp_path):
    """The revision says true/false, which both databases take (not 0/1, which PostgreSQL
    refuses), and the rows already there get the default."""
    first = make_app(_tree(tmp_path / "v1", "boolean", with_fields=False))
    assert login(first.test_client()).post("/api/v1/filled/", json={"name": "已有"}).status_code == 201
    second = make_app(_tree(tmp_path / "v2", "boolean", with_fields=True), CRM_SCHEMA_MODE="off")
    text = _apply(second, tmp_path / "migrations").path.read_text(encoding="utf-8")
    assert "server_default=sa.text('false')" in text and "server_default=sa.text('true')" in text
    with second.app_context():
        engine = second.extensions["crm"].db.engine
        with engine.connect() as conn:
            values = conn.execute(sa.text("SELECT f_req_def, f_req_true FROM filled")).fetchall()
    assert [tuple(v) for v in values] == [(False, True)]
