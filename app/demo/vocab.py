"""Word lists for demo data, Chinese and English.

Pure data: `values.py` combines these into names, companies, subjects and
amounts. Chinese entries carry a pinyin spelling so e-mails, websites and
WeChat ids can be derived from them.
"""

from __future__ import annotations

# (hanzi, pinyin)
CN_SURNAMES = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"),
    ("高", "gao"), ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"),
    ("唐", "tang"), ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
)
CN_GIVEN = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("磊", "lei"),
    ("强", "qiang"), ("洋", "yang"), ("艳", "yan"), ("勇", "yong"), ("军", "jun"), ("杰", "jie"),
    ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀英", "xiuying"),
    ("建华", "jianhua"), ("志强", "zhiqiang"), ("海燕", "haiyan"), ("丽华", "lihua"),
    ("晓东", "xiaodong"), ("宇航", "yuhang"), ("子涵", "zihan"), ("欣怡", "xinyi"), ("浩然", "haoran"),
    ("雨轩", "yuxuan"), ("思远", "siyuan"), ("佳琪", "jiaqi"), ("俊杰", "junjie"), ("婷婷", "tingting"),
    ("文博", "wenbo"), ("嘉怡", "jiayi"), ("国栋", "guodong"), ("立新", "lixin"), ("春梅", "chunmei"),
)
EN_FIRST = (
    "John", "Emma", "Michael", "Olivia", "David", "Sophia", "James", "Emily", "Robert", "Grace",
    "Daniel", "Chloe", "William", "Hannah", "Thomas", "Lucy", "Peter", "Sarah", "Andrew", "Laura",
    "Mark", "Anna", "Kevin", "Rachel", "Steven", "Julia", "Brian", "Megan", "Eric", "Natalie",
)
EN_LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor",
    "Anderson", "Thomas", "Moore", "Martin", "Clark", "Lewis", "Walker", "Hall", "Young", "King",
    "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Carter", "Mitchell", "Turner",
    "Parker", "Collins",
)
PERSONAL_MAIL = ("qq.com", "163.com", "126.com", "foxmail.com", "gmail.com", "outlook.com")
ZH_MAIL, EN_MAIL = PERSONAL_MAIL[:4], PERSONAL_MAIL[3:]

# (short, english, full prefix for addresses, region, area code, districts)
CITIES = (
    ("上海", "Shanghai", "上海市", "east", "021", ("浦东新区", "徐汇区", "静安区", "闵行区")),
    ("北京", "Beijing", "北京市", "north", "010", ("朝阳区", "海淀区", "东城区", "丰台区")),
    ("深圳", "Shenzhen", "广东省深圳市", "south", "0755", ("南山区", "福田区", "龙岗区")),
    ("广州", "Guangzhou", "广东省广州市", "south", "020", ("天河区", "越秀区", "番禺区")),
    ("杭州", "Hangzhou", "浙江省杭州市", "east", "0571", ("西湖区", "滨江区", "余杭区")),
    ("南京", "Nanjing", "江苏省南京市", "east", "025", ("鼓楼区", "建邺区", "江宁区")),
    ("苏州", "Suzhou", "江苏省苏州市", "east", "0512", ("工业园区", "姑苏区", "吴中区")),
    ("天津", "Tianjin", "天津市", "north", "022", ("和平区", "滨海新区", "南开区")),
    ("武汉", "Wuhan", "湖北省武汉市", "central", "027", ("江汉区", "洪山区", "武昌区")),
    ("长沙", "Changsha", "湖南省长沙市", "central", "0731", ("岳麓区", "天心区", "开福区")),
    ("成都", "Chengdu", "四川省成都市", "southwest", "028", ("高新区", "武侯区", "锦江区")),
    ("重庆", "Chongqing", "重庆市", "southwest", "023", ("渝中区", "江北区", "九龙坡区")),
    ("西安", "Xi'an", "陕西省西安市", "northwest", "029", ("雁塔区", "碑林区", "未央区")),
    ("沈阳", "Shenyang", "辽宁省沈阳市", "northeast", "024", ("和平区", "沈河区", "浑南区")),
    ("大连", "Dalian", "辽宁省大连市", "northeast", "0411", ("中山区", "沙河口区", "甘井子区")),
    ("厦门", "Xiamen", "福建省厦门市", "south", "0592", ("思明区", "湖里区", "集美区")),
)
CN_ROADS = ("人民路", "中山路", "解放路", "建设路", "科技路", "创新大道", "滨江大道", "世纪大道",
            "长江路", "黄河路", "文化路", "工业园路", "高新大道", "新华路")
