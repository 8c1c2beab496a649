"""Import messages: a key per message, its text in the catalogs (field messages: app.records.messages)."""

from __future__ import annotations

from typing import Any

from app.i18n import Msg, _t, translate

TEXTS: dict[str, Msg] = {
    "not_table": _t("'{name}' is not a CSV or XLSX file."),
    "not_xlsx": _t("'{name}' is not a valid XLSX file."),
    "not_csv": _t("'{name}' is not a text CSV file."),
    "empty": _t("The file is empty."),
    "too_big": _t("The file is larger than {mb} MB."),
    "no_header": _t("The first row has no column names."),
    "header_is_data": _t("The first row ({cells}) looks like data: the file needs a header row of column names."),
    "no_rows": _t("The file has a header but no rows."),
    "unreadable": _t("The file cannot be read: {reason}"),
    "no_file": _t("No file was uploaded (form field 'file')."),
    "unknown_column": _t("Column '{column}' is mapped to '{field}', which {entity} does not have."),
    "not_writable": _t("Column '{column}': you may not write the field '{field}'."),
    "hidden_key": _t("Column '{column}': you may not read the field '{field}'."),
    "missing_required": _t("The required field '{field}' has no column."),
    "mapped_twice": _t("Columns '{columns}' are all mapped to '{field}'."),
    "no_column": _t("No column of the file is mapped to '{field}'."),
    "bad_mode": _t("Mode must be create, update or upsert."),
    "keys_needed": _t("Update and upsert need at least one match key."),
    "owner_on_update": _t("Column '{column}': the owner is set on create only (use reassign)."),
    "link_key": _t("'{key}' is not a unique field of {entity}."),
    "no_import": _t("You may not import {entity}."),
    "no_match": _t("No record matches {keys}."),
    "many_match": _t("{n} records match {keys}."),
    "no_target": _t("No {entity} '{value}'."),
    "many_targets": _t("{n} {entity} records are called '{value}'."),
    "no_user": _t("No user '{value}'."),
    "duplicate_row": _t("Same as row {row} of this file."),
    "duplicate_record": _t("Record #{id} already has these values."),
    "changed_since": _t("Changed since the import (version {now}, the import left {then})."),
    "gone": _t("The record no longer exists."),
    "not_import": _t("Job {id} is not a finished import."),
    "reverted_already": _t("This import was reverted already."),
    "too_many_cells": _t("The row has {n} cells, the header {m} columns (a separator not quoted?)."),
    "import_title": _t("Import"),
    "revert_title": _t("Revert import"),
    "still_running": _t("The import has not finished."),
    "not_json": _t("The body must be a JSON object."),
    "no_upload": _t("No upload {token}."),
    "template_name": _t("{entities} import template"),
    "bad_format": _t("format must be csv or xlsx."),
}


def text(message: str, lang: str | None = None, **params: Any) -> str:
    return translate(TEXTS[message].msgid, lang, **params)
