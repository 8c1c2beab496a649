"""Field and command messages in English and Chinese.

Kept as a small table rather than Babel catalogues so the message a test
asserts is the message a user reads, in either language.
"""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, dict[str, str]] = {
    "required": {"en": "This field is required.", "zh": "此项为必填项。"},
    "max_length": {"en": "At most {n} characters.", "zh": "最多 {n} 个字符。"},
    "email": {"en": "Not a valid e-mail address.", "zh": "电子邮件地址无效。"},
    "phone": {"en": "Not a valid phone number.", "zh": "电话号码无效。"},
    "url": {"en": "Not a valid web address (http:// or https://).", "zh": "网址无效（需以 http:// 或 https:// 开头）。"},
    "pattern": {"en": "Does not match the pattern {p}.", "zh": "不符合格式 {p}。"},
    "choice": {"en": "'{v}' is not one of: {choices}.", "zh": "“{v}”不在可选值中：{choices}。"},
    "min": {"en": "Must be at least {n}.", "zh": "不能小于 {n}。"},
    "max": {"en": "Must be at most {n}.", "zh": "不能大于 {n}。"},
    "integer": {"en": "Not a whole number.", "zh": "不是整数。"},
    "number": {"en": "Not a number.", "zh": "不是数字。"},
    "boolean": {"en": "Not true or false.", "zh": "不是布尔值（true/false）。"},
    "date": {"en": "Not a date (YYYY-MM-DD).", "zh": "日期无效（格式 YYYY-MM-DD）。"},
    "datetime": {"en": "Not a date and time (YYYY-MM-DDTHH:MM:SS).", "zh": "日期时间无效（格式 YYYY-MM-DDTHH:MM:SS）。"},
    "text": {"en": "Not text.", "zh": "不是文本。"},
    "list": {"en": "Not a list.", "zh": "不是列表。"},
    "link": {"en": "No {entity} with id {id}.", "zh": "不存在 id 为 {id} 的{entity}。"},
    "user": {"en": "No user with id {id}.", "zh": "不存在 id 为 {id} 的用户。"},
    "unique": {"en": "Another record already has this value.", "zh": "已有其他记录使用此值。"},
    "unique_together": {"en": "Another record already has this {fields}.",
                        "zh": "已有其他记录使用相同的{fields}。"},
    "money_currency": {"en": "Amounts are in {currency}: '{sign}' is another currency.",
                       "zh": "金额以 {currency} 计：“{sign}”是其他货币。"},
    "money_unit": {"en": "'{unit}' is not read here: type the whole amount (e.g. 120000).",
                   "zh": "此处不识别“{unit}”：请填写完整金额（例如 120000）。"},
    "not_applicable": {"en": "This field does not apply here.", "zh": "此项在当前情况下不适用。"},
    "locked": {"en": "This {entity} is locked; only {roles} may change it.",
               "zh": "此{entity}已锁定，只有 {roles} 可以修改。"},
    "read_only": {"en": "This field cannot be changed.", "zh": "此项不可修改。"},
    "unknown_field": {"en": "Unknown field.", "zh": "未知字段。"},
    "restricted": {"en": "Cannot delete: {count} {entity} record(s) link to it through '{field}'.",
                   "zh": "无法删除：有 {count} 条{entity}记录通过“{field}”关联到它。"},
    "forbidden": {"en": "You may not {action} this {entity}.", "zh": "您无权对此{entity}执行{action}操作。"},
    "stage_unknown": {"en": "'{stage}' is not a stage of {pipeline} ({stages}).",
                      "zh": "“{stage}”不是{pipeline}的阶段（{stages}）。"},
    "stage_transition": {"en": "Cannot move from {source} to {target}; next stages: {allowed}.",
                         "zh": "不能从{source}移到{target}；可移至：{allowed}。"},
    "stage_transition_role": {"en": "Your role may not move records from {source} to {target}.",
                              "zh": "您的角色无权将记录从{source}移至{target}。"},
    "stage_role": {"en": "Your role may not move records into {stage}.", "zh": "您的角色无权将记录移入{stage}。"},
    "stage_requires": {"en": "To enter {stage}, fill in: {fields}.", "zh": "进入{stage}前请填写：{fields}。"},
    "version_stale": {"en": "This {entity} was changed by someone else since you opened it (your version {yours}, now "
                               "{current}). Changed: {fields}. Review the current values and save again.",
                      "zh": "此{entity}在您打开后已被他人修改（您的版本 {yours}，当前版本 {current}）。"
                            "已修改：{fields}。请核对当前值后再保存。"},
    "version_unknown_fields": {"en": "fields you cannot see or older changes", "zh": "您不可见的字段或更早的修改"},
    "version_invalid": {"en": "Not a record version (a whole number, or the ETag the API returned).",
                        "zh": "不是有效的记录版本（应为整数或 API 返回的 ETag）。"},
    "user_inactive": {"en": "User {name} is inactive.", "zh": "用户 {name} 已停用。"},
    "user_role": {"en": "User {name} does not have the role {roles}.", "zh": "用户 {name} 不具有角色：{roles}。"},
    "reassign_scope": {"en": "You may not give records to {name}.", "zh": "您无权将记录转给 {name}。"},
    "not_json": {"en": "The request body must be a JSON object.", "zh": "请求体必须是 JSON 对象。"},
}


def msg(key: str, lang: str | None = None, **params: Any) -> str:
    table = MESSAGES[key]
    template = table.get(lang or "en") or table["en"]
    return template.format(**params)


def labelled(value: str, label: Any, lang: str | None = None) -> str:
    """A value as a message names it: the label the user reads, the value beside it when it
    differs (what the API and imports send): `初步接触 (prospecting)`, `展会`."""
    text = label.get(lang) or value
    return text if text == value else f"{text} ({value})"


def choices_text(field: Any, lang: str | None = None) -> str:
    """A field's choices as an error names them: labels in the user's language, values beside."""
    return ", ".join(labelled(c.value, c.label, lang) for c in field.choices)