EN_ROADS = ("Century Avenue", "Nanjing Road", "Jianguo Road", "Keyuan Road", "Zhongshan Road",
            "Binjiang Avenue", "Tianhe Road", "Huaihai Road", "Renmin Road", "Hi-Tech Avenue")

# Company name parts. Chinese: brand (hanzi, pinyin) + trade (hanzi, domain word, industry).
CN_BRANDS = (
    ("星辰", "xingchen"), ("华信", "huaxin"), ("鼎盛", "dingsheng"), ("瑞丰", "ruifeng"),
    ("博远", "boyuan"), ("宏达", "hongda"), ("恒通", "hengtong"), ("金桥", "jinqiao"),
    ("天元", "tianyuan"), ("海纳", "haina"), ("中科", "zhongke"), ("东方", "dongfang"),
    ("新锐", "xinrui"), ("蓝海", "lanhai"), ("远景", "yuanjing"), ("汇智", "huizhi"),
    ("联创", "lianchuang"), ("智源", "zhiyuan"), ("启明", "qiming"), ("华腾", "huateng"),
    ("德润", "derun"), ("云帆", "yunfan"), ("长青", "changqing"), ("锦程", "jincheng"),
    ("泰和", "taihe"), ("万象", "wanxiang"), ("明达", "mingda"), ("卓越", "zhuoyue"),
    ("安信", "anxin"), ("永盛", "yongsheng"), ("易通", "yitong"), ("精工", "jinggong"),
    ("信达", "xinda"), ("同创", "tongchuang"), ("九州", "jiuzhou"), ("银河", "yinhe"),
)
CN_TRADES = (
    ("科技有限公司", "tech", "technology"), ("信息技术有限公司", "it", "technology"),
    ("软件股份有限公司", "soft", "technology"), ("智能制造有限公司", "mfg", "manufacturing"),
    ("机械股份有限公司", "machinery", "manufacturing"), ("贸易有限公司", "trading", "retail"),
    ("商贸集团有限公司", "group", "retail"), ("物流有限公司", "logistics", "logistics"),
    ("医疗器械有限公司", "medical", "healthcare"), ("生物科技有限公司", "bio", "healthcare"),
    ("教育科技有限公司", "edu", "education"), ("能源股份有限公司", "energy", "energy"),
    ("置业有限公司", "realty", "real_estate"), ("通信技术有限公司", "telecom", "telecom"),
    ("投资管理有限公司", "capital", "finance"), ("食品有限公司", "foods", "retail"),
)
EN_BRANDS = (
    "Acme", "Northwind", "Globex", "Initech", "Contoso", "Fabrikam", "Summit", "Bluewater",
    "Redwood", "Pinnacle", "Silverline", "Evergreen", "Horizon", "Atlas", "Sterling", "Crescent",
    "Vertex", "Harbor", "Meridian", "Orion", "Keystone", "Lakeside", "Granite", "Beacon",
    "Pioneer", "Oakridge", "Falcon", "Everest", "Tidewater", "Brightstone",
)
# (word, industry)
EN_TRADES = (
    ("Trading", "retail"), ("Systems", "technology"), ("Logistics", "logistics"),
    ("Manufacturing", "manufacturing"), ("Technologies", "technology"), ("Healthcare", "healthcare"),
    ("Energy", "energy"), ("Capital", "finance"), ("Retail Group", "retail"),
    ("Electronics", "manufacturing"), ("Consulting", "other"), ("Learning", "education"),
    ("Networks", "telecom"), ("Properties", "real_estate"),
)
EN_AREAS = ("", " (China)", " (Asia)", " International", " Pacific")
EN_FORMS = ("Ltd", "Inc.", "Co., Ltd.", "LLC", "Pte. Ltd.", "GmbH")

# (zh title, en title, deal role)
JOB_TITLES = (
    ("总经理", "General Manager", "decision_maker"), ("副总裁", "Vice President", "decision_maker"),
    ("首席信息官", "CIO", "decision_maker"), ("采购经理", "Purchasing Manager", "gatekeeper"),
    ("采购专员", "Buyer", "gatekeeper"), ("IT 经理", "IT Manager", "technical_buyer"),
    ("技术总监", "CTO", "technical_buyer"), ("销售总监", "Sales Director", "influencer"),
    ("财务总监", "CFO", "influencer"), ("运营经理", "Operations Manager", "champion"),
    ("项目经理", "Project Manager", "champion"), ("市场经理", "Marketing Manager", "influencer"),
    ("行政主管", "Office Manager", "user"), ("客服主管", "Service Supervisor", "user"),
    ("工程师", "Engineer", "user"), ("总经理助理", "Assistant to the GM", "gatekeeper"),
)

