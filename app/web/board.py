"""The kanban board of an entity's pipeline: a column per stage, cards paged per column.

`BoardViewMixin` (on RecordModelView) renders the board page, with the column
headers (count, amount sum, weighted sum) from ONE grouped query. Cards come
page by page per column from `BoardApiMixin.board` (on RecordApi), so a board
of 100k records costs a grouped query plus a page of cards per column. Both
apply the same rules: the user's read scope, the quick search `q`, and the
pipeline's `when` (the records this pipeline owns). Moves go through the
existing POST /api/v1/<entity>/<pk>/move (MoveStage command).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import abort, request
from flask_appbuilder import expose as view_expose
from flask_appbuilder import has_access
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import permission_name, protect
from sqlalchemy.orm import selectinload

from app.fieldtypes import field_type
from app.i18n import _t
from app.metadata.spec import EntitySpec, FieldSpec, PipelineSpec
from app.records.messages import msg
from app.records.rules import labelled
from app.records.stages import allowed_targets
from app.security.access import Access, current_access
from app.security.scoped import Records

from .display import formatter_for, view_url
from .labels import current_lang, label_value

PAGE_SIZE = 20
MAX_PAGE = 10_000

BOARD_UI = {
    "board": _t("Board"),
    "list": _t("List"),
    "analytics": _t("Analytics"),
    "search": _t("Search"),
    "clear": _t("Clear"),
    "more": _t("More"),
    "loading": _t("Loading…"),
    "empty": _t("No records"),
    "records": _t("records"),
    "total": _t("Total"),
    "weighted": _t("Weighted"),
    "probability": _t("Probability"),
    "moved": _t("Moved to {stage}."),
    "failed": _t("The move failed ({status})."),
    "network": _t("The server could not be reached."),
    "elsewhere": _t("{count} record(s) of this pipeline are in a stage it does not list."),
    "drag_hint": _t("Drag a card to another column to move it."),
}


def ui_texts(lang: str) -> dict[str, str]:
    # "colon": the language's label separator (": " / "："), for the cards' tooltips
    return {**{key: text.get(lang) for key, text in BOARD_UI.items()}, "colon": label_value("", "", lang)}


# -- which records a board shows ----------------------------------------------

def find_pipeline(entity: EntitySpec, name: str, access: Access | None = None) -> PipelineSpec | None:
    """The pipeline called `name`; None when there is none, or its stage field is hidden from the user."""
    pipeline = next((p for p in entity.pipelines if p.name == name), None)
    if pipeline is not None and access is not None and pipeline.field in access.hidden_fields(entity):
        return None
    return pipeline


def _claims(model: Any, pipeline: PipelineSpec) -> Any:
    name, value = pipeline.when  # type: ignore[misc]
    return getattr(model, name) == value


def _not_claimed(model: Any, pipeline: PipelineSpec) -> Any:
    name, value = pipeline.when  # type: ignore[misc]
    column = getattr(model, name)
    return sa.or_(column.is_(None), column != value)


def pipeline_clause(entity: EntitySpec, pipeline: PipelineSpec, model: Any) -> Any:
    """The records `pipeline` owns, as EntitySpec.pipeline_for decides it, in SQL.

    Among the pipelines on the same stage field: a `when` pipeline owns records
    its `when` matches and no earlier `when` pipeline claims; the default one
    owns the records no `when` pipeline claims.
    """
    rivals = [p for p in entity.pipelines if p.field == pipeline.field and p.when is not None]
    if pipeline.when is None:
        clauses = [_not_claimed(model, p) for p in rivals]
        return sa.and_(sa.true(), *clauses) if clauses else None
    earlier = rivals[:rivals.index(pipeline)]
    return sa.and_(_claims(model, pipeline), *[_not_claimed(model, p) for p in earlier])


def apply_board_rules(view: Any, stmt: Any, pipeline: PipelineSpec, query: str, access: Access) -> Any:
    """`stmt` limited to the user's read scope, the pipeline's records and the quick search."""
    entity, models = view.entity, view.crm_models
    model = models.model(entity.name)
    stmt = Records(access, models, entity.name).where(stmt, model=model)
    owned = pipeline_clause(entity, pipeline, model)
    if owned is not None:
        stmt = stmt.where(owned)
    if query:
        # The entity's own quick search (an OR of ilike over list.search, hidden paths skipped);
        # the filter only calls .filter() on what it is given, which a Select has too.
        stmt = view.quick_search(entity.title_field, view.datamodel).apply(stmt, query)
    return stmt


# -- column headers --------------------------------------------------------------

def _number_format(f: FieldSpec | None, spec: Any) -> Any:
    fmt = formatter_for(f, spec) if f is not None else None
    if fmt is not None:
        return fmt
    return lambda v: "" if v is None else f"{v:,}"


def _scale(f: FieldSpec | None) -> int:
    if f is None or f.type == "integer":
        return 0
    return 2 if f.type == "money" else f.scale


def amount_visible(entity: EntitySpec, pipeline: PipelineSpec, access: Access) -> bool:
    return bool(pipeline.amount_field) and pipeline.amount_field not in access.hidden_fields(entity)


def board_columns(view: Any, pipeline: PipelineSpec, query: str, access: Access, session: Any) -> dict[str, Any]:
    """Count, amount sum and weighted sum per stage: ONE grouped query."""
    entity, spec = view.entity, view.crm_models.spec
    model = view.crm_models.model(entity.name)
    stage_column = getattr(model, pipeline.field)
    with_amount = amount_visible(entity, pipeline, access)
    selected = [stage_column, sa.func.count(model.id)]
    if with_amount:
        selected.append(sa.func.sum(getattr(model, entity.field(pipeline.amount_field).column_name)))
    stmt = apply_board_rules(view, sa.select(*selected), pipeline, query, access).group_by(stage_column)
    rows = {row[0]: row for row in session.execute(stmt)}
    amount_spec = entity.field(pipeline.amount_field) if with_amount else None
    fmt = _number_format(amount_spec, spec)
    exact = Decimal(1).scaleb(-_scale(amount_spec))
    lang = current_lang()
    columns, total_count, total_amount, total_weighted = [], 0, Decimal(0), Decimal(0)
    for stage in pipeline.stages:
        row = rows.get(stage.name)
        count = int(row[1]) if row is not None else 0
        column: dict[str, Any] = {
            "stage": stage.name, "label": stage.label.get(lang), "color": stage.color or "#9e9e9e",
            "probability": stage.probability, "outcome": stage.outcome, "count": count,
            # the drop targets this user may use from here: next, transition roles and stage roles
            "next": [s.name for s in allowed_targets(access, spec, entity, pipeline, stage.name)],
        }
        total_count += count
        if with_amount:
            amount = Decimal(row[2] or 0) if row is not None else Decimal(0)
            weighted = amount * Decimal(stage.probability if stage.probability is not None else 100) / 100
            total_amount += amount
            total_weighted += weighted
            amount, weighted = amount.quantize(exact), weighted.quantize(exact)
            column.update(amount=str(amount), amount_text=fmt(amount), weighted=str(weighted),
                          weighted_text=fmt(weighted))
        columns.append(column)
    names = {s.name for s in pipeline.stages}
    elsewhere = sum(int(row[1]) for key, row in rows.items() if key not in names)
    result: dict[str, Any] = {"columns": columns, "count": total_count, "elsewhere": elsewhere,
                              "with_amount": with_amount}
    if with_amount:
        total_amount, total_weighted = total_amount.quantize(exact), total_weighted.quantize(exact)
        result.update(amount=str(total_amount), amount_text=fmt(total_amount), weighted=str(total_weighted),
                      weighted_text=fmt(total_weighted))
    return result


# -- cards ---------------------------------------------------------------------------

def card_fields(entity: EntitySpec, pipeline: PipelineSpec, access: Access) -> list[FieldSpec]:
    hidden = access.hidden_fields(entity)
    return [entity.field(n) for n in pipeline.card_fields if n in entity.field_map and n not in hidden]


def card_text(f: FieldSpec, value: Any, spec: Any, lang: str) -> str:
    """A field value as plain text on a card (the page inserts it as text, never HTML)."""
    if value is None or value == "" or value == []:
        return ""
    return field_type(f.type).card_text(f, value, spec, lang)


def board_cards(view: Any, pipeline: PipelineSpec, stage: str, query: str, access: Access, session: Any,
                offset: int, limit: int = PAGE_SIZE) -> dict[str, Any]:
    """One page of a column's cards, newest change first."""
    entity, models = view.entity, view.crm_models
    model = models.model(entity.name)
    shown = card_fields(entity, pipeline, access)
    eager = [selectinload(getattr(model, f.name)) for f in shown if f.type in ("link", "user", "links")]
    stmt = apply_board_rules(view, sa.select(model).where(getattr(model, pipeline.field) == stage),
                             pipeline, query, access)
    stmt = stmt.order_by(model.changed_on.desc(), model.id.desc()).offset(offset).limit(limit + 1).options(*eager)
    items = list(session.scalars(stmt))
    lang, spec = current_lang(), models.spec
    title_hidden = entity.title_field in access.hidden_fields(entity)
    cards = []
    for item in items[:limit]:
        cards.append({
            "id": item.id,
            "title": f"#{item.id}" if title_hidden else str(item),
            "url": view_url(entity.name, item.id),
            "fields": [[f.label.get(lang), card_text(f, getattr(item, f.name), spec, lang)] for f in shown],
            "changed_on": item.changed_on.isoformat() if item.changed_on is not None else None,
            "version": item.version,  # sent back with the move: a card moved from a stale copy is a 409
        })
    return {"cards": cards, "more": len(items) > limit}


