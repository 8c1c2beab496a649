"""Field and command messages: a key per message, its text in the catalogs (app/i18n).

Call sites name a key (`msg("required", lang)`); the key maps to the English msgid whose
translation the catalog of `lang` holds.
"""

from __future__ import annotations

from typing import Any

from app.i18n import Msg, _t, translate

MESSAGES: dict[str, Msg] = {
    "required": _t("This field is required."),
    "max_length": _t("At most {n} characters."),
    "email": _t("Not a valid e-mail address."),
    "phone": _t("Not a valid phone number."),
    "url": _t("Not a valid web address (http:// or https://)."),
    "pattern": _t("Does not match the pattern {p}."),
    "choice": _t("'{v}' is not one of: {choices}."),
    "min": _t("Must be at least {n}."),
    "max": _t("Must be at most {n}."),
    "integer": _t("Not a whole number."),
    "number": _t("Not a number."),
    "boolean": _t("Not true or false."),
    "date": _t("Not a date (YYYY-MM-DD)."),
    "datetime": _t("Not a date and time (YYYY-MM-DDTHH:MM:SS)."),
    "text": _t("Not text."),
    "list": _t("Not a list."),
    "link": _t("No {entity} with id {id}."),
    "user": _t("No user with id {id}."),
    "unique": _t("Another record already has this value."),
    "unique_together": _t("Another record already has this {fields}."),
    "money_currency": _t("Amounts are in {currency}: '{sign}' is another currency."),
    "money_unit": _t("'{unit}' is not read here: type the whole amount (e.g. 120000)."),
    "not_applicable": _t("This field does not apply here."),
    "locked": _t("This {entity} is locked; only {roles} may change it."),
    "read_only": _t("This field cannot be changed."),
    "unknown_field": _t("Unknown field."),
    "restricted": _t("Cannot delete: {count} {entity} record(s) link to it through '{field}'."),
    "forbidden": _t("You may not {action} this {entity}."),
    "stage_unknown": _t("'{stage}' is not a stage of {pipeline} ({stages})."),
    "stage_transition": _t("Cannot move from {source} to {target}; next stages: {allowed}."),
    "stage_transition_role": _t("Your role may not move records from {source} to {target}."),
    "stage_role": _t("Your role may not move records into {stage}."),
    "stage_requires": _t("To enter {stage}, fill in: {fields}."),
    "version_stale": _t("This {entity} was changed by someone else since you opened it (your version {yours}, now {current}). Changed: {fields}. Review the current values and save again."),
    "version_unknown_fields": _t("fields you cannot see or older changes"),
    "version_invalid": _t("Not a record version (a whole number, or the ETag the API returned)."),
    "user_inactive": _t("User {name} is inactive."),
    "user_role": _t("User {name} does not have the role {roles}."),
    "reassign_scope": _t("You may not give records to {name}."),
    "not_json": _t("The request body must be a JSON object."),
}


def msg(key: str, lang: str | None = None, **params: Any) -> str:
    return translate(MESSAGES[key].msgid, lang, **params)


# The action in "You may not {action} this {entity}": the user's words, not the roles.yaml key
# (a zh refusal read "您无权对此商机执行mass_update操作").
ACTIONS = {
    "read": _t("read", "may not"), "create": _t("create", "may not"), "update": _t("change", "may not"),
    "delete": _t("delete", "may not"), "mass_update": _t("bulk update", "may not"),
    "mass_delete": _t("bulk delete", "may not"), "reassign": _t("reassign", "may not"),
    "export": _t("export", "may not"), "import": _t("import", "may not"),
}


def forbidden_text(action: str, entity: Any, lang: str | None = None) -> str:
    """"You may not <action> this <entity>." in `lang`, `entity` being the entity's label."""
    word = ACTIONS[action].get(lang) if action in ACTIONS else action
    return msg("forbidden", lang, action=word, entity=entity.get(lang))


def labelled(value: str, label: Any, lang: str | None = None) -> str:
    """A value as a message names it: the label the user reads, the value beside it when it
    differs (what the API and imports send): `初步接触 (prospecting)`, `展会`."""
    text = label.get(lang) or value
    return text if text == value else f"{text} ({value})"


def choices_text(field: Any, lang: str | None = None) -> str:
    """A field's choices as an error names them: labels in the user's language, values beside."""
    return ", ".join(labelled(c.value, c.label, lang) for c in field.choices)
