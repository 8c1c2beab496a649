"""Make the generated OpenAPI document say what the API really answers.

FAB's generator documents its own shapes; ours differ: field errors by name in
400/422 bodies, integer ids, the record (not the input) echoed after a write,
any subset of the show columns when a list names its `columns`, `_info`
columns as lists. Schemas stay generated from the entity (schemas.py), so a new
column appears here without a change. tests/test_api_contract.py checks the
result with schemathesis.
"""

from __future__ import annotations

from typing import Any

FIELD_ERRORS = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                "description": "Messages by field name ('_schema' for the body as a whole)"}
MESSAGE = {"anyOf": [{"type": "string"}, FIELD_ERRORS]}
COLUMN_INFO = {"type": "array", "items": {"type": "object"},
               "description": "Columns with name, label, description, type, required, unique"}


def _json_schema(response: dict[str, Any]) -> dict[str, Any]:
    """The JSON body schema of a response ({} when it documents none)."""
    schema: dict[str, Any] = response.get("content", {}).get("application/json", {}).get("schema", {})
    return schema


def fix_error_responses(document: dict[str, Any]) -> None:
    """400 and 422 carry either a sentence or messages by field (FieldsRefused, ValidationFailed)."""
    for code in ("400", "422"):
        schema = _json_schema(document["components"]["responses"].get(code, {}))
        if "properties" in schema:
            schema["properties"]["message"] = MESSAGE


def fix_menu(document: dict[str, Any]) -> None:
    """FAB's menu API lists separators as "-" among the child entries."""
    operation = document["paths"].get("/api/v1/menu/", {}).get("get")
    if operation is None:
        return
    schema = _json_schema(operation["responses"]["200"])
    entry = schema["properties"]["result"]["items"]["properties"]["childs"]["items"]
    schema["properties"]["result"]["items"]["properties"]["childs"]["items"] = {
        "anyOf": [entry, {"type": "string", "enum": ["-"]}]}


def fix_record_api(document: dict[str, Any], prefix: str, tag: str) -> None:
    """Paths of one entity API (`prefix` = /api/v1/<entity>), its component schemas named `tag`.*."""
    paths = document["paths"]
    record = {"$ref": f"#/components/schemas/{tag}.get"}
    id_ = {"type": "integer"}
    collection, item, info = paths.get(f"{prefix}/", {}), paths.get(f"{prefix}/{{pk}}", {}), paths.get(f"{prefix}/_info", {})
    if "get" in collection:
        schema = _json_schema(collection["get"]["responses"]["200"])
        schema["properties"]["ids"]["items"] = id_
        schema["properties"]["count"] = {
            "type": "integer", "description": "Records matching the filters; when `count_exact` is false, "
            "a lower bound: counting stopped at CRM_LIST_COUNT_CAP (page on while the page is full)"}
        schema["properties"]["count_exact"] = {"type": "boolean", "description": "Is `count` the exact total?"}
        # `columns` may pick any show column, so a row is a subset of the show schema
        schema["properties"]["result"]["items"] = record
    if "post" in collection:
        schema = _json_schema(collection["post"]["responses"]["201"])
        schema["properties"] = {"id": id_, "result": record}
    if "get" in item:
        _json_schema(item["get"]["responses"]["200"])["properties"]["id"] = id_
    if "put" in item:
        _json_schema(item["put"]["responses"]["200"])["properties"]["result"] = record
    if "get" in info:
        properties = _json_schema(info["get"]["responses"]["200"])["properties"]
        properties["add_columns"] = properties["edit_columns"] = COLUMN_INFO


def fix_contract(document: dict[str, Any], record_apis: list[tuple[str, str]]) -> dict[str, Any]:
    """`record_apis`: (path prefix, component schema tag) per entity API."""
    fix_error_responses(document)
    fix_menu(document)
    for prefix, tag in record_apis:
        fix_record_api(document, prefix, tag)
    return document