def _int_arg(name: str, default: int) -> int | None:
    raw = request.args.get(name, "")
    if raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if 0 <= value <= MAX_PAGE * PAGE_SIZE else None


# -- the screen and the API ------------------------------------------------------

class BoardViewMixin:
    """GET /crm/<entity>/board/<pipeline>: the board page (mixed into RecordModelView)."""

    @view_expose("/board/<pipeline>")
    @has_access
    def board(self, pipeline: str) -> Any:
        entity: EntitySpec = self.entity  # type: ignore[attr-defined]
        access = current_access()
        chosen = find_pipeline(entity, pipeline, access)
        if chosen is None:
            abort(404)
        query = request.args.get("q", "").strip()
        lang = current_lang()
        session = self.datamodel.session  # type: ignore[attr-defined]
        summary = board_columns(self, chosen, query, access, session)
        config = {
            "entity": entity.name, "pipeline": chosen.name, "q": query, "page_size": PAGE_SIZE,
            "api": f"{self._api_prefix()}/{entity.name}",
            "columns": summary["columns"], "ui": ui_texts(lang),
            "can_move": access.scope(entity.name, "update") != "no",
        }
        tabs = [{"name": p.name, "label": p.label.get(lang), "active": p.name == chosen.name}
                for p in entity.pipelines if find_pipeline(entity, p.name, access) is not None]
        return self.render_template(  # type: ignore[attr-defined]
            "crm/board.html", title=f"{entity.plural.get(lang)} · {chosen.label.get(lang)}",
            board=summary, board_config=config, board_tabs=tabs, board_pipeline=chosen,
            board_ui=ui_texts(lang), board_query=query, board_can_move=config["can_move"])

    def _api_prefix(self) -> str:
        from flask import current_app
        return str(current_app.config.get("CRM_API_PREFIX", "/api/v1"))


