"""Realistic demo values for the starter CRM, in Chinese and English.

`value_for(entity, field, index, rng, today)` gives one field's value for record
`index` of `entity`. Fields of one record agree (a contact's e-mail is made from
its name, a won deal closed in the past) because they come from a plan seeded by
entity and index; other values come from `rng`. Unknown entities and fields get
generic values by type. Values respect choices, min/max, max_length and pattern;
unique fields never repeat. Link, links, user and autonumber fields get None.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
import string
import zlib
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

try:
    from re import _parser as sre  # type: ignore[attr-defined]  # Python 3.11+
except ImportError:  # pragma: no cover
    import sre_parse as sre  # type: ignore[no-redef]

from app.fieldtypes import field_type
from app.metadata.spec import EntitySpec, FieldSpec

from . import vocab as V

DECIMALS = ("decimal", "money", "percent")
ZH_SLOTS = {0: 0, 1: 1, 3: 2}  # of every 5 records these are Chinese (60 %), the rest English
EN_SLOTS = {2: 0, 4: 1}
_Rec = SimpleNamespace  # one record being planned: zh, index, rng, today, who, org, city, say()
PHONE_STEP = 61_803_399  # coprime to 10: index -> phone tail is a bijection, phones never repeat


def value_for(entity: EntitySpec, field: FieldSpec, index: int, rng: random.Random,
              today: dt.date) -> Any:
    """A valid demo value for `field` of record `index` of `entity` (None: the caller fills it)."""
    if field_type(field.type).filled_by_loader:
        return None
    plan = _plan(entity.name, index, today)
    if field.name in plan and (not field.unique or field.name in plan["_unique"]):
        value = _conform(field, plan[field.name])
        if value is not None:
            return value
    return _generic(entity, field, index, rng, today, plan)


# --- the per-record plan ---------------------------------------------------------------------

@lru_cache(maxsize=2048)
def _plan(entity: str, index: int, today: dt.date) -> dict[str, Any]:
    rng = random.Random(zlib.crc32(f"{entity}/{index}".encode()))
    salt = zlib.crc32(entity.encode())
    zh = index % 5 in ZH_SLOTS
    k = (index // 5) * (3 if zh else 2) + (ZH_SLOTS if zh else EN_SLOTS)[index % 5]
    who, org = _person(zh, k, salt), _company(zh, k, salt)
    r = _Rec(zh=zh, index=index, rng=rng, today=today, who=who, org=org,
             city=org["city"] or rng.choice(V.CITIES), say=lambda pair: pair[0 if zh else 1])
    tail = (index * PHONE_STEP + salt) % 10**8
    age = rng.randint(1, 730)
    plan: dict[str, Any] = {
        "_who": who, "_org": org, "_zh": zh, "_unique": {"mobile", "phone"},
        "mobile": f"1{rng.choice('3456789')}{rng.randint(0, 9)}{tail:08d}",
        "phone": f"{r.city[4]}-{rng.randint(2, 8)}{tail % 10**7:07d}",
        "email": f"{who['local']}@{rng.choice((org['domain'],) * 3 + (V.ZH_MAIL if zh else V.EN_MAIL))}",
        "wechat": (f"wxid_{who['handle']}{rng.randint(10, 999)}" if zh
                   else f"{who['handle']}{rng.randint(10, 99)}"),
        "website": f"https://www.{org['domain']}", "address": _address(r), "company": org["name"],
        "region": r.city[3], "industry": org["industry"],
        "created_on": _at(today - dt.timedelta(days=age), rng),
    }
    plan["changed_on"] = _changed(plan["created_on"], age, rng)
    if entity in PLANS:
        extra = PLANS[entity](r)
        plan["_unique"] = plan["_unique"] | extra.pop("_unique", set())
        plan.update(extra)
    return plan


def _account(r: Any) -> dict:
    rng = r.rng
    tier = _w(rng, "account.tier")
    lo, hi = V.TIER_EMPLOYEES[tier]
    employees = int(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    tags = rng.sample(("vip", "listed", "state_owned", "reference", "at_risk"), rng.choice((0, 1, 1, 2)))
    return {"_unique": {"name"}, "name": r.org["name"], "tier": tier, "employees": employees,
            "lifecycle_stage": _w(rng, "account.lifecycle_stage"),
            "tags": tags + ([] if r.zh else ["foreign"]),
            "annual_revenue": Decimal(round(employees * rng.uniform(0.3, 1.5) * 100) * 10_000),
            "notes": r.say(rng.choice(V.ACCOUNT_NOTES)),
            "email": f"{rng.choice(('info', 'contact', 'sales', 'service'))}@{r.org['domain']}"}


def _contact(r: Any) -> dict:
    rng = r.rng
    zh_title, en_title, role = rng.choice(V.JOB_TITLES)
    mail = r.org["domain"] if rng.random() < 0.7 else rng.choice(V.ZH_MAIL if r.zh else V.EN_MAIL)
    return {"name": r.who["name"], "title": r.say((zh_title, en_title)), "deal_role": role,
            "email": f"{r.who['local']}@{mail}", "is_primary": rng.random() < 0.3,
            "birthday": dt.date(rng.randint(1962, 2000), rng.randint(1, 12), rng.randint(1, 28))}


def _lead(r: Any) -> dict:
    rng = r.rng
    status = _w(rng, "lead.status")
    return {"name": r.who["name"], "status": status, "score": rng.randint(*V.LEAD_SCORES[status]),
            "source": _w(rng, "lead.source"),
            "disqualify_reason": r.say(rng.choice(V.DISQUALIFY_REASONS)),
            "in_pool": False, "claimed_on": None}  # the pool (公海) fills by its rule, not by chance


def _opportunity(r: Any) -> dict:
    rng = r.rng
    stage = _w(rng, "opportunity.stage")
    product = rng.choice(V.PRODUCTS)
    days = -rng.randint(1, 700) if stage in ("won", "lost") else rng.randint(-15, 120)
    amount = round(math.exp(rng.uniform(math.log(10_000), math.log(2_000_000))) / 100) * 100
    return {"name": f"{r.org['short']}{product[1]}采购项目" if r.zh else f"{r.org['short']} - {product[2]}",
            "stage": stage, "amount": Decimal(min(max(amount, 10_000), 2_000_000)),
            "probability": Decimal(V.STAGE_PROBABILITY[stage]),
            "close_date": r.today + dt.timedelta(days=days),
            "source": _w(rng, "opportunity.source"),
            "next_step": r.say(rng.choice(V.NEXT_STEPS)), "lost_reason": r.say(rng.choice(V.LOST_REASONS))}


def _activity(r: Any) -> dict:
    rng = r.rng
    kind = _w(rng, "activity.kind")
    subject = r.say(rng.choice(V.ACTIVITY_SUBJECTS[kind]))
    subject = subject.format(company=r.org["short"], person=r.who["name"])
    due = _at(r.today + dt.timedelta(days=rng.randint(-700, 60)), rng)
    return {"kind": kind, "type": kind, "subject": subject, "due": due,
            "done": due.date() < r.today and rng.random() < 0.9,
            "priority": _w(rng, "activity.priority"),
            "description": r.say(rng.choice(V.ACTIVITY_DESCRIPTIONS))}


def _ticket(r: Any) -> dict:
    rng = r.rng
    zh_subject, zh_text, en_subject, en_text = rng.choice(V.TICKET_ISSUES)
    priority = _w(rng, "ticket.priority")
    age = rng.randint(1, 10) if rng.random() < 0.25 else rng.randint(11, 700)
    opened = _at(r.today - dt.timedelta(days=age), rng)
    status = _w(rng, "ticket.open" if age <= 10 else "ticket.old")
    return {"subject": r.say((zh_subject, en_subject)), "description": r.say((zh_text, en_text)),
            "priority": priority, "status": status, "escalated": False,
            "sla_due": opened + dt.timedelta(hours=V.SLA_HOURS[priority]),
            "channel": _w(rng, "ticket.channel"), "resolution": r.say(rng.choice(V.RESOLUTIONS)),
            "created_on": opened, "changed_on": _changed(opened, age, rng)}


def _campaign(r: Any) -> dict:
    rng = r.rng
    (event,), rounds = _combo(r.index, V.CAMPAIGN_EVENTS, seed=7)
    start = r.today + dt.timedelta(days=rng.randint(-700, 90))
    end = start + dt.timedelta(days=rng.choice((1, 2, 3, 14, 30, 60, 90)))
    status = "planned" if start > r.today else "active" if end >= r.today else "completed"
    if status != "active" and rng.random() < 0.05:
        status = "cancelled"
    budget = rng.randint(2, 100) * 10_000
    spent = {"planned": 0.0, "cancelled": 0.0, "active": rng.uniform(0.2, 0.7)}.get(
        status, rng.uniform(0.7, 1.15))
    name = f"{start.year} {r.say(event)}" + (f" {rounds + 1}" if rounds else "")
    return {"_unique": {"name"}, "name": name,
            "channel": event[2], "status": status, "start_date": start, "end_date": end,
            "budget": Decimal(budget), "actual_cost": Decimal(round(budget * spent, -2)),
            "expected_revenue": Decimal(round(budget * rng.uniform(2, 8), -3)),
            "description": r.say(rng.choice(V.CAMPAIGN_DESCRIPTIONS))}


def _product(r: Any) -> dict:
    code, zh_name, en_name, category, price = V.PRODUCTS[r.index % len(V.PRODUCTS)]
    version = r.index // len(V.PRODUCTS)  # past the catalogue: CRM-PRO-V2 ...
    return {"_unique": {"code", "name"}, "category": category,
            "code": f"{code}-V{version + 1}" if version else code,
            "name": r.say((zh_name, en_name)) + (f" V{version + 1}" if version else ""),
            "price": Decimal(round(price * (1 + 0.1 * version))), "active": r.rng.random() < 0.85,
            "description": r.say(V.PRODUCT_BLURBS[category])}


PLANS = {"account": _account, "contact": _contact, "lead": _lead, "opportunity": _opportunity,
         "activity": _activity, "ticket": _ticket, "campaign": _campaign, "product": _product}


# --- people, companies, places ---------------------------------------------------------------

@lru_cache(maxsize=64)
def _perm(total: int, seed: int) -> list[int]:
    return random.Random(seed).sample(range(total), total)


def _combo(n: int, *lists: tuple, seed: int = 0) -> tuple[list, int]:
    """The n-th combination of one item of each list, in scrambled order; and the round past them all."""
    total = math.prod(len(items) for items in lists)
    i, picks = _perm(total, seed)[n % total], []
    for items in lists:
        i, j = divmod(i, len(items))
        picks.append(items[j])
    return picks, n // total


def _person(zh: bool, k: int, salt: int) -> dict:
    if zh:
        ((sur, sur_py), (given, given_py)), _ = _combo(k, V.CN_SURNAMES, V.CN_GIVEN, seed=salt)
        return {"name": sur + given, "local": f"{sur_py}.{given_py}", "handle": sur_py + given_py}
    (first, last), _ = _combo(k, V.EN_FIRST, V.EN_LAST, seed=salt)
    return {"name": f"{first} {last}", "local": f"{first}.{last}".lower(), "handle": (first + last).lower()}


def _company(zh: bool, k: int, salt: int) -> dict:
    """Company k of a language; names never repeat (a number is added past the word lists)."""
    if zh:
        ((brand, brand_py), (trade, trade_dom, industry), city), rounds = _combo(
            k, V.CN_BRANDS, V.CN_TRADES, (None,) + V.CITIES, seed=salt)
        name, short = (city[0] if city else "") + brand + trade, brand + trade[:2]
        domain = f"{brand_py}{trade_dom}.com.cn"
    else:
        (brand, (trade, industry), area), rounds = _combo(k, V.EN_BRANDS, V.EN_TRADES, V.EN_AREAS, seed=salt)
        form = V.EN_FORMS[zlib.crc32(f"{brand}{trade}".encode()) % len(V.EN_FORMS)]
        name, short, city = f"{brand} {trade}{area} {form}", brand, None
        domain = f"{brand}{trade.split()[0]}.com".lower()
    if rounds:
        name, domain = f"{name} {rounds + 1}", f"{rounds + 1}{domain}"
    return {"name": name, "short": short, "domain": domain, "industry": industry, "city": city}


def _address(r: Any) -> str:
    _, city_en, full, _, _, districts = r.city
    number = r.rng.randint(1, 999)
    if r.zh:
        return f"{full}{r.rng.choice(districts)}{r.rng.choice(V.CN_ROADS)}{number}号"
    room = f"{r.rng.randint(2, 30)}0{r.rng.randint(1, 9)}"
    return f"Room {room}, {number} {r.rng.choice(V.EN_ROADS)}, {city_en}, China"


def _changed(created: dt.datetime, age: int, rng: random.Random) -> dt.datetime:
    """A last change after `created` (made `age` days before today) and before today."""
    return created + dt.timedelta(days=rng.randint(0, max(age - 1, 0)), minutes=rng.randint(5, 240))


def _w(rng: random.Random, key: str) -> str:
    weights = V.WEIGHTS[key]
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    """A naive datetime on `day`, in office hours."""
    return dt.datetime.combine(day, dt.time(rng.randint(8, 19), rng.choice((0, 15, 30, 45))))


# --- fitting values to the field ---------------------------------------------------------------

def _conform(field: FieldSpec, value: Any) -> Any:
    """A planned value shaped for `field` (quantized, filtered), or None if it does not fit."""
    t, lo, hi = field.type, *_bounds(field)
    if t == "multichoice":
        kept = [v for v in _values(field) if isinstance(value, list) and v in value]
        return kept if kept or not field.required else None
    if t in DECIMALS and isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        value = Decimal(value).quantize(Decimal(1).scaleb(-field.scale), ROUND_HALF_UP)
    kind = field_type(t).python_type
    if type(value) is not kind or (t == "choice" and value not in _values(field)) or (
            kind is str and not _text_ok(field, str(value))):
        return None
    return value if (lo is None or value >= lo) and (hi is None or value <= hi) else None


def _values(field: FieldSpec) -> list[str]:
    return [c.value for c in field.choices]


def _bounds(field: FieldSpec) -> tuple[Any, Any]:
    """min and max comparable with the field's values (Decimal for numbers, date for dates)."""
    def conv(x: Any) -> Any:
        if x is None or field.type not in DECIMALS + ("integer",):
            return x.date() if isinstance(x, dt.datetime) and field.type == "date" else x
        return Decimal(str(x))
    return (conv(field.min), conv(field.max)) if field.type != "datetime" else (None, None)


