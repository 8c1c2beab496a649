"""Uploaded files waiting for their mapping, and the mappings users saved per entity.

An upload is kept under CRM_FILES_DIR/imports/uploads/<token>.<ext> with a JSON note
beside it (who uploaded it, for which entity, its original name and encoding), so a
worker on another host reading the same folder finds it.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa

from app.models.events import utcnow

from .files import SourceFile, open_source

UPLOADS = Path("imports") / "uploads"


@dataclass(frozen=True)
class Upload:
    token: str
    entity: str
    user_id: int | None
    file_name: str
    file: str  # relative to CRM_FILES_DIR
    kind: str
    encoding: str | None

    def source(self, root: Path) -> SourceFile:
        return SourceFile(root / self.file, self.kind, self.encoding)


def save_upload(root: Path, stream: IO[bytes], file_name: str, entity: str, user_id: int | None,
                max_bytes: int, lang: str | None = None) -> tuple[Upload, SourceFile]:
    """Store the upload (at most max_bytes + 1 read), check it, and note it; BadFile when unfit."""
    token = secrets.token_hex(16)
    suffix = Path(file_name).suffix.lower()[:8]
    folder = root / UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{token}{suffix}"
    with path.open("wb") as out:
        remaining = max_bytes + 1
        while remaining > 0 and (block := stream.read(min(1 << 20, remaining))):
            out.write(block)
            remaining -= len(block)
    try:
        source = open_source(path, file_name, max_bytes, lang)
    except Exception:
        path.unlink(missing_ok=True)
        raise
    upload = Upload(token, entity, user_id, file_name, str(path.relative_to(root)), source.kind, source.encoding)
    (folder / f"{token}.json").write_text(json.dumps(asdict(upload), ensure_ascii=False), encoding="utf-8")
    return upload, source


def find_upload(root: Path, token: str, user_id: int | None) -> Upload | None:
    """The upload `token` names, when this user made it."""
    if not token.isalnum() or len(token) > 64:
        return None
    note = root / UPLOADS / f"{token}.json"
    if not note.is_file():
        return None
    upload = Upload(**json.loads(note.read_text(encoding="utf-8")))
    return upload if upload.user_id == user_id else None


def saved_mapping(session: Any, table: sa.Table, entity: str, user_id: int | None) -> dict[str, str]:
    if user_id is None:
        return {}
    text = session.scalar(sa.select(table.c.mapping).where(table.c.entity == entity, table.c.user_id == user_id))
    return json.loads(text) if text else {}


def save_mapping(session: Any, table: sa.Table, entity: str, user_id: int | None, mapping: dict[str, str]) -> None:
    """Remember this user's mapping for the entity (merged over the last one: other files' columns stay)."""
    if user_id is None:
        return
    merged = {**saved_mapping(session, table, entity, user_id), **mapping}
    values = {"mapping": json.dumps(merged, ensure_ascii=False), "changed_on": utcnow()}
    done = session.execute(sa.update(table).where(table.c.entity == entity, table.c.user_id == user_id)
                           .values(**values)).rowcount
    if not done:
        session.execute(sa.insert(table).values(entity=entity, user_id=user_id, **values))
    session.commit()