# (code, zh name, en name, category, list price in CNY)
PRODUCTS = (
    ("CRM-STD", "CRM 标准版", "CRM Standard Edition", "software", 29800),
    ("CRM-PRO", "CRM 专业版", "CRM Professional Edition", "software", 68000),
    ("CRM-ENT", "CRM 企业版", "CRM Enterprise Edition", "software", 198000),
    ("SVC-DESK", "云客服系统", "Cloud Service Desk", "subscription", 36000),
    ("MKT-AUTO", "营销自动化平台", "Marketing Automation", "subscription", 58000),
    ("BI-DASH", "数据分析看板", "BI Dashboards", "software", 45000),
    ("ERP-LINK", "ERP 集成套件", "ERP Connector Suite", "software", 88000),
    ("SRV-X1", "应用服务器 X1", "Application Server X1", "hardware", 52000),
    ("SRV-X2", "高性能服务器 X2", "High-performance Server X2", "hardware", 128000),
    ("TAB-10", "移动终端平板", "Field Tablet 10\"", "hardware", 3800),
    ("IMPL-DAY", "实施服务（人天）", "Implementation (per day)", "service", 2500),
    ("CONS-PKG", "咨询服务包", "Consulting Package", "service", 80000),
    ("DATA-MIG", "数据迁移服务", "Data Migration Service", "service", 30000),
    ("TRN-ADMIN", "管理员培训", "Administrator Training", "training", 12000),
    ("TRN-USER", "最终用户培训", "End-user Training", "training", 6000),
    ("SUP-GOLD", "金牌运维支持（年）", "Gold Support (yearly)", "support", 40000),
    ("SUP-STD", "标准运维支持（年）", "Standard Support (yearly)", "support", 18000),
)
PRODUCT_BLURBS = {
    "software": ("面向中大型企业的软件许可，按用户数计费。",
                 "Software licence for mid-size and large companies, priced per user."),
    "subscription": ("按年订阅的云服务，含升级与备份。", "Yearly cloud subscription including upgrades and backups."),
    "hardware": ("含三年原厂保修，支持上门安装。", "Comes with a three-year warranty and on-site installation."),
    "service": ("由认证顾问交付的专业服务。", "Professional services delivered by certified consultants."),
    "training": ("线上或线下授课，含结业证书。", "Online or classroom course with a certificate."),
    "support": ("7×24 小时技术支持，响应时间有保障。", "24/7 technical support with guaranteed response times."),
}

NEXT_STEPS = (
    ("安排产品演示", "Schedule a product demo"), ("发送报价单", "Send the quotation"),
    ("与采购确认合同条款", "Confirm contract terms with purchasing"),
    ("提交技术方案", "Submit the technical proposal"), ("拜访决策人", "Visit the decision maker"),
    ("安排试用环境", "Set up a trial environment"), ("跟进预算审批", "Follow up on budget approval"),
    ("准备投标文件", "Prepare the tender documents"), ("组织高层会面", "Arrange an executive meeting"),
)
LOST_REASONS = (
    ("价格高于竞争对手", "Our price was higher than the competitor's"),
    ("客户预算被削减", "The customer's budget was cut"),
    ("功能不满足关键需求", "Key requirements were not met"),
    ("客户选择了自研方案", "The customer decided to build in-house"),
    ("项目无限期搁置", "The project was put on hold indefinitely"),
    ("决策人变更", "The decision maker changed"),
)
DISQUALIFY_REASONS = (
    ("无采购预算", "No budget"), ("联系方式无效", "Contact details are invalid"),
    ("非目标行业", "Not in a target industry"), ("公司规模太小", "Company too small"),
    ("已使用竞品且合同未到期", "Locked into a competitor's contract"), ("重复线索", "Duplicate lead"),
)
ACCOUNT_NOTES = (
    ("年度预算通常在第四季度确定。", "Budget is usually decided in Q4."),
    ("对数据安全要求较高，需私有化部署。", "Strict data-security requirements; needs on-premises deployment."),
    ("集团统一采购，分公司执行。", "Purchasing is centralised at group level."),
    ("老客户，续约意向强。", "Long-standing customer, likely to renew."),
    ("关注实施周期，希望三个月内上线。", "Wants to go live within three months."),
    ("与竞争对手有过合作。", "Has worked with a competitor before."),
)

