"""Chinese text sorts in pinyin order for a reader of zh (app/i18n/collation.py): the HTML list,
the API's order_column, link pickers, a list sorted by a link's title, report groups and chart
groups; English readers keep the database's order (code points here). PostgreSQL sorts with
ICU (`COLLATE "zh-x-icu"`); SQLite with the same collation name registered as a comparison of
GB18030 bytes (pinyin for GB2312's common characters, which every name here is made of).

Starter metadata, real database (SQLite or CRM_TEST_DATABASE_URL).
"""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from app.i18n.collation import CollationSettingError, chinese_key, parse_collations
from tests.conftest import STARTER, count_queries, login

PINYIN = ["阿里巴巴", "百度", "腾讯", "字节跳动"]  # a li, bai du, teng xun, zi jie
CODE_POINTS = sorted(PINYIN)  # 字 U+5B57 < 百 U+767E < 腾 U+817E < 阿 U+963F
MADE = ["腾讯", "字节跳动", "阿里巴巴", "百度"]  # neither order, so a list in ids' order shows neither
VIEW = "OpportunityView"


@pytest.fixture
def world(make_app: Any) -> Any:
    app = make_app()
    admin = login(app.test_client())
    accounts = {}
    for name in MADE:
        made = admin.post("/api/v1/account/", json={"name": name})
        assert made.status_code == 201, made.json
        accounts[name] = made.json["id"]
        deal = admin.post("/api/v1/opportunity/", json={"name": f"{name}项目", "account": accounts[name],
                                                          "amount": 100})
        assert deal.status_code == 201, deal.json
    zh = login(app.test_client())
    zh.post("/lang/zh")
    return app, admin, zh


def api_names(client: Any, entity: str, column: str, direction: str = "asc") -> list[str]:
    answer = client.get(f"/api/v1/{entity}/?q=(order_column:{column},order_direction:{direction},page_size:100)")
    assert answer.status_code == 200, answer.json
    return [row["name"] for row in answer.json["result"]]


def html_names(client: Any, column: str, names: list[str], direction: str = "asc") -> list[str]:
    answer = client.get(f"/crm/opportunity/list/?_oc_{VIEW}={column}&_od_{VIEW}={direction}&psize_{VIEW}=100")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    return sorted((n for n in names if f">{n}<" in html), key=lambda n: html.index(f">{n}<"))


def test_the_test_names_differ_in_pinyin_and_code_point_order() -> None:
    assert CODE_POINTS != PINYIN and MADE not in (PINYIN, CODE_POINTS)
    assert sorted(PINYIN, key=chinese_key) == PINYIN
    assert sorted(["Banana", "apple", "阿里", "42"], key=chinese_key) == ["42", "apple", "Banana", "阿里"]


DEALS, DEALS_BY_CODE_POINT = [f"{n}项目" for n in PINYIN], [f"{n}项目" for n in CODE_POINTS]


@pytest.mark.parametrize("read", ["core", "orm"])
def test_a_zh_reader_sorts_text_in_pinyin_order_on_the_api_and_the_list(world: Any, read: str) -> None:
    app, admin, zh = world
    app.config["CRM_API_LIST_READ"] = app.config["CRM_LIST_READ"] = read
    deals = DEALS
    assert [n for n in api_names(zh, "account", "name") if n in PINYIN] == PINYIN
    assert [n for n in api_names(zh, "account", "name", "desc") if n in PINYIN] == PINYIN[::-1]
    assert [n for n in api_names(zh, "opportunity", "name") if n in deals] == deals
    assert html_names(zh, "name", deals) == deals
    assert html_names(zh, "name", deals, "desc") == deals[::-1]
    # English readers keep the database's order: code points on both test databases
    assert [n for n in api_names(admin, "account", "name") if n in PINYIN] == CODE_POINTS
    assert html_names(admin, "name", deals) == DEALS_BY_CODE_POINT


@pytest.mark.parametrize("read", ["core", "orm"])
def test_a_link_column_sorts_by_its_title_in_pinyin_order(world: Any, read: str) -> None:
    app, admin, zh = world
    app.config["CRM_API_LIST_READ"] = app.config["CRM_LIST_READ"] = read
    assert [n for n in api_names(zh, "opportunity", "account") if n in DEALS] == DEALS
    assert [n for n in api_names(zh, "opportunity", "account", "desc") if n in DEALS] == DEALS[::-1]
    assert html_names(zh, "account", DEALS) == DEALS
    assert html_names(zh, "account", DEALS, "desc") == DEALS[::-1]
    assert html_names(admin, "account", DEALS) == DEALS_BY_CODE_POINT


