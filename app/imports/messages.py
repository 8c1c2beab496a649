"""Import messages in English and Chinese (field messages come from app.records.messages)."""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, dict[str, str]] = {
    "not_table": {"en": "'{name}' is not a CSV or XLSX file.", "zh": "“{name}”不是 CSV 或 XLSX 文件。"},
    "not_xlsx": {"en": "'{name}' is not a valid XLSX file.", "zh": "“{name}”不是有效的 XLSX 文件。"},
    "not_csv": {"en": "'{name}' is not a text CSV file.", "zh": "“{name}”不是文本 CSV 文件。"},
    "empty": {"en": "The file is empty.", "zh": "文件为空。"},
    "too_big": {"en": "The file is larger than {mb} MB.", "zh": "文件超过 {mb} MB。"},
    "no_header": {"en": "The first row has no column names.", "zh": "第一行没有列名。"},
    "header_is_data": {"en": "The first row ({cells}) looks like data: the file needs a header row of column "
                              "names.", "zh": "第一行（{cells}）看起来是数据：文件需要一行列名作为表头。"},
    "no_rows": {"en": "The file has a header but no rows.", "zh": "文件只有表头，没有数据行。"},
    "unreadable": {"en": "The file cannot be read: {reason}", "zh": "无法读取文件：{reason}"},
    "no_file": {"en": "No file was uploaded (form field 'file').", "zh": "未上传文件（表单字段 file）。"},
    "unknown_column": {"en": "Column '{column}' is mapped to '{field}', which {entity} does not have.",
                       "zh": "列“{column}”对应的字段“{field}”在{entity}中不存在。"},
    "not_writable": {"en": "Column '{column}': you may not write the field '{field}'.",
                     "zh": "列“{column}”：您无权写入字段“{field}”。"},
    "hidden_key": {"en": "Column '{column}': you may not read the field '{field}'.",
                   "zh": "列“{column}”：您无权查看字段“{field}”。"},
    "missing_required": {"en": "The required field '{field}' has no column.",
                         "zh": "必填字段“{field}”没有对应的列。"},
    "mapped_twice": {"en": "Columns '{columns}' are all mapped to '{field}'.",
                     "zh": "列“{columns}”都对应到字段“{field}”。"},
    "no_column": {"en": "No column of the file is mapped to '{field}'.", "zh": "文件中没有列对应到“{field}”。"},
    "bad_mode": {"en": "Mode must be create, update or upsert.", "zh": "模式必须是 create、update 或 upsert。"},
    "keys_needed": {"en": "Update and upsert need at least one match key.", "zh": "更新和更新插入模式至少需要一个匹配键。"},
    "owner_on_update": {"en": "Column '{column}': the owner is set on create only (use reassign).",
                        "zh": "列“{column}”：负责人只能在新建时设置（请使用转移负责人）。"},
    "link_key": {"en": "'{key}' is not a unique field of {entity}.", "zh": "“{key}”不是{entity}的唯一字段。"},
    "no_import": {"en": "You may not import {entity}.", "zh": "您无权导入{entity}。"},
    "no_match": {"en": "No record matches {keys}.", "zh": "没有记录匹配 {keys}。"},
    "many_match": {"en": "{n} records match {keys}.", "zh": "有 {n} 条记录匹配 {keys}。"},
    "no_target": {"en": "No {entity} '{value}'.", "zh": "不存在{entity}“{value}”。"},
    "many_targets": {"en": "{n} {entity} records are called '{value}'.", "zh": "有 {n} 条{entity}记录名为“{value}”。"},
    "no_user": {"en": "No user '{value}'.", "zh": "不存在用户“{value}”。"},
    "duplicate_row": {"en": "Same as row {row} of this file.", "zh": "与本文件第 {row} 行重复。"},
    "duplicate_record": {"en": "Record #{id} already has these values.", "zh": "记录 #{id} 已有相同的值。"},
    "changed_since": {"en": "Changed since the import (version {now}, the import left {then}).",
                      "zh": "导入后已被修改（当前版本 {now}，导入后为 {then}）。"},
    "gone": {"en": "The record no longer exists.", "zh": "记录已不存在。"},
    "not_import": {"en": "Job {id} is not a finished import.", "zh": "任务 {id} 不是已结束的导入。"},
    "reverted_already": {"en": "This import was reverted already.", "zh": "此导入已撤销。"},
    "too_many_cells": {"en": "The row has {n} cells, the header {m} columns (a separator not quoted?).",
                       "zh": "该行有 {n} 个单元格，表头只有 {m} 列（分隔符未加引号？）。"},
    "import_title": {"en": "Import", "zh": "导入"},
    "revert_title": {"en": "Revert import", "zh": "撤销导入"},
    "still_running": {"en": "The import has not finished.", "zh": "导入尚未结束。"},
    "not_json": {"en": "The body must be a JSON object.", "zh": "请求体必须是 JSON 对象。"},
    "no_upload": {"en": "No upload {token}.", "zh": "不存在上传文件 {token}。"},
}


def text(message: str, lang: str | None = None, **params: Any) -> str:
    table = TEXTS[message]
    return table.get(lang or "en", table["en"]).format(**params)
