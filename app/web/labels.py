"""Labels that follow the UI language of the current request.

FAB reads label_columns, titles and menu names once, at start-up; a lazy
string evaluated at render time lets one built app speak en and zh.
"""

from __future__ import annotations

from flask import has_request_context
from flask_babel import LazyString, get_locale

from app.metadata.spec import Text


def current_lang() -> str:
    if not has_request_context():
        return "en"
    locale = get_locale()
    return locale.language if locale is not None else "en"


def lazy(text: Text) -> LazyString:
    return LazyString(lambda: text.get(current_lang()))


def lazy_format(template: Text, **parts: Text) -> LazyString:
    """A lazy label built from other labels, e.g. 'Add {entity}'."""
    def render() -> str:
        lang = current_lang()
        return template.get(lang).format(**{k: v.get(lang) for k, v in parts.items()})
    return LazyString(render)


UI = {
    "list": Text((("en", "{entity}"), ("zh", "{entity}"))),
    "add": Text((("en", "Add {entity}"), ("zh", "新建{entity}"))),
    "edit": Text((("en", "Edit {entity}"), ("zh", "编辑{entity}"))),
    "show": Text((("en", "{entity}"), ("zh", "{entity}详情"))),
    "search": Text((("en", "Search"), ("zh", "搜索"))),
    "saved": Text((("en", "Saved."), ("zh", "已保存。"))),
    "deleted": Text((("en", "Deleted."), ("zh", "已删除。"))),
    "fix_errors": Text((("en", "Please correct the highlighted fields."), ("zh", "请修正标出的字段。"))),
}
