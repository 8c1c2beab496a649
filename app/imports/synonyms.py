"""Column headings people use for the same CRM field, in Chinese and English.

A file from another system heads its phone column 电话 where our field is labelled 手机
(mobile), or `Tel` where it is `Phone`. The mapping (`mapping.auto_mapping`) tries, in order:
the field's name, its labels in every language and its own `aliases:` (metadata), then the
stage words, then these groups: a column matches a field when the column and one of the
field's names, labels or aliases are in the same group, and no other field of the entity is
in that group (a contact with both `mobile` and `phone` gets neither from 电话; the user maps
it). Words are compared as `mapping._norm` leaves them (no spaces, `_`, `-`, colons or case).

Keep the groups small and unambiguous: a word here must mean one kind of field in any CRM.
Anything specific to one deployment belongs in that field's `aliases:` instead.
"""

from __future__ import annotations

SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("手机", "手机号", "手机号码", "电话", "电话号码", "联系电话", "联系方式", "移动电话", "座机",
     "mobile", "mobile phone", "cell", "cellphone", "phone", "phone number", "tel", "telephone"),
    ("邮箱", "电子邮箱", "电子邮件", "邮件", "邮件地址", "email", "e-mail", "mail", "email address"),
    ("公司", "公司名称", "企业", "企业名称", "单位名称", "客户名称", "company", "company name",
     "organization", "organisation", "account", "account name"),
    ("职位", "职务", "头衔", "岗位", "title", "job title", "position"),
    ("微信", "微信号", "wechat", "weixin", "wechat id"),
    ("网站", "网址", "官网", "主页", "website", "web site", "url", "homepage"),
    ("地址", "联系地址", "通讯地址", "address"),
    ("来源", "线索来源", "客户来源", "source", "lead source"),
    ("负责人", "所有人", "归属人", "跟进人", "owner", "assigned to", "account owner"),
    ("备注", "说明", "描述", "notes", "note", "remarks", "description", "comments"),
    ("金额", "总金额", "合同金额", "商机金额", "amount", "deal amount"),
)
