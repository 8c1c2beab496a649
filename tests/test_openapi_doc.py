"""The OpenAPI document: built once per metadata version, and saying what the API answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_appbuilder.api import BaseApi

from app.web.openapi import CachedOpenApi


def test_document_is_built_once_then_served_from_the_cache(app: Any, client: Any, monkeypatch: Any) -> None:
    built: list[str] = []
    original = BaseApi.add_api_spec

    def counting(self: BaseApi, api_spec: Any) -> None:
        built.append(type(self).__name__)
        original(self, api_spec)

    monkeypatch.setattr(BaseApi, "add_api_spec", counting)
    first = client.get("/api/v1/_openapi")
    assert first.status_code == 200 and built
    calls = len(built)
    second = client.get("/api/v1/_openapi")
    assert second.get_json() == first.get_json()
    assert len(built) == calls  # not rebuilt
    view = next(v for v in app.appbuilder.baseviews if isinstance(v, CachedOpenApi))
    assert list(view._documents) == [(app.extensions["crm"].spec.digest, "v1")]
    assert client.get("/api/v9/_openapi").status_code == 404


def test_document_matches_the_answers(client: Any) -> None:
    doc = client.get("/api/v1/_openapi").get_json()
    message = doc["components"]["responses"]["422"]["content"]["application/json"]["schema"]["properties"]["message"]
    assert {"type": "string"} in message["anyOf"]
    post = doc["paths"]["/api/v1/lead/"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert post["properties"]["id"] == {"type": "integer"}
    assert post["properties"]["result"] == {"$ref": "#/components/schemas/LeadApi.get"}
    lead = doc["components"]["schemas"]["LeadApi.get"]["properties"]
    assert lead["created_on"]["format"] == "date-time"
    info = doc["paths"]["/api/v1/lead/_info"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert info["properties"]["add_columns"]["type"] == "array"
    amount = doc["components"]["schemas"]["OpportunityApi.get"]["properties"]["amount"]
    assert amount["type"] == "string"


def test_datetimes_carry_their_offset(client: Any) -> None:
    created = client.post("/api/v1/lead/", json={"name": "王五"}).get_json()
    moment = created["result"]["created_on"]
    assert moment.endswith("+00:00"), moment
    assert dt.datetime.fromisoformat(moment).tzinfo is not None
    assert client.get(f"/api/v1/lead/{created['id']}").get_json()["result"]["created_on"] == moment


def test_swagger_page_still_served(client: Any) -> None:
    assert client.get("/swagger/v1").status_code == 200


def test_anonymous_cannot_read_the_document(app: Any) -> None:
    assert app.test_client().get("/api/v1/_openapi").status_code == 401