def test_the_link_picker_lists_titles_in_pinyin_order(world: Any) -> None:
    _, admin, zh = world
    picked = [r["text"] for r in zh.get("/api/v1/account/picker?q=").json["results"]]
    assert [t for t in picked if t in PINYIN] == PINYIN
    picked = [r["text"] for r in admin.get("/api/v1/account/picker?q=").json["results"]]
    assert [t for t in picked if t in PINYIN] == CODE_POINTS


def test_report_groups_follow_the_readers_order(world: Any) -> None:
    _, admin, zh = world
    for client, want in ((zh, PINYIN), (admin, CODE_POINTS)):
        for group in ("account", "account.name"):
            answer = client.post("/api/v1/reports/data?limit=100",
                                 json={"entity": "opportunity", "group": group, "measure": "count"})
            assert answer.status_code == 200, answer.get_json()
            labels = [row[0] for row in answer.get_json()["rows"]]
            assert [t for t in labels if t in PINYIN] == want, (group, labels)


def test_no_collation_keeps_code_points_for_zh_too(make_app: Any) -> None:
    app = make_app(CRM_TEXT_COLLATION="")
    admin = login(app.test_client())
    for name in MADE:
        assert admin.post("/api/v1/account/", json={"name": name}).status_code == 201
    admin.post("/lang/zh")
    assert [n for n in api_names(admin, "account", "name") if n in PINYIN] == CODE_POINTS


def test_a_malformed_setting_is_refused_naming_it(make_app: Any) -> None:
    with pytest.raises(CollationSettingError, match="CRM_TEXT_COLLATION: 'zh'"):
        parse_collations("zh")
    with pytest.raises(CollationSettingError, match="CRM_TEXT_COLLATION"):
        make_app(CRM_TEXT_COLLATION='zh=x"; drop')
    assert parse_collations(" zh=zh-x-icu, ja=ja-x-icu ") == {"zh": "zh-x-icu", "ja": "ja-x-icu"}


CHART = """    charts:
      - name: deals_by_account
        title: {en: Deals by account, zh: 各客户商机}
        kind: bar
        entity: opportunity
        group: account
        sort: label
"""


def test_chart_groups_sorted_by_label_follow_the_readers_order(make_app: Any, tmp_path: Any) -> None:
    meta = shutil.copytree(STARTER, tmp_path / "meta")
    text = (meta / "dashboards.yaml").read_text(encoding="utf-8")
    (meta / "dashboards.yaml").write_text(text.replace("    charts:\n", CHART, 1), encoding="utf-8")
    app = make_app(meta, CRM_CHART_CACHE_SECONDS=0)
    admin = login(app.test_client())
    for name in MADE:
        account = admin.post("/api/v1/account/", json={"name": name}).json["id"]
        assert admin.post("/api/v1/opportunity/", json={"name": f"{name}项目", "account": account}).status_code == 201
    zh = login(app.test_client())
    zh.post("/lang/zh")
    for client, want in ((zh, PINYIN), (admin, CODE_POINTS)):
        answer = client.get("/crm/dashboards/sales/deals_by_account.json")
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
        labels = [p["label"] for p in answer.get_json()["points"]]
        assert [t for t in labels if t in PINYIN] == want, labels


def test_an_indexed_text_field_has_a_collated_index_on_postgresql_only(world: Any) -> None:
    """account.name has `index: true`: PostgreSQL gets (name COLLATE "zh-x-icu") beside the plain
    index, so a zh reader's sort is an index scan too; SQLite gets none (tools lack the collation)."""
    app, _, zh = world
    with count_queries(app) as statements:
        assert api_names(zh, "account", "name")
    assert any('ORDER BY account.name COLLATE "zh-x-icu"' in s for s in statements), statements
    with app.app_context():
        engine = app.extensions["crm"].db.engine
        with engine.connect() as conn:
            if engine.dialect.name != "postgresql":
                assert not conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index' "
                                                "AND name LIKE '%sort_zh'").all()
                return
            indexes = dict(conn.exec_driver_sql("SELECT indexname, indexdef FROM pg_indexes "
                                                "WHERE tablename = 'account'").all())
            assert 'name COLLATE "zh-x-icu"' in indexes["ix_account_name__sort_zh"]
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = "\n".join(r[0] for r in conn.exec_driver_sql(
                'EXPLAIN SELECT id FROM account ORDER BY name COLLATE "zh-x-icu", id LIMIT 26'))
            assert "ix_account_name__sort_zh" in plan, plan