class BoardApiMixin:
    """GET /api/v1/<entity>/board/<pipeline>: column headers, or a page of one column's cards."""

    @expose("/board/<pipeline>", methods=["GET"])
    @protect()
    @safe
    @permission_name("board")
    def board(self, pipeline: str) -> Any:
        """A pipeline board: column headers, or one page of a column's cards.
        ---
        get:
          description: >-
            Without `stage`: every column's count, amount sum and weighted sum. With `stage`:
            one page (20) of that column's cards, newest change first. Both limited to the
            user's read scope, the quick search `q` and the records of this pipeline.
          parameters:
          - {in: path, name: pipeline, schema: {type: string}}
          - {in: query, name: stage, schema: {type: string}}
          - {in: query, name: page, schema: {type: integer}}
          - {in: query, name: offset, schema: {type: integer}, description: "cards to skip (overrides page)"}
          - {in: query, name: q, schema: {type: string}}
          responses:
            200: {description: "{columns: [...]} or {cards: [{id, title, fields, changed_on, version}], more}"}
            400: {description: Unknown stage or bad page}
            404: {description: No such pipeline}
        """
        entity: EntitySpec = self.entity  # type: ignore[attr-defined]
        access = current_access()
        chosen = find_pipeline(entity, pipeline, access)
        if chosen is None:
            return self.response_404()  # type: ignore[attr-defined]
        query = request.args.get("q", "").strip()
        session = self.datamodel.session  # type: ignore[attr-defined]
        stage = request.args.get("stage")
        if stage is None:
            return self.response(200, **board_columns(self, chosen, query, access, session))  # type: ignore[attr-defined]
        if chosen.stage(stage) is None:
            names = ", ".join(labelled(s.name, s.label, current_lang()) for s in chosen.stages)
            return self.response_400(message={"stage": [msg("choice", current_lang(), v=stage, choices=names)]})  # type: ignore[attr-defined]
        page, offset = _int_arg("page", 0), _int_arg("offset", 0)
        if page is None or offset is None or page > MAX_PAGE:
            return self.response_400(message="page and offset must be whole numbers ≥ 0")  # type: ignore[attr-defined]
        start = offset if request.args.get("offset", "").strip() else page * PAGE_SIZE
        return self.response(200, **board_cards(self, chosen, stage, query, access, session, start))  # type: ignore[attr-defined]
