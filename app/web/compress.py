"""gzip for HTML and JSON answers above a size, when the client says it accepts gzip.

A list page is 50-100 KB of HTML (FAB's markup, the filter form, the menu) that
compresses 8-10x; behind a slow link that is most of the wait. The standard library's
gzip is enough (no new dependency): level 5, only bodies already in memory (streamed
exports and static files are left alone), never twice, and `Vary: Accept-Encoding` so
a cache keeps both forms. Answers carrying an ETag are left as they are: the API's
ETag is the record version clients send back in If-Match, and one record is small.
"""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

COMPRESSED_TYPES = ("text/html", "application/json", "text/csv", "text/plain", "application/javascript",
                    "text/css")


def wants_gzip(response: Response, min_bytes: int) -> bool:
    """The cheap checks first (size, type, status): parsing Accept-Encoding comes last."""
    if min_bytes <= 0 or (response.content_length or 0) < min_bytes or response.mimetype not in COMPRESSED_TYPES:
        return False
    if response.direct_passthrough or response.is_streamed or response.status_code < 200 \
            or response.status_code in (204, 206, 304):
        return False
    if "Content-Encoding" in response.headers or "ETag" in response.headers:
        return False
    return request.accept_encodings["gzip"] > 0


def install_compression(app: Flask) -> None:
    """Compress answers of CRM_GZIP_MIN_BYTES or more (0: never)."""

    @app.after_request
    def _gzip(response: Response) -> Response:
        if response.mimetype in COMPRESSED_TYPES:
            response.vary.add("Accept-Encoding")
        if not wants_gzip(response, int(app.config.get("CRM_GZIP_MIN_BYTES", 0) or 0)):
            return response
        response.set_data(gzip.compress(response.get_data(), compresslevel=5))
        response.headers["Content-Encoding"] = "gzip"
        return response
