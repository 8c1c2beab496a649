"""The bare query's *request*: a minimal Flask app serving a list page with the bench's bare SQL.

Issue 18's targets compare a list request with "the bare query's request". Read literally
that is the SQL alone (bench_pages.py's "Bare SQL" column); read as a request, it is the
same HTTP request served by the least an app can do: run the hand-written SQL (the capped
count, the page of 25 with its links joined) on a pooled connection and render the same rows
(a plain Jinja table with a link per row, or `json.dumps`). No login, no session, no
permissions, no layout: fixed request costs (WSGI, routing, the response) on both sides,
nothing else. Timed through Flask's test client like the app.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, request
from jinja2 import Environment

from app.web.counting import DEFAULT_CAP

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{{ title }}</title></head><body>
<h1>{{ title }}</h1><p>Record count: {{ count }}{% if count > cap %}+{% endif %}</p>
<table class="table"><thead><tr><th></th>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr></thead><tbody>
{% for row in rows %}<tr><td><a href="/crm/opportunity/show/{{ row[0] }}">#{{ row[0] }}</a></td>
{% for value in row[1:] %}<td>{{ '' if value is none else value }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
{% if more %}<a href="?page={{ page + 1 }}" rel="next">&gt;</a>{% endif %}</body></html>"""


def bare_app(engine: sa.Engine, page_sql: str, filtered_sql: str, where: str) -> Flask:
    """Routes /list?page=N (HTML, every row) and /json (the filtered list, JSON)."""
    app = Flask("bare")
    template = Environment(autoescape=True).from_string(PAGE)

    def run(sql: str, page: int, rule: str) -> tuple[int, list[Any], list[str]]:
        count_sql = f"SELECT count(*) FROM (SELECT id FROM opportunity{rule} LIMIT {DEFAULT_CAP + 1}) c"
        with engine.connect() as conn:
            count = conn.exec_driver_sql(count_sql).scalar() or 0
            result = conn.exec_driver_sql(sql.format(limit=26, offset=page * 25))
            return count, result.fetchall(), list(result.keys())

    @app.get("/list")
    def html_list() -> Any:
        page = request.args.get("page", 0, type=int)
        count, rows, columns = run(page_sql, page, "")
        return template.render(title="Opportunities", count=count, cap=DEFAULT_CAP, rows=rows[:25],
                               columns=columns[1:], more=len(rows) > 25, page=page)

    @app.get("/json")
    def json_list() -> Any:
        count, rows, columns = run(filtered_sql, 0, f" WHERE {where}")
        body = {"count": min(count, DEFAULT_CAP), "count_exact": count <= DEFAULT_CAP,
                "ids": [r[0] for r in rows[:25]],
                "result": [dict(zip(columns, r, strict=True)) for r in rows[:25]]}
        return Response(json.dumps(body, default=str, ensure_ascii=False), mimetype="application/json")

    return app
