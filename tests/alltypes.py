"""A metadata tree with every field type, used by the round-trip tests."""

from pathlib import Path
from typing import Any

from tests.conftest import write_tree

MAKER = """
label: {en: Maker, zh: 制造商}
fields:
  name: {type: string, required: true, unique: true}
list: {columns: [name], search: [name]}
"""

GADGET = """
label: {en: Gadget, zh: 小工具}
title: name
fields:
  name: {type: string, required: true, max_length: 40, label: {en: Name, zh: 名称}}
  notes: {type: text}
  qty: {type: integer, min: 0, max: 1000}
  weight: {type: decimal, scale: 3}
  price: {type: money, min: 0}
  discount: {type: percent}
  active: {type: boolean, default: true}
  launched: {type: date}
  updated_at: {type: datetime}
  email: {type: email}
  phone: {type: phone}
  site: {type: url}
  color: {type: choice, choices: [red, green, {value: blue, label: {en: Blue, zh: 蓝色}}]}
  tags: {type: multichoice, choices: [new, hot, sale]}
  maker: {type: link, to: maker, on_delete: restrict}
  makers: {type: links, to: maker}
  buyer: {type: user}
  serial: {type: autonumber, format: "GAD-{0000}"}
  sku: {type: string, pattern: "^[A-Z]{3}-[0-9]+$", pattern_message: {en: "SKU like ABC-123", zh: "货号格式如 ABC-123"}}
list:
  columns: [serial, name, maker, maker.name, price, color, owner]
  search: [name, maker.name, sku]
  filters: [color, qty, price, launched, maker, active, owner]
  order: -launched
"""


def alltypes_tree(root: Path) -> Path:
    return write_tree(root, {"maker": MAKER, "gadget": GADGET})


def add_gadgets(admin: Any, maker_name: str = "华为", names: tuple[str, ...] = ("测试小工具 Alpha", "Beta", "空值"),
                **first: Any) -> None:
    """A maker and three gadgets through the API: the first with a value of every type (and
    `first`), the second with its links only, the third with nothing but its name (NULLs)."""
    maker = admin.post("/api/v1/maker/", json={"name": maker_name}).json["id"]
    for i, name in enumerate(names):
        payload = {"name": name, "maker": maker, "makers": [maker]} if i < 2 else {"name": name}
        if i == 0:
            payload.update(qty=12, weight="1.250", price="1999.90", discount="12.5", active=False,
                           launched="2025-03-01", updated_at="2025-03-01T09:30:00", color="blue",
                           tags=["hot", "new"], email="li.lei@example.cn", **first)
        made = admin.post("/api/v1/gadget/", json=payload)
        assert made.status_code == 201, made.json