# Activity subjects by kind: {company} and {person} are filled in.
ACTIVITY_SUBJECTS = {
    "call": (("与{person}电话沟通需求", "Call {person} about requirements"),
             ("回访{company}", "Follow-up call with {company}"),
             ("电话确认报价", "Call to confirm the quotation")),
    "meeting": (("拜访{company}", "Visit {company}"), ("产品演示会议", "Product demo meeting"),
                ("与{person}商务谈判", "Negotiation meeting with {person}")),
    "task": (("准备{company}报价单", "Prepare quotation for {company}"),
             ("更新客户资料", "Update account details"), ("提交合同审批", "Submit contract for approval")),
    "note": (("{company}拜访纪要", "Notes from the {company} visit"),
             ("客户反馈汇总", "Summary of customer feedback")),
    "email": (("发送方案给{person}", "Email the proposal to {person}"),
              ("发送会议邀请", "Send the meeting invitation")),
}
ACTIVITY_DESCRIPTIONS = (
    ("客户对报表功能很感兴趣，希望下周看演示。", "The customer is interested in reporting and wants a demo next week."),
    ("已确认预算范围，需进一步沟通实施计划。", "Budget confirmed; the implementation plan still needs discussing."),
    ("客户提出了集成现有 ERP 的需求。", "The customer asked for integration with their ERP."),
    ("对方采购流程较长，预计下月启动。", "Their purchasing process is long; expected to start next month."),
    ("已发送资料，等待客户反馈。", "Material sent; waiting for feedback."),
)

# (zh subject, zh description, en subject, en description)
TICKET_ISSUES = (
    ("系统无法登录", "用户反馈输入正确密码后仍提示登录失败。",
     "Cannot log in", "The user gets a login error even with the correct password."),
    ("报表导出乱码", "导出 Excel 时中文显示为乱码。",
     "Garbled characters in exported report", "Chinese text is garbled when exporting to Excel."),
    ("页面加载缓慢", "高峰期打开客户列表需要超过十秒。",
     "Pages load slowly", "Opening the account list takes over ten seconds at peak hours."),
    ("发票信息错误", "上月发票抬头与合同不一致，需重开。",
     "Wrong invoice details", "Last month's invoice header does not match the contract."),
    ("申请新增用户许可", "新入职员工需要开通 5 个账号。",
     "Request for more user licences", "Five new employees need accounts."),
    ("数据同步失败", "与 ERP 的订单同步任务报错中断。",
     "Data sync failed", "The order sync job with the ERP stops with an error."),
    ("手机端无法上传附件", "安卓手机上传图片时报错。",
     "Mobile app cannot upload attachments", "Uploading photos fails on Android phones."),
    ("邮件通知未收到", "审批通过后没有收到邮件提醒。",
     "Email notifications not received", "No email arrives after an approval."),
    ("服务器硬件故障", "服务器电源指示灯报警，需上门检修。",
     "Server hardware fault", "The server power LED shows an alarm; an on-site visit is needed."),
    ("咨询产品使用方法", "客户询问如何批量导入联系人。",
     "How-to question", "The customer asks how to import contacts in bulk."),
    ("权限配置问题", "销售经理看不到下属的商机。",
     "Permission problem", "Sales managers cannot see their team's opportunities."),
    ("培训课程改期", "客户希望将培训改到下周三。",
     "Reschedule training", "The customer wants to move the training to next Wednesday."),
)
RESOLUTIONS = (
    ("已重置密码并指导用户登录。", "Password reset and the user guided through login."),
    ("已修复编码设置，重新导出正常。", "Encoding fixed; the export now works."),
    ("优化了数据库索引，性能恢复正常。", "Database indexes tuned; performance is back to normal."),
    ("已远程协助客户完成配置。", "Configured together with the customer over remote session."),
    ("已更换故障部件并测试通过。", "Faulty part replaced and tested."),
    ("已在新版本中修复，并通知客户升级。", "Fixed in the new release; the customer was asked to upgrade."),
)

