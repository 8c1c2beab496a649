"""Words of the Settings pages, in English and Chinese."""

from __future__ import annotations

from app.metadata.spec import Text


def _t(en: str, zh: str) -> Text:
    return Text((("en", en), ("zh", zh)))


UI: dict[str, Text] = {
    "settings": _t("Settings", "设置"), "editor": _t("Metadata editor", "元数据编辑器"),
    "history": _t("Version history", "版本历史"), "entities": _t("Entities", "实体"),
    "roles": _t("Roles", "角色"), "files": _t("Files (YAML)", "文件（YAML）"),
    "version": _t("Version in force", "当前版本"), "readonly": _t(
        "Read-only: you may look at every setting but not save.", "只读：可以查看全部设置，但不能保存。"),
    "entity": _t("Entity", "实体"), "label": _t("Label", "名称"), "plural": _t("Plural", "复数名称"),
    "icon": _t("Icon", "图标"), "title": _t("Title field", "标题字段"), "menu": _t("Menu group", "菜单分组"),
    "fields": _t("Fields", "字段"), "field": _t("Field", "字段"), "type": _t("Type", "类型"),
    "required": _t("Required", "必填"), "default": _t("Default", "默认值"), "help": _t("Help", "帮助"),
    "required_if": _t("Required if", "必填条件"), "visible_if": _t("Visible if", "显示条件"),
    "read_only_if": _t("Read-only if", "只读条件"), "choices": _t("Choices", "选项"),
    "value": _t("Value", "值"), "color": _t("Colour", "颜色"), "order": _t("Order", "顺序"),
    "new_choice": _t("New choice", "新选项"), "edit": _t("Edit", "编辑"),
    "add_field": _t("Add a field", "添加字段"), "name": _t("Name (key)", "名称（键）"),
    "link_to": _t("Links to (link fields)", "关联到（关联字段）"),
    "choices_help": _t("One per line: value | English | 中文 | #colour", "每行一个：值 | English | 中文 | #颜色"),
    "list": _t("List", "列表"), "columns": _t("Columns", "列"), "filters": _t("Filters", "筛选"),
    "search": _t("Search in", "搜索字段"), "list_order": _t("Sort order", "排序"),
    "names_help": _t("Field names, separated by commas", "字段名，用逗号分隔"),
    "form": _t("Form sections", "表单分组"),
    "form_help": _t("One section per line: English | 中文: field, field", "每行一个分组：English | 中文: 字段, 字段"),
    "pipelines": _t("Pipelines", "销售流程"), "stage": _t("Stage", "阶段"), "probability": _t("Probability", "赢单率"),
    "requires": _t("Requires", "需填写"), "stage_roles": _t("Roles", "角色"), "next": _t("Next stages", "后续阶段"),
    "final": _t("Final", "终止阶段"), "add_stage": _t("Add a stage", "添加阶段"), "after": _t("After", "位于其后"),
    "transitions": _t("Transitions", "阶段转换"),
    "transitions_help": _t("One per line: from -> to: Role, Role", "每行一个：from -> to: 角色, 角色"),
    "scopes": _t("Records per action", "各操作的记录范围"),
    "scope_help": _t("all, team, own, no, yes, own(field), via(link); empty: no",
                     "all、team、own、no、yes、own(字段)、via(关联)；留空即 no"),
    "field_rules": _t("Field rules", "字段权限"),
    "field_rules_help": _t("One per line: entity.field: hidden | read | write", "每行一个：实体.字段: hidden | read | write"),
    "settings_perm": _t("Settings pages", "设置页面"), "none": _t("none", "无"),
    "add_role": _t("Add a role", "添加角色"), "role": _t("Role", "角色"),
    "plan_button": _t("Review the changes", "查看变更"), "plan": _t("Plan", "变更计划"),
    "changes": _t("What changes in the database", "数据库中的变更"), "rows": _t("rows", "行"),
    "no_changes": _t("No database change: labels, lists, forms and rules only.",
                     "数据库无变更：仅名称、列表、表单和规则。"),
    "diff": _t("Changes to the files", "文件变更"), "nothing": _t("Nothing changed.", "没有任何修改。"),
    "refused": _t("Refused: these steps would lose data", "已拒绝：以下步骤会丢失数据"),
    "confirm": _t("I understand the data above will be lost; apply anyway.", "我了解以上数据将会丢失，仍然应用。"),
    "message": _t("Message (what and why)", "说明（改了什么，为什么）"), "save": _t("Save as a new version", "保存为新版本"),
    "back": _t("Back", "返回"), "saved": _t("Saved as version", "已保存为版本"),
    "problems": _t("The checker found problems; nothing was applied.", "检查发现问题，未做任何应用。"),
    "conflict": _t("Someone saved a newer version meanwhile; nothing was applied. Their changes:",
                   "在此期间已有人保存了更新的版本，未做任何应用。对方的修改："),
    "reload": _t("Open the current version and edit again", "打开当前版本重新编辑"),
    "write_back": _t("Files not written back", "文件未写回"),
    "when": _t("When", "时间"), "who": _t("Who", "作者"), "source": _t("Source", "来源"),
    "rollback": _t("Roll back to this version", "回滚到此版本"), "rolled_back": _t("Rolled back: new version",
                                                                               "已回滚：新版本"),
    "rollback_plan": _t("Roll back to version", "回滚到版本"), "in_force": _t("in force", "当前"),
    "no_versions": _t("No versions recorded yet.", "尚无版本记录。"),
    "file_help": _t("The whole file; the checker reads it before anything is applied.",
                    "整个文件；应用前会先经过检查。"),
    "edit_error": _t("This edit does not fit the files", "此修改与文件不符"),
}


def words(lang: str) -> dict[str, str]:
    return {k: v.get(lang) for k, v in UI.items()}
