"""The metadata vocabulary: every key of every file and every field type.

One source for three readers: the loader (which keys exist, of what kind),
the JSON Schema generator (editor completion) and the docs test (every key
and type is documented). Add a key here and all three follow.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.fieldtypes import BUILTIN_TYPES, FieldType
from app.i18n import language_name, languages

# Value kinds a key can take. The loader checks them, the schema renders them.
KINDS = {
    "text": "a string",
    "texts": "a list of strings",
    "label": "a string, or a map of language code to string ({en: Account, zh: 客户})",
    "identifier": "a lower-case name: [a-z][a-z0-9_]*",
    "bool": "true or false",
    "integer": "a whole number",
    "number": "a number",
    "scalar": "a string, number, boolean or date",
    "identifiers": "a list of identifiers",
    "paths": "a list of field names, or link.field paths",
    "order": "a field name, with a leading '-' for descending",
    "choices": "a list of values, each a string or {value, label, color}",
    "languages": "a list of language codes (en, zh)",
    "menu": "a list of menu groups",
    "sections": "a list of form sections",
    "fields": "a map of field name to field definition",
    "listspec": "a list definition",
    "rolenames": "a list of role names",
    "grants": "a map of entity name to {action: scope}",
    "fieldrules": "a map of entity.field to hidden, read or write",
    "scope": "all, team, own or no (yes means all)",
    "pipelines": "a list of pipelines",
    "stages": "a list of stages",
    "condition": "a map of one choice field to one of its values",
    "stagegrants": "a map of entity name to the stages the role may move records into",
    "conversion": "a conversion definition",
    "ownerspec": "a map with label, help and roles of the owner field",
    "targets": "a list of conversion targets",
    "mapping": "a map of target field to source field",
    "dashboards": "a list of dashboards",
    "charts": "a list of charts",
    "measure": "count, or sum(field), avg(field), min(field), max(field)",
    "grouping": "a field, a link.field, or a date field with a bucket: close_date:month",
    "filters": "a map of field (or link.field) to a condition",
    "period": "a map {field: a date field, range: a relative date such as this_quarter}",
    "params": "a map of analysis option to value",
    "normalisers": "a list of normalisers, each a name (trim, nfkc, phone...) or a one-key map ({map: {UK: GB}})",
    "units": "a map of unit word to the number it stands for ({万: 10000})",
    "uniqueness": "true, false or ignore_case",
    "rules": "a list of rules, each {rule: condition, message: label, fields: [field names]}",
    "uniquesets": "a list of field names (one set), or a list of such lists",
}


@dataclass(frozen=True)
class Key:
    """One allowed key: its value kind, whether required, and what it means."""

    name: str
    kind: str
    doc: str
    required: bool = False


CRM_KEYS: tuple[Key, ...] = (
    Key("name", "label", "The CRM's name, shown in the title bar.", required=True),
    Key("languages", "languages", "UI languages offered; the first is the default. Known: en, zh."),
    Key("currency", "text", "ISO 4217 code money fields are shown in, e.g. CNY."),
    Key("timezone", "text", "IANA time zone for dates, e.g. Asia/Shanghai."),
    Key("menu", "menu", "Menu groups in order; each lists the entities it holds."),
    Key("phone_region", "text", "ISO 3166 region of phone numbers typed without a country code "
        "(default CN); the phone normaliser reads them as numbers of that region."),
)

MENU_KEYS: tuple[Key, ...] = (
    Key("group", "identifier", "Key of the menu group.", required=True),
    Key("label", "label", "Label of the group in the menu."),
    Key("entities", "identifiers", "Entities listed under the group, in order.", required=True),
)

ENTITY_KEYS: tuple[Key, ...] = (
    Key("name", "identifier", "Stable key; table, URLs and API derive from it. Defaults to the file name."),
    Key("label", "label", "Singular label, e.g. {en: Account, zh: 客户}.", required=True),
    Key("plural", "label", "Plural label for lists and the menu; defaults to label."),
    Key("title", "identifier", "Field shown when a record is linked or headed; defaults to the first string field."),
    Key("icon", "text", "Font Awesome icon name for the menu, e.g. fa-building."),
    Key("description", "label", "One sentence on what the entity is for, shown above its list."),
    Key("fields", "fields", "The entity's fields, in form order.", required=True),
    Key("list", "listspec", "How the list screen looks: columns, search, filters, order."),
    Key("form", "sections", "Form sections; fields not named go in a last section."),
    Key("pipelines", "pipelines", "Pipelines: ordered stages a record moves through, with gates."),
    Key("convert", "conversion", "Conversion: turn a record into records of other entities in one step "
        "(a lead into account, contact and opportunity)."),
    Key("renamed_from", "identifier", "The entity's previous name: `crm apply` renames its table and keeps "
        "the rows."),
    Key("validate", "rules", "Rules every write must keep: each {rule: condition, message: label, "
        "fields: [fields to mark]}; a write that breaks one is refused (422) with the message."),
    Key("locked_if", "text", "A condition on the stored record (stage in [won, lost]): while it holds, "
        "nobody but unlock_roles (and Admin) may change or move the record."),
    Key("unlock_roles", "rolenames", "Roles that may still change a record locked by locked_if."),
    Key("unique", "uniquesets", "Fields no two records may share together, e.g. [campaign, contact]; "
        "a list of such lists for several sets. Enforced by the commands and a database constraint."),
    Key("owner", "ownerspec", "The owner system field as this entity shows it: label, help, the roles its "
        "users must have."),
)

OWNER_KEYS: tuple[Key, ...] = (
    Key("label", "label", "Label of the owner field, e.g. {en: Account manager, zh: 客户经理}."),
    Key("help", "label", "Help text of the owner field."),
    Key("roles", "rolenames", "Only active users with one of these roles may own the records (reassign, "
        "owner on create, the owner picker)."),
)

CONVERT_KEYS: tuple[Key, ...] = (
    Key("label", "label", "Name of the button, e.g. {en: Convert, zh: 转化}."),
    Key("from", "identifiers", "Stages a record must be in to be converted.", required=True),
    Key("to", "identifier", "Stage the record moves to once converted.", required=True),
    Key("targets", "targets", "Records to create, in order.", required=True),
)

TARGET_KEYS: tuple[Key, ...] = (
    Key("entity", "identifier", "Entity to create a record of.", required=True),
    Key("match", "identifier", "A field of the target: an existing record with the same value is reused."),
    Key("fields", "mapping", "Target field: source field, or $<entity> for a record made earlier.", required=True),
    Key("link", "identifier", "A link field of the converted record that keeps the created record."),
)

PIPELINE_KEYS: tuple[Key, ...] = (
    Key("name", "identifier", "Key of the pipeline, e.g. new_business.", required=True),
    Key("label", "label", "Name shown on the board tab."),
    Key("field", "identifier", "The stage field; the pipeline creates it (do not declare it).", required=True),
    Key("when", "condition", "Which records follow this pipeline: {field: value} on a choice field; "
        "omitted = records no other pipeline claims."),
    Key("stages", "stages", "The stages, in order.", required=True),
    Key("probability_field", "identifier", "A percent field set from the stage's probability on every move."),
    Key("probability_overridable", "bool", "Users may change the probability by hand within a stage."),
    Key("amount_field", "identifier", "A money field: boards sum it per stage and weight it by probability."),
    Key("card_fields", "identifiers", "Fields shown on a board card under the title."),
    Key("field_label", "label", "Label of the stage field on forms, lists, the board, history and charts, "
        "e.g. {en: Status, zh: 工单状态} (default: Stage/阶段 for stage and status, else the field name)."),
    Key("transitions", "transitions", "Rules per from→to move, e.g. {from: lost, to: prospecting, "
        "roles: [Sales Manager]}: only those roles (and Admin) may make that move."),
)

TRANSITION_KEYS: tuple[Key, ...] = (
    Key("from", "identifier", "The stage the record leaves.", required=True),
    Key("to", "identifier", "The stage the record enters; the move must be allowed by the from stage's next.",
        required=True),
    Key("roles", "rolenames", "Roles that may make this move (default: anyone who may enter the to stage)."),
)

STAGE_KEYS: tuple[Key, ...] = (
    Key("name", "identifier", "Stored value of the stage field.", required=True),
    Key("label", "label", "Shown name, e.g. {en: Proposal, zh: 方案提供}."),
    Key("color", "text", "CSS color of the column and badge."),
    Key("probability", "integer", "Chance of winning in this stage, 0-100."),
    Key("outcome", "identifier", "open (default), won or lost."),
    Key("requires", "identifiers", "Fields that must be filled to enter the stage."),
    Key("next", "identifiers", "Stages a record may move to from here (default: any)."),
    Key("roles", "rolenames", "Roles that may move a record into this stage (default: anyone who may update it)."),
)

OUTCOMES = ("open", "won", "lost")

LIST_KEYS: tuple[Key, ...] = (
    Key("columns", "paths", "Columns of the list screen and API list; link.field shows a linked value."),
    Key("search", "paths", "Fields the search box looks in (text-like fields)."),
    Key("filters", "identifiers", "Fields offered as filters on the list and the API."),
    Key("order", "order", "Default sort, e.g. -close_date."),
    Key("page_size", "integer", "Rows per page (default 25, at most 100)."),
)

SECTION_KEYS: tuple[Key, ...] = (
    Key("section", "label", "Section heading.", required=True),
    Key("fields", "identifiers", "Fields in the section, in order; `owner` may be placed (set on create by "
        "roles that may reassign, read-only otherwise).", required=True),
)

FIELD_KEYS: tuple[Key, ...] = (
    Key("type", "identifier", "One of the field types below.", required=True),
    Key("label", "label", "Label on forms and lists; defaults to the field name."),
    Key("help", "label", "Help text under the input."),
    Key("aliases", "texts", "Other headings of an import column that fills this field, besides its name and "
        "labels (电话, Tel); matched ignoring case, spaces, _ and -."),
    Key("required", "bool", "A value must be given."),
    Key("unique", "uniqueness", "No two records may share a value; ignore_case: not even in another "
        "case (e-mails). Checked after normalising."),
    Key("normalise", "normalisers", "Steps that rewrite a typed-in value into its canonical form before "
        "it is checked and stored, in order: trim, nfkc, lower, upper, collapse_spaces, phone, email, "
        "{phone: national}, {map: {from: to}}, {replace: [pattern, replacement]}."),
    Key("required_if", "text", "A condition on the record: while it holds, the field must be filled "
        "(status in [resolved, closed])."),
    Key("visible_if", "text", "A condition on the record: the field is shown (and may be set) only while "
        "it holds; the form hides it live."),
    Key("read_only_if", "text", "A condition on the stored record: while it holds, the field cannot be changed."),
    Key("units", "units", "Money only: unit words typed after a number and what they multiply by, "
        "e.g. {万: 10000}; without it such words are refused."),
    Key("default", "scalar", "Value for new records: a literal, today, now or current_user."),
    Key("min", "number", "Smallest allowed value (numbers) or date (dates)."),
    Key("max", "number", "Largest allowed value (numbers) or date (dates)."),
    Key("max_length", "integer", "Longest allowed text, in characters."),
    Key("pattern", "text", "Regular expression the whole value must match."),
    Key("pattern_message", "label", "Message shown when the pattern does not match."),
    Key("read_only", "bool", "Shown but never changed by forms or the API."),
    Key("index", "bool", "Create a database index for fast filtering and sorting."),
    Key("choices", "choices", "Allowed values of a choice or multichoice field."),
    Key("to", "identifier", "Entity a link or links field points to."),
    Key("roles", "rolenames", "User fields: only active users with one of these roles may be chosen "
        "(pickers, forms, the API, imports, reassign)."),
    Key("on_delete", "identifier", "What deleting the linked record does: restrict, set_null or cascade."),
    Key("format", "text", "Autonumber pattern, e.g. TCK-{0000}."),
    Key("scale", "integer", "Digits after the decimal point of a decimal field (1-10, default 4)."),
    Key("renamed_from", "identifier", "The field's previous name: `crm apply` renames the column and keeps the data."),
    Key("expression", "text", "Formula: an expression of the record's fields, e.g. amount * probability / 100."),
    Key("returns", "identifier", "Formula: the type of its value (money, decimal, integer, percent, string, "
        "boolean, date, datetime); default from the expression."),
    Key("stored", "bool", "Formula: keep the value in a column, recomputed on every write of the record "
        "(so it can be indexed)."),
    Key("path", "text", "Lookup: link.field of the linked record to show, e.g. account.industry."),
    Key("copy_at_create", "bool", "Lookup: copy the linked value when the record is created and keep it."),
    Key("via", "identifier", "Rollup: the link field of the child entity (`to`) that points to this entity."),
    Key("function", "identifier", "Rollup: count, sum, min, max or avg."),
    Key("of", "identifier", "Rollup: the child field summed, averaged… (not for count)."),
    Key("where", "text", "Rollup: an expression on the child's fields selecting the rows counted."),
)

RULE_KEYS: tuple[Key, ...] = (
    Key("rule", "text", "A condition that must hold, e.g. close_date <= today() or stage != won.", required=True),
    Key("message", "label", "What the user reads when it does not, e.g. {en: ..., zh: ...}.", required=True),
    Key("fields", "identifiers", "Fields the message is shown on (default: the form's top)."),
)

CHOICE_KEYS: tuple[Key, ...] = (
    Key("value", "text", "Stored value: any text up to 64 characters (线上咨询, web), kept when the label changes.",
        required=True),
    Key("label", "label", "Shown label; defaults to the value."),
    Key("color", "text", "CSS color for badges and boards, e.g. #2e7d32."),
    Key("renamed_from", "text", "The value this choice had before: `crm apply` rewrites stored rows (and multichoice "
        "lists) to the new value."),
)


ROLE_KEYS: tuple[Key, ...] = (
    Key("label", "label", "Name shown in the app, e.g. {en: Sales Rep, zh: 销售代表}; the key is the role's name."),
    Key("description", "label", "What the role is for."),
    Key("extends", "rolenames", "Roles whose rules this role starts from; its own rules override theirs."),
    Key("entities", "grants", "Per entity, what the role may do and on which records."),
    Key("fields", "fieldrules", "Per entity.field: hidden, read or write (default write where the entity is readable)."),
    Key("stages", "stagegrants", "Per entity, stages this role may move records into (besides stages open to all)."),
    Key("settings", "text", "The Settings pages (the web metadata editor): edit (see and save) or read (see only)."),
)

SETTINGS_MODES = ("edit", "read")

ACTION_KEYS: tuple[Key, ...] = (
    Key("read", "scope", "See records: in lists, record pages, search, pickers, related lists, charts."),
    Key("create", "scope", "Create records (yes or no; the creator becomes the owner)."),
    Key("update", "scope", "Change records."),
    Key("delete", "scope", "Delete records."),
    Key("export", "scope", "Export lists to CSV."),
    Key("import", "scope", "Import records from files (yes or no)."),
    Key("reassign", "scope", "Give records another owner (own: records the user owns, to anyone; team: records "
        "of the user's teams, to a teammate; all: any record). Also allows setting the owner on create."),
    Key("mass_update", "scope", "Set a field on many records at once (bulk update, from the list or the API): "
        "the records in this scope and in the update scope."),
    Key("mass_delete", "scope", "Delete many records at once from the list or the API: the records in this "
        "scope and in the delete scope."),
)

DASHBOARD_FILE_KEYS: tuple[Key, ...] = (
    Key("dashboards", "dashboards", "The dashboards, in menu order; the first one a user may see is their home page.",
        required=True),
)

DASHBOARD_KEYS: tuple[Key, ...] = (
    Key("name", "identifier", "Stable key; the dashboard's URL derives from it.", required=True),
    Key("label", "label", "Name in the menu and the page title, e.g. {en: Sales, zh: 销售}."),
    Key("description", "label", "One sentence under the title."),
    Key("roles", "rolenames", "Roles that see the dashboard (Admin sees all); omitted: every signed-in user."),
    Key("charts", "charts", "The charts, in page order.", required=True),
)

CHART_KEYS: tuple[Key, ...] = (
    Key("name", "identifier", "Key of the chart, unique in its dashboard.", required=True),
    Key("title", "label", "Heading of the chart; defaults to the name."),
    Key("kind", "identifier", "bar, stacked_bar, line, area, pie, funnel, kpi, table or pivot.", required=True),
    Key("entity", "identifier", "Entity whose records are counted or summed.", required=True),
    Key("measure", "measure", "What each bar or slice shows: count (default), sum(field), avg(field), "
        "min(field), max(field), median(field) or count_distinct(field)."),
    Key("measures", "measures", "Several measures side by side, one series each (bar, line, area): "
        "e.g. [count, sum(amount)]; instead of measure, and without series."),
    Key("group", "grouping", "What the bars or slices are: a field, link.field, or date_field:bucket "
        "(day, week, month, quarter, year)."),
    Key("series", "grouping", "A second grouping: one coloured series per value (stacked bars, pivot columns)."),
    Key("filters", "filters", "Which records count: field: value, field: [values], or field: {op: value} "
        "with ops eq, ne, in, not_in, gt, gte, lt, lte, between, empty; dates also take relative ranges."),
    Key("period", "period", "For kpi charts: the range the number covers; it is compared with the range before."),
    Key("sort", "text", "value, -value, label or -label (default: the grouping's own order)."),
    Key("top", "integer", "Keep only the N groups with the largest numbers (shown in sort order)."),
    Key("ties", "text", "How top breaks ties between equal numbers: label (default), -label, or order "
        "(the grouping's own order: declared choices, time, key)."),
    Key("width", "integer", "Width on the page in twelfths (default 6: half the page)."),
    Key("analysis", "identifier", "A built-in analysis instead of a plain aggregate: stage_funnel, win_rate, "
        "stage_time, forecast, rfm, churn_risk, lead_conversion, campaign_roi, ticket_sla."),
    Key("pipeline", "identifier", "For pipeline analyses: which pipeline of the entity (default: its first)."),
    Key("params", "params", "Options of the analysis (see Analyses)."),
)

PERIOD_KEYS: tuple[Key, ...] = (
    Key("field", "identifier", "A date or datetime field of the chart's entity.", required=True),
    Key("range", "text", "A relative date range, e.g. this_month or last_30_days.", required=True),
)

CHART_KINDS = ("bar", "stacked_bar", "line", "area", "pie", "funnel", "kpi", "table", "pivot")
MEASURES = ("count", "sum", "avg", "min", "max", "median", "count_distinct")
CHART_TIES = ("label", "-label", "order")
DATE_BUCKETS = ("day", "week", "month", "quarter", "year")
FILTER_OPS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between", "empty")
CHART_SORTS = ("value", "-value", "label", "-label")
# Relative date ranges; last_N_days and next_N_days take any N from 1 to 3660 as well.
RELATIVE_RANGES = ("today", "yesterday", "this_week", "last_week", "this_month", "last_month",
                   "this_quarter", "last_quarter", "this_year", "last_year")


@dataclass(frozen=True)
class Analysis:
    """A built-in analysis: the chart kinds it can draw and the params it takes (name -> doc)."""

    name: str
    doc: str
    kinds: tuple[str, ...]
    params: tuple[tuple[str, str], ...] = ()
    needs_pipeline: bool = False


ANALYSES: dict[str, Analysis] = {
    a.name: a
    for a in (
        Analysis("stage_funnel", "Records that reached each stage of a pipeline (from stage history), "
                 "with the stage-to-stage conversion rate.", ("funnel", "bar", "table"), needs_pipeline=True),
        Analysis("win_rate", "Won / (won + lost) among closed records, overall or per group.",
                 ("kpi", "bar", "table"), needs_pipeline=True),
        Analysis("stage_time", "Average days records spent in each stage (from stage history).",
                 ("bar", "table"), needs_pipeline=True),
        Analysis("forecast", "Open amount and amount weighted by probability, per close month.",
                 ("bar", "stacked_bar", "line", "table"),
                 (("date", "date field that buckets the forecast (default close_date)"),), needs_pipeline=True),
        Analysis("rfm", "Customers in value tiers by recency, frequency and money of their won records.",
                 ("bar", "pie", "table"),
                 (("customer", "link field of the entity naming the customer (default account)"),
                  ("date", "date field of the win (default close_date)")), needs_pipeline=True),
        Analysis("churn_risk", "Customers (the chart's entity) with no activity for N days.",
                 ("table", "kpi", "bar"),
                 (("activity", "entity of the activities (default activity)"),
                  ("days", "days without activity (default 90)"))),
        Analysis("lead_conversion", "Records and how many reached the won outcome, per group (e.g. source).",
                 ("bar", "table"), needs_pipeline=True),
        Analysis("campaign_roi", "Per campaign: cost, leads, cost per lead, won revenue and ROI.",
                 ("table", "bar"),
                 (("cost", "money field of the campaign (default actual_cost)"),
                  ("leads", "entity whose records link to the campaign (default lead)"),
                  ("deals", "pipeline entity whose won records link to the campaign (default opportunity)"))),
        Analysis("ticket_sla", "Records per week and how many missed their due time.",
                 ("stacked_bar", "bar", "table", "kpi"),
                 (("due", "datetime field of the deadline (default sla_due)"),), needs_pipeline=True),
    )
}

SCOPES = ("all", "team", "own", "no")
COMPUTED_KINDS = ("formula", "lookup", "rollup")
FORMULA_RETURNS = ("money", "decimal", "integer", "percent", "string", "text", "boolean", "date", "datetime")
ROLLUP_FUNCTIONS = ("count", "sum", "min", "max", "avg")
FIELD_MODES = ("hidden", "read", "write")
BUILTIN_ROLES = ("Admin", "Public")


# The built-in field types (one module each under app/fieldtypes/); plugins' types come
# from app.fieldtypes.field_types() once the app has loaded them.
FIELD_TYPES: dict[str, FieldType] = dict(BUILTIN_TYPES)

ON_DELETE = ("restrict", "set_null", "cascade")
# Normalisers (records/normalise.py): name -> (field types it applies to, what it does).
_TEXT_LIKE = ("string", "text", "email", "phone", "url", "choice", "multichoice")
NORMALISERS: dict[str, tuple[tuple[str, ...], str]] = {
    "trim": (_TEXT_LIKE, "drop spaces at both ends"),
    "nfkc": (_TEXT_LIKE, "Unicode NFKC: full-width digits and letters (１２３ＡＢＣ) become 123ABC"),
    "lower": (_TEXT_LIKE, "lower case"),
    "upper": (_TEXT_LIKE, "upper case"),
    "collapse_spaces": (_TEXT_LIKE, "runs of spaces become one, ends trimmed"),
    "phone": (("phone", "string"), "a phone number of phone_region (+86/0086 prefixes read): E.164 "
              "(+8613800138000), or {phone: national}: national form for home numbers, E.164 for others"),
    "email": (("email", "string"), "a valid e-mail address, domain in lower case (email-validator)"),
    "map": (_TEXT_LIKE, "{map: {UK: GB, 百度推广: paid_search}}: a listed value (any case) becomes its target"),
    "replace": (_TEXT_LIKE, "{replace: [pattern, replacement]}: a regular expression substitution"),
}
PHONE_FORMS = ("e164", "national")
LANGUAGES = {lang: language_name(lang) for lang in languages()}  # English and each catalog (app/i18n)
DEFAULT_KEYWORDS = {"today": ("date",), "now": ("datetime",), "current_user": ("user",)}

# Fields every entity has; metadata may list them in list/filters/search but not define them.
SYSTEM_FIELDS: dict[str, tuple[str, dict[str, str]]] = {
    "owner": ("user", {"en": "Owner", "zh": "负责人"}),
    "created_by": ("user", {"en": "Created by", "zh": "创建人"}),
    "created_on": ("datetime", {"en": "Created on", "zh": "创建时间"}),
    "changed_by": ("user", {"en": "Changed by", "zh": "修改人"}),
    "changed_on": ("datetime", {"en": "Changed on", "zh": "修改时间"}),
}

RESERVED_FIELD_NAMES = frozenset(
    {"id", "metadata", "registry", "query", "class", "def", "import", "from",
     "return", "lambda", "global", "none", "true", "false", "and", "or", "not", "in", "is",
     "version"}  # every record's version (optimistic locking: a stale write is a 409)
) | frozenset(SYSTEM_FIELDS)
RESERVED_ENTITY_NAMES = frozenset({"user", "role", "permission", "team", "api", "static", "login",
                                   "logout", "admin", "home", "metadata", "register"})
RESERVED_ENTITY_PREFIXES = ("ab_", "crm_", "alembic")
