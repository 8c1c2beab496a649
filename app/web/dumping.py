"""marshmallow schemas compiled into plain functions: the same JSON, without the per-field machinery.

`Schema.dump` asks, for every field of every row, `Field.serialize`, which goes through the
schema's accessor, `utils.get_value`, a `__getitem__` probe and the dump default before the
field's own `_serialize`: a third of a JSON list's Python time went there (issue 18). A
compiled dumper does, per field, what those steps amount to for an ORM record (an attribute
read, the dump default when the attribute is missing) and then calls the field's own
`_serialize`, so every field type (plugins' too) formats its value exactly as before; nested
schemas (links: `{id, title}`) are compiled the same way. A schema with pre/post-dump hooks,
or a value that is not a plain object (a dict answers `__getitem__`), is dumped by
marshmallow itself. `tests/test_api_dumping.py` compares both on every entity's schemas.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields
from marshmallow.decorators import POST_DUMP, PRE_DUMP
from marshmallow.utils import missing

Dumper = Callable[[Any], Any]


def compiled(schema: Schema) -> Dumper:
    """A function that dumps one object as `schema.dump(obj)` does (memoised on the schema)."""
    dumper = schema.__dict__.get("_crm_dumper")
    if dumper is None:
        dumper = _compile(schema)
        schema.__dict__["_crm_dumper"] = dumper
    return dumper


def _compile(schema: Schema) -> Dumper:
    if schema.many or schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP] or schema.dict_class is not dict:
        return schema.dump
    steps = [(field.data_key if field.data_key is not None else name, _getter(schema, name, field))
             for name, field in schema.dump_fields.items()]

    def dump(obj: Any) -> Any:
        if hasattr(obj, "__getitem__"):  # a mapping or sequence: marshmallow's own accessor rules
            return schema.dump(obj)
        out = {}
        for key, get in steps:
            value = get(obj)
            if value is not missing:
                out[key] = value
        return out

    return dump


def _getter(schema: Schema, name: str, field: fields.Field) -> Callable[[Any], Any]:
    """What `field.serialize(name, obj, accessor=schema.get_attribute)` returns for a plain object."""
    attr = field.attribute if field.attribute is not None else name
    if not field._CHECK_ATTRIBUTE:  # fields.Function, Method, Constant: computed from the object
        return lambda obj: field._serialize(None, name, obj)
    if "." in attr:  # a dotted path: marshmallow walks it
        return lambda obj: field.serialize(name, obj, accessor=schema.get_attribute)
    serialize = _value_serializer(name, field)

    def get(obj: Any) -> Any:
        value = getattr(obj, attr, missing)
        if value is missing:
            default = field.dump_default
            value = default() if callable(default) else default
            if value is missing:
                return missing
        return serialize(value, obj)

    return get


def _value_serializer(name: str, field: fields.Field) -> Callable[[Any, Any], Any]:
    if type(field) is fields.Nested:
        nested = field.schema
        if not (nested.many or field.many):
            inner = compiled(nested)
            return lambda value, obj: None if value is None else inner(value)
    return lambda value, obj: field._serialize(value, name, obj)
