"""Static files (ours and FAB's) under URLs that carry their content hash, cached for a year.

Templates keep calling `url_for('crm_static.static', filename=...)`; a url_defaults hook adds
`?v=<hash of the file>`. A request whose `v` matches the file as it is now gets
`Cache-Control: public, max-age=31536000, immutable`; a new release changes the hash, hence the
URL, so browsers never keep a stale script. Without `v` (or with an old one) the answer stays
revalidated as before."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flask import Flask, Response, request

from app.web.assets import ONE_YEAR

_hashes: dict[tuple[str, float, int], str] = {}


def file_hash(folder: str, filename: str) -> str | None:
    path = Path(folder) / filename
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path), stat.st_mtime, stat.st_size)
    if key not in _hashes:
        _hashes[key] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return _hashes[key]


def install_static_cache(app: Flask) -> None:
    def static_folder(endpoint: str) -> str | None:
        if not endpoint.endswith(".static"):
            return None
        blueprint = app.blueprints.get(endpoint.rsplit(".", 1)[0])
        return blueprint.static_folder if blueprint is not None else None

    @app.url_defaults
    def add_version(endpoint: str, values: dict[str, Any]) -> None:
        folder = static_folder(endpoint)
        if folder and "filename" in values and "v" not in values:
            digest = file_hash(folder, values["filename"])
            if digest:
                values["v"] = digest

    @app.after_request
    def long_cache(response: Response) -> Response:
        folder = static_folder(request.endpoint or "")
        filename = (request.view_args or {}).get("filename")
        if folder and filename and response.status_code == 200 and \
                request.args.get("v") == file_hash(folder, filename):
            response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
        return response