# (zh, en, channel)
CAMPAIGN_EVENTS = (
    ("春季新品发布会", "Spring Product Launch", "event"), ("工业博览会参展", "Industrial Expo", "event"),
    ("数字化转型峰会", "Digital Transformation Summit", "event"),
    ("客户答谢会", "Customer Appreciation Day", "event"),
    ("CRM 最佳实践线上研讨会", "CRM Best Practices Webinar", "webinar"),
    ("销售效率提升直播课", "Sales Productivity Live Class", "webinar"),
    ("老客户续约邮件", "Renewal Email Campaign", "email"), ("季度产品简报", "Quarterly Newsletter", "email"),
    ("微信公众号裂变活动", "WeChat Referral Drive", "wechat"), ("企业微信社群运营", "WeChat Community Program", "wechat"),
    ("百度搜索推广", "Baidu Search Ads", "search_ads"), ("品牌关键词投放", "Brand Keyword Ads", "search_ads"),
    ("抖音短视频推广", "Douyin Short Video Push", "social_media"),
    ("领英精准投放", "LinkedIn Sponsored Posts", "social_media"),
    ("行业白皮书下载", "Industry White Paper", "content"), ("客户成功案例集", "Customer Success Stories", "content"),
)
CAMPAIGN_DESCRIPTIONS = (
    ("面向华东制造业客户，目标获取 200 条线索。", "Aimed at manufacturers in East China; target 200 leads."),
    ("联合合作伙伴举办，重点推广企业版。", "Run with partners to promote the Enterprise Edition."),
    ("针对老客户的增购与续约活动。", "Upsell and renewal push for existing customers."),
    ("提升品牌知名度，收集潜在客户信息。", "Raise brand awareness and collect prospect details."),
)

GENERIC_SENTENCES = (
    ("请在下周前完成确认。", "Please confirm before next week."),
    ("已与客户沟通，等待进一步反馈。", "Discussed with the customer; waiting for feedback."),
    ("详细信息见附件。", "See the attachment for details."),
    ("此记录由演示数据生成。", "This record was generated as demo data."),
)

# Hints for fields the plans do not know, by (part of) the field name.
FUTURE_DATES = ("close_date", "due", "due_date", "due_on", "sla_due", "end_date", "deadline",
                "renewal_date", "expiry_date")
NUMBER_HINTS = {  # plausible range before min/max apply
    "amount": (10_000, 2_000_000), "price": (100, 100_000), "budget": (20_000, 1_000_000),
    "cost": (1_000, 500_000), "revenue": (100_000, 50_000_000), "employees": (10, 5_000),
    "score": (0, 100), "quantity": (1, 50), "qty": (1, 50), "age": (18, 70), "rating": (1, 5),
    "discount": (0, 30), "year": (2015, 2030),
}
# Characters for regex classes (\d, \w, \s ...) when generating a value from a pattern.
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
REGEX_CATEGORIES = {"CATEGORY_DIGIT": "0123456789", "CATEGORY_NOT_DIGIT": _LETTERS,
                    "CATEGORY_WORD": _LETTERS + "0123456789_", "CATEGORY_NOT_WORD": "-.",
                    "CATEGORY_SPACE": " ", "CATEGORY_NOT_SPACE": _LETTERS}

# How often each choice value appears in demo records, by entity.field (values not listed: never).
WEIGHTS = {
    "account.tier": {"strategic": 1, "key": 3, "standard": 6},
    "account.lifecycle_stage": {"prospect": 4, "customer": 5, "partner": 1, "churned": 1},
    "lead.status": {"new": 3, "contacted": 3, "qualified": 2, "converted": 1, "disqualified": 1},
    "lead.source": {"web": 4, "referral": 2, "event": 2, "cold_call": 2, "wechat": 3, "advertising": 2,
                    "partner": 1, "other": 1},
    "opportunity.stage": {"prospecting": 3, "needs_analysis": 3, "proposal": 3, "negotiation": 2,
                          "won": 3, "lost": 2},
    "opportunity.source": {"web": 3, "referral": 3, "event": 2, "cold_call": 2, "wechat": 2,
                           "advertising": 1, "partner": 1, "existing_customer": 3},
    "activity.kind": {"call": 4, "meeting": 3, "task": 3, "note": 1, "email": 2},
    "activity.priority": {"low": 2, "normal": 5, "high": 2},
    "ticket.priority": {"low": 2, "normal": 5, "high": 2, "urgent": 1},
    "ticket.channel": {"phone": 3, "email": 3, "web": 2, "wechat": 3},
    "ticket.open": {"new": 3, "assigned": 3, "in_progress": 3, "waiting_on_customer": 2},
    "ticket.old": {"resolved": 3, "closed": 6, "waiting_on_customer": 1},
}
TIER_EMPLOYEES = {"strategic": (2000, 100_000), "key": (300, 5000), "standard": (10, 800)}
LEAD_SCORES = {"new": (10, 60), "contacted": (20, 70), "qualified": (60, 95), "converted": (70, 100),
               "disqualified": (0, 30)}
STAGE_PROBABILITY = {"prospecting": 10, "needs_analysis": 25, "proposal": 50, "negotiation": 75,
                     "won": 100, "lost": 0}
SLA_HOURS = {"urgent": 4, "high": 24, "normal": 72, "low": 336}