def _text_ok(field: FieldSpec, value: str) -> bool:
    if not value or (field.max_length and len(value) > field.max_length):
        return False
    if field.pattern and not re.fullmatch(field.pattern, value):
        return False
    return bool({"email": lambda: re.fullmatch(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", value),
                 "url": lambda: value.startswith(("http://", "https://")),
                 "phone": lambda: re.fullmatch(r"[0-9 +\-()]+", value)}.get(field.type, lambda: True)())


# --- generic values by type ------------------------------------------------------------------

def _generic(entity: EntitySpec, field: FieldSpec, index: int, rng: random.Random,
             today: dt.date, plan: dict) -> Any:
    """A value by type: the field type makes it (app/fieldtypes/), with the helpers below."""
    return field_type(field.type).demo_value(entity, field, index, rng, today, plan)


def generic_number(field: FieldSpec, index: int, rng: random.Random, step: Decimal) -> Decimal:
    """A number within the field's min/max, counting up for unique fields (integer, decimal, money, percent)."""
    return _number(field, index, rng, step)


def generic_date(field: FieldSpec, rng: random.Random, today: dt.date) -> dt.date:
    return _date(field, rng, today)


def generic_time(day: dt.date, rng: random.Random) -> dt.datetime:
    return _at(day, rng)


def generic_text(entity: EntitySpec, field: FieldSpec, index: int, rng: random.Random, plan: dict) -> str:
    """Text that fits the field (e-mail, phone, url, max_length, pattern; unique when asked)."""
    return _text(entity, field, index, rng, plan)


def _number(field: FieldSpec, index: int, rng: random.Random, step: Decimal) -> Decimal:
    lo, hi = _bounds(field)
    lo = None if lo is None else lo.quantize(step, ROUND_CEILING)
    hi = None if hi is None else hi.quantize(step, ROUND_FLOOR)
    if field.unique:  # count up from the minimum: never repeats
        start = lo if lo is not None else Decimal(1)
        if hi is None or start + index <= hi:
            return (start + index).quantize(step)
    hint = next((r for key, r in V.NUMBER_HINTS.items() if key in field.name), None)
    a, b = (Decimal(x) for x in hint or ((0, 100_000) if field.type == "money" else (0, 1000)))
    if lo is not None and hi is not None:
        a, b = (max(a, lo), min(b, hi)) if max(a, lo) <= min(b, hi) else (lo, hi)
    elif lo is not None:
        a, b = max(a, lo), max(b, lo + 1000)
    elif hi is not None:
        a, b = (a if a <= hi else Decimal(0) if hi > 0 else hi - 1000), min(b, hi)
    if field.type == "integer":
        return Decimal(rng.randint(int(a), int(b)))
    value = Decimal(str(rng.uniform(float(a), float(b))))
    if field.type == "money" and b - a >= 1000:
        value = value.quantize(Decimal(100), ROUND_HALF_UP)  # round amounts look real
    return min(max(value.quantize(step, ROUND_HALF_UP), a), b)


def _date(field: FieldSpec, rng: random.Random, today: dt.date) -> dt.date:
    """Two years back; a few months ahead for due/close/end dates; respects a date field's min/max."""
    lo, hi = today - dt.timedelta(days=730), today
    if field.name in V.FUTURE_DATES or field.name.endswith(("_due", "_deadline")):
        hi = today + dt.timedelta(days=120)
    if "birth" in field.name:
        lo, hi = dt.date(1960, 1, 1), dt.date(2002, 12, 31)
    fmin, fmax = _bounds(field) if field.type == "date" else (None, None)
    if fmin is not None and hi < fmin:  # our window is outside min/max: use theirs
        lo, hi = fmin, fmin + dt.timedelta(days=730)
    if fmax is not None and lo > fmax:
        lo, hi = fmax - dt.timedelta(days=730), fmax
    lo, hi = max(lo, fmin or lo), min(hi, fmax or hi)
    return lo + dt.timedelta(days=rng.randint(0, max((hi - lo).days, 0)))


def _text(entity: EntitySpec, field: FieldSpec, index: int, rng: random.Random, plan: dict) -> str:
    who, org, n = plan["_who"], plan["_org"], str(index + 1)
    if field.type == "email":
        value = f"{who['local']}{n if field.unique else ''}@{org['domain']}"
    elif field.type == "phone":
        value = plan["mobile"]
    elif field.type == "url":
        value = f"https://www.{org['domain']}" + (f"/{n}" if field.unique else "")
    elif field.type == "text":
        value = rng.choice(V.GENERIC_SENTENCES)[0 if plan["_zh"] else 1]
    elif field.name in ("name", "title", "subject"):
        value = f"{entity.label.get('en')} {n}"
    else:
        value = f"{field.name} {n}"  # e.g. "foo 17": unique when the field is
    return _shape(field, value, n, rng)


def _shape(field: FieldSpec, value: str, n: str, rng: random.Random) -> str:
    """Fit `value` to max_length and pattern, keeping its number; else generate from the pattern."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", value).strip("-")
    for candidate in (value, value.upper(), slug, slug.upper(), slug.lower(), f"{field.name}{n}", n,
                      f"A{n}", f"a{n}"):
        candidate = _fit(field, candidate, n)
        if _text_ok(field, candidate):
            return candidate
    for attempt in range(200):  # unique: a fixed shape with the number in its digit slots
        candidate = _from_pattern(field.pattern or ".+", random.Random(attempt) if field.unique and
                                  attempt < 20 else rng, n if field.unique else "")
        if _text_ok(field, candidate[:field.max_length or None]):
            return candidate[:field.max_length or None]
    return _fit(field, value, n)  # a pattern this generator cannot satisfy


def _fit(field: FieldSpec, value: str, n: str) -> str:
    limit = field.max_length
    if not limit or len(value) <= limit:
        return value
    if field.type in ("email", "url", "phone") and len(n) <= limit:
        return {"email": f"u{n}@x.cn", "url": f"http://x.cn/{n}", "phone": n.zfill(limit)}[field.type]
    if not value.endswith(n):
        return value[:limit]
    if len(n) <= limit:
        return value[:limit - len(n)] + n
    return "".join(chr(97 + int(n) // 26**i % 26) for i in reversed(range(limit)))  # n in letters


@lru_cache(maxsize=64)
def _parse(pattern: str) -> Any:
    try:
        return sre.parse(pattern)
    except Exception:  # noqa: BLE001 - an exotic pattern: generate nothing, the caller falls back
        return []


def _from_pattern(pattern: str, rng: random.Random, number: str) -> str:
    """A string matching `pattern`; `number`, zero-padded, fills the slots that take any digit."""
    out = _emit(_parse(pattern), rng)
    chars, slots = [c for c, _ in out], [i for i, (_, digit) in enumerate(out) if digit]
    if number and len(slots) >= len(number):
        for i, digit in zip(slots, number.zfill(len(slots)), strict=True):
            chars[i] = digit
    return "".join(chars)


def _emit(items: Any, rng: random.Random) -> list[tuple[str, bool]]:
    """Characters matching a parsed regex, each with whether any digit could stand there."""
    out: list[tuple[str, bool]] = []
    for op, arg in items:
        op = str(op)
        if op == "LITERAL":
            out.append((chr(arg), False))
        elif op in ("NOT_LITERAL", "ANY"):
            out.append(("x" if arg != ord("x") else "y", False))
        elif op == "IN":
            chars = [c for sub, a in arg for c in _class_chars(str(sub), a)]
            if any(str(sub) == "NEGATE" for sub, _ in arg):
                chars = [c for c in string.ascii_letters + string.digits if c not in chars] or ["~"]
            out.append((rng.choice(chars or ["a"]), set(string.digits) <= set(chars)))
        elif op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, sub = arg
            hi = lo + 3 if hi == sre.MAXREPEAT else min(hi, lo + 8)
            for _ in range(rng.randint(lo, hi)):
                out.extend(_emit(sub, rng))
        elif op in ("SUBPATTERN", "ATOMIC_GROUP"):
            out.extend(_emit(arg[-1] if op == "SUBPATTERN" else arg, rng))
        elif op == "BRANCH":
            out.extend(_emit(rng.choice(arg[1]), rng))
    return out


def _class_chars(op: str, arg: Any) -> list[str]:
    if op == "LITERAL":
        return [chr(arg)]
    if op == "RANGE":
        return [chr(c) for c in range(arg[0], min(arg[1], arg[0] + 200) + 1)]
    return list(V.REGEX_CATEGORIES.get(str(arg), "a")) if op == "CATEGORY" else []
