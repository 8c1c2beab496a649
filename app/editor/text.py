"""Words of the Settings pages, in English and Chinese."""

from __future__ import annotations

from app.i18n import _t
from app.metadata.spec import Text

UI: dict[str, Text] = {
    "settings": _t("Settings"), "editor": _t("Metadata editor"),
    "history": _t("Version history"), "entities": _t("Entities"),
    "roles": _t("Roles"), "files": _t("Files (YAML)"),
    "version": _t("Version in force"), "readonly": _t("Read-only: you may look at every setting but not save."),
    "entity": _t("Entity", "metadata"), "label": _t("Label"), "plural": _t("Plural"),
    "icon": _t("Icon"), "title": _t("Title field"), "menu": _t("Menu group"),
    "fields": _t("Fields"), "field": _t("Field"), "type": _t("Type"),
    "required": _t("Required"), "default": _t("Default"), "help": _t("Help"),
    "required_if": _t("Required if"), "visible_if": _t("Visible if"),
    "read_only_if": _t("Read-only if"), "choices": _t("Choices"),
    "aliases": _t("Import headings"),
    "aliases_help": _t("Other headings of an import column that fills this field, one per line"),
    "value": _t("Value"), "color": _t("Colour"), "order": _t("Order"),
    "new_choice": _t("New choice"), "edit": _t("Edit"),
    "add_field": _t("Add a field"), "name": _t("Name (key)"),
    "link_to": _t("Links to (link fields)"),
    "choices_help": _t("One per line: value | English | 中文 | #colour"),
    "list": _t("List"), "columns": _t("Columns"), "filters": _t("Filters"),
    "search": _t("Search in"), "list_order": _t("Sort order"),
    "names_help": _t("Field names, separated by commas"),
    "form": _t("Form sections"),
    "form_help": _t("One section per line: English | 中文: field, field"),
    "pipelines": _t("Pipelines"), "stage": _t("Stage"), "probability": _t("Probability"),
    "requires": _t("Requires"), "stage_roles": _t("Roles"), "next": _t("Next stages"),
    "final": _t("Final"), "add_stage": _t("Add a stage"), "after": _t("After", "position"),
    "transitions": _t("Transitions"),
    "transitions_help": _t("One per line: from -> to: Role, Role"),
    "scopes": _t("Records per action"),
    "scope_help": _t("all, team, own, no, yes, own(field), via(link); empty: no"),
    "field_rules": _t("Field rules"),
    "field_rules_help": _t("One per line: entity.field: hidden | read | write"),
    "settings_perm": _t("Settings pages"), "none": _t("none"),
    "add_role": _t("Add a role"), "role": _t("Role"),
    "plan_button": _t("Review the changes"), "plan": _t("Plan"),
    "changes": _t("What changes in the database"), "rows": _t("rows"),
    "no_changes": _t("No database change: labels, lists, forms and rules only."),
    "diff": _t("Changes to the files"), "nothing": _t("Nothing changed."),
    "refused": _t("Refused: these steps would lose data"),
    "confirm": _t("I understand the data above will be lost; apply anyway."),
    "message": _t("Message (what and why)"), "save": _t("Save as a new version"),
    "back": _t("Back"), "saved": _t("Saved as version"),
    "problems": _t("The checker found problems; nothing was applied."),
    "conflict": _t("Someone saved a newer version meanwhile; nothing was applied. Their changes:"),
    "reload": _t("Open the current version and edit again"),
    "write_back": _t("Files not written back"),
    "when": _t("When"), "who": _t("Who"), "source": _t("Source"),
    "rollback": _t("Roll back to this version"), "rolled_back": _t("Rolled back: new version"),
    "rollback_plan": _t("Roll back to version"), "in_force": _t("in force"),
    "no_versions": _t("No versions recorded yet."),
    "file_help": _t("The whole file; the checker reads it before anything is applied."),
    "edit_error": _t("This edit does not fit the files"),
}


def words(lang: str) -> dict[str, str]:
    return {k: v.get(lang) for k, v in UI.items()}
