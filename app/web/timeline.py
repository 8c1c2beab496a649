"""The record page's history: field changes (from the outbox) merged with stage moves,
newest first, one entry per change. Fields hidden from the user stay hidden."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from app.events.read import field_history
from app.metadata.spec import EntitySpec


def record_timeline(session: Any, models: Any, entity: EntitySpec, pk: int, access: Any, lang: str | None,
                    stage_moves: list[dict[str, Any]], stage_labels: dict[str, str]) -> list[dict[str, Any]]:
    stage_fields = {p.field for p in entity.pipelines}
    entries: list[dict[str, Any]] = []
    for move in stage_moves:
        days = move["seconds_in_from"]
        entries.append({"on": move["moved_on"], "by": move["moved_by"], "kind": "stage", "items": [{
            "label": entity.field(entity.pipelines[0].field).label.get(lang) if entity.pipelines else "",
            "old": stage_labels.get(move["from"], move["from"] or "—"), "new": stage_labels.get(move["to"], move["to"]),
            "note": "" if days is None else f"{days // 86400}d {(days % 86400) // 3600}h"}]})
    changes = [c for c in field_history(session, models, entity, pk, access, lang) if c["field"] not in stage_fields]
    for _, rows in groupby(changes, key=lambda c: c["event"]):
        items = list(rows)
        entries.append({"on": items[0]["on"], "by": items[0]["by"], "kind": items[0]["kind"], "items": [
            {"label": c["label"], "old": c["old_text"], "new": c["new_text"], "note": ""} for c in items]})
    entries.sort(key=lambda e: e["on"], reverse=True)
    return entries
