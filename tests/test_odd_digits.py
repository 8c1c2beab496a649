"""Numbers typed with characters Python's str.isdigit() takes but int() does not ('²', '①'), or
too long for the database's integer: a 4xx or an ignored value, never a 500. Each place checked
`text.isdigit()` and then called `int(text)`; found by fuzzing the screens' forms and arguments."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import login

ODD = ["²", "①", "9" * 20]


@pytest.fixture
def client(make_app: Any) -> Any:
    return login(make_app().test_client())


@pytest.mark.parametrize("odd", ODD)
def test_odd_numbers_in_arguments_and_forms_are_never_a_500(client: Any, odd: str) -> None:
    answers = {
        "search limit": client.get(f"/api/v1/search?q=a&limit={odd}"),
        "access record": client.get(f"/crm/access/?user=admin&entity=opportunity&id={odd}"),
        "report save": client.post("/crm/reports/save", data={"report_id": odd, "name": "报表", "entity": "opportunity"}),
        "report link filter": client.get(f"/crm/reports/?entity=opportunity&columns=name&f0=account&op0=eq&v0={odd}"),
        "list view filter": client.post("/api/v1/listviews/opportunity/", json={
            "name": "视图", "columns": ["name"], "query": f"_flt_{odd}_name=x"}),
    }
    failed = {name: answer.status_code for name, answer in answers.items() if answer.status_code >= 500}
    assert not failed, failed
    assert answers["search limit"].status_code == 400


def test_an_odd_stage_probability_in_the_editor_is_the_checkers_problem_not_a_500(make_app: Any) -> None:
    client = login(make_app().test_client())
    with client.application.app_context():
        from app.metaversions import store

        base = store.current(client.application.extensions["crm"].db.engine).id
    answer = client.post("/crm/settings/save", data={
        "op": "stage", "base_id": str(base), "entity": "opportunity", "pipeline": "new_business",
        "stage": "proposal", "label_en": "Proposal", "label_zh": "方案提供", "probability": "²"})
    assert answer.status_code in (200, 422), answer.status_code