def test_a_collation_postgresql_lacks_stops_start_up_naming_it(make_app: Any, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        app = make_app(CRM_TEXT_COLLATION="zh=our-own")  # SQLite: the name is ours to register
        zh = login(app.test_client())
        for name in MADE:
            assert zh.post("/api/v1/account/", json={"name": name}).status_code == 201
        zh.post("/lang/zh")
        assert [n for n in api_names(zh, "account", "name") if n in PINYIN] == PINYIN
        return
    with pytest.raises(CollationSettingError, match="PostgreSQL has no collation no-such-x-icu"):
        make_app(CRM_TEXT_COLLATION="zh=no-such-x-icu")


def test_a_link_whose_title_is_a_number_sorts_without_a_collation(make_app: Any, tmp_path: Any) -> None:
    """Accounts titled by `employees` (an integer): a zh reader's sort by account is numeric, and
    PostgreSQL is not asked to collate a number (an error there: a 500)."""
    meta = shutil.copytree(STARTER, tmp_path / "meta")
    text = (meta / "entities" / "account.yaml").read_text(encoding="utf-8")
    (meta / "entities" / "account.yaml").write_text(text.replace("title: name\n", "title: employees\n", 1),
                                                    encoding="utf-8")
    app = make_app(meta)
    zh = login(app.test_client())
    for name, employees in (("腾讯", 300), ("百度", 20), ("阿里巴巴", 1000)):
        account = zh.post("/api/v1/account/", json={"name": name, "employees": employees}).json["id"]
        assert zh.post("/api/v1/opportunity/", json={"name": f"{name}项目", "account": account}).status_code == 201
    zh.post("/lang/zh")
    assert api_names(zh, "opportunity", "account") == ["百度项目", "腾讯项目", "阿里巴巴项目"]
    assert html_names(zh, "account", ["百度项目", "腾讯项目", "阿里巴巴项目"], "desc") == ["阿里巴巴项目", "腾讯项目", "百度项目"]


# first and last names shown as "first last"; the logins' order (u1..u4) is neither order of the names
PEOPLE = {"u1": ("张", "伟"), "u2": ("王", "芳"), "u3": ("李", "娜"), "u4": ("安", "琪")}
PEOPLE_PINYIN = ["安 琪", "李 娜", "王 芳", "张 伟"]  # an, li, wang, zhang
PEOPLE_CODE_POINTS = sorted(PEOPLE_PINYIN)  # 安 U+5B89 < 张 U+5F20 < 李 U+674E < 王 U+738B


def test_the_user_picker_lists_people_by_their_shown_name_in_the_readers_order(make_app: Any) -> None:
    """The user picker (user fields and owner on forms, filters, reassignment) orders by the name
    it shows, in pinyin for a zh reader, not by login; a field's `roles` still limit it."""
    app = make_app()
    with app.app_context():
        sm = app.extensions["crm"].appbuilder.sm
        for login_name, (first, last) in PEOPLE.items():
            role = "Pre-sales Engineer" if login_name != "u2" else "Viewer"
            assert sm.add_user(login_name, first, last, f"{login_name}@example.cn", sm.find_role(role),
                               password="pw-1234567")
    assert PEOPLE_CODE_POINTS != PEOPLE_PINYIN
    admin = login(app.test_client())
    zh = login(app.test_client())
    zh.post("/lang/zh")
    for client, want in ((zh, PEOPLE_PINYIN), (admin, PEOPLE_CODE_POINTS)):
        picked = [r["text"] for r in client.get("/api/v1/user/picker?q=").json["results"]]
        assert [t for t in picked if t in PEOPLE_PINYIN] == want, picked
    engineers = zh.get("/api/v1/user/picker?field=opportunity.sales_engineer").json["results"]
    assert [r["text"] for r in engineers] == ["安 琪", "李 娜", "张 伟"]  # roles: [Pre-sales Engineer]
    found = [r["text"] for r in zh.get("/api/v1/user/picker?q=u").json["results"]]  # u1..u4 by login
    assert [t for t in found if t in PEOPLE_PINYIN] == PEOPLE_PINYIN
