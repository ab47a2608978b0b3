"""Every text the console shows, in zh-CN (first) and English: one catalog, no strings in
templates. ``t("key", name=value)`` in a template is :func:`translate`.

The domain's own vocabularies (fault types, levels, timeline events, recovery kinds) are taken
from where the alerts and the CLI take them, so a fault is named the same everywhere.
"""

from __future__ import annotations

from typing import Any

from noc.core.vocabulary import FAULT_NAMES, LEVEL_NAMES, RECOVERY_NAMES
from noc.incident_view import EVENT_ZH

LANGS = ("zh-CN", "en")

_EVENT_EN = {
    "opened": "fault detected",
    "graded": "graded",
    "regraded": "regraded",
    "symptom_attached": "symptom attached",
    "symptom_detached": "symptom cleared",
    "members_changed": "affected assets changed",
    "merged": "merged into parent",
    "alarmed": "alarm delivered",
    "acknowledged": "acknowledged",
    "step_done": "step done",
    "escalated": "escalated",
    "recovered": "recovered",
    "resolved": "resolved by hand",
    "closed": "closed",
    "renotify": "reminder",
    "test": "test message",
}

MESSAGES: dict[str, tuple[str, str]] = {
    "app.title": ("网络运行监控", "Network operations"),
    "lang.switch": ("English", "中文"),
    "live.reconnecting": ("实时连接中断，正在重连…", "live feed lost, reconnecting…"),
    "footer.times": ("时间均为现场时间 {zone}", "all times in site time {zone}"),
    "login.link": ("登录", "log in"),
    # roles (issue 12)
    "role.viewer": ("查看", "viewer"),
    "role.operator": ("值班员", "operator"),
    "role.lead": ("值班长", "shift lead"),
    "role.admin": ("系统管理员", "administrator"),
    "role.security": ("安全管理员", "security officer"),
    "role.auditor": ("审计管理员", "auditor"),
    # tiles and states
    "status.green": ("正常", "normal"),
    "status.amber": ("受影响", "impaired"),
    "status.red": ("中断", "down"),
    "status.grey": ("暂无数据", "no data yet"),
    "state.UP": ("正常", "up"),
    "state.DEGRADED": ("劣化", "degraded"),
    "state.DOWN": ("中断", "down"),
    "state.UNKNOWN": ("未知", "unknown"),
    "istatus.active": ("处理中", "active"),
    "istatus.open": ("未确认", "open"),
    "istatus.acknowledged": ("已确认", "acknowledged"),
    "istatus.recovered": ("已恢复", "recovered"),
    "istatus.closed": ("已关闭", "closed"),
    "impact.critical": ("严重", "critical"),
    "impact.major": ("较大", "major"),
    "impact.moderate": ("中等", "moderate"),
    "impact.minor": ("轻微", "minor"),
    "impact.none": ("无", "none"),
    "recovery.open": ("仍未恢复", "not recovered"),
    "kind.mstp_circuit": ("MSTP专线", "MSTP circuit"),
    "kind.internet_line": ("互联网专线", "internet line"),
    "kind.voice_gateway": ("语音网关", "voice gateway"),
    "kind.phone": ("固话", "phone"),
    "kind.router": ("路由器", "router"),
    "kind.switch": ("交换机", "switch"),
    "if.up": ("接口UP", "up"),
    "if.down": ("接口DOWN", "down"),
    # board
    "board.open_incidents": ("未结故障", "Open incidents"),
    "board.no_incidents": ("当前无未结故障", "No open incidents"),
    "board.assets": ("资产状态", "Assets"),
    "board.more": ("另有 {n} 项", "and {n} more"),
    "board.wall_link": ("大屏模式", "wall screen"),
    "countdown.ack": ("确认剩余", "ack within"),
    "countdown.recover": ("恢复剩余", "recover within"),
    "countdown.over": ("已超时", "overdue"),
    "deadline.ack_met": ("按时确认", "acknowledged in time"),
    "deadline.ack_missed": ("确认超时", "acknowledged late"),
    "deadline.recover_met": ("按时恢复", "recovered in time"),
    "deadline.recover_missed": ("恢复超时", "recovered late"),
    # incident list
    "filter.status": ("状态", "status"),
    "filter.level": ("等级", "level"),
    "filter.asset": ("资产", "asset"),
    "filter.service": ("业务", "service"),
    "filter.from": ("起始日期", "from"),
    "filter.to": ("截止日期", "to"),
    "filter.any": ("全部", "any"),
    "filter.apply": ("查询", "apply"),
    "filter.reset": ("清除条件", "reset"),
    "filter.unreadable": ("无法识别的条件", "could not read"),
    "incidents.none": ("没有符合条件的故障", "no incident matches"),
    "pager.newer": ("较新", "newer"),
    "pager.older": ("较早", "older"),
    "pager.page": ("第 {n} 页", "page {n}"),
    "col.level": ("等级", "level"),
    "col.fault": ("故障", "fault"),
    "col.asset": ("资产", "asset"),
    "col.assets": ("资产", "assets"),
    "col.status": ("状态", "status"),
    "col.detected": ("发现时间", "detected"),
    "col.acknowledged": ("确认人", "acknowledged by"),
    "col.recovered": ("恢复时间", "recovered"),
    "col.receiver": ("接收方", "receiver"),
    "col.event": ("事件", "event"),
    "col.queued": ("入队时间", "queued"),
    "col.delivered": ("送达时间", "delivered"),
    "col.attempts": ("尝试次数", "attempts"),
    "col.check": ("检查项", "check"),
    "col.state": ("状态", "state"),
    "col.rtt": ("时延", "RTT"),
    "col.loss": ("丢包", "loss"),
    "col.jitter": ("抖动", "jitter"),
    "col.sip": ("SIP应答码", "SIP code"),
    "col.interfaces": ("接口(利用率/合同带宽)", "interfaces (use / contract)"),
    "col.last_probe": ("最近探测", "last probe"),
    "col.time": ("时间", "time"),
    "col.change": ("变化", "change"),
    "col.reason": ("原因", "reason"),
    "col.from": ("开始", "from"),
    "col.until": ("结束", "until"),
    "col.by": ("登记人", "entered by"),
    # incident detail
    "incident.started": ("故障开始", "fault started"),
    "incident.detected": ("发现", "detected"),
    "incident.alarmed": ("告警送达", "alarm delivered"),
    "incident.acknowledged": ("确认", "acknowledged"),
    "incident.recovered": ("恢复", "recovered"),
    "incident.closed": ("关闭", "closed"),
    "incident.peak": ("最高等级", "peak level"),
    "incident.deadlines": ("时限", "deadlines"),
    "incident.services": ("受影响业务", "services affected"),
    "incident.members": ("涉及资产", "assets involved"),
    "incident.symptoms": ("衍生告警", "symptoms"),
    "incident.merged": ("已并入本故障", "merged into this one"),
    "runbook.title": ("运维方案", "Runbook"),
    "runbook.none": ("此类故障没有运维方案", "no runbook for this fault type"),
    "runbook.automated": ("自动", "automated"),
    "runbook.manual": ("人工", "by hand"),
    "runbook.after_recovery": ("恢复后执行", "after recovery"),
    "runbook.intervention": ("人工干预", "intervention"),
    "runbook.running": ("执行中…", "running…"),
    "runbook.how": ("操作说明", "how"),
    "runbook.contact": ("联系", "contact"),
    "actions.title": ("处置", "Actions"),
    "actions.read_only": (
        "当前角色（{role}）只能查看，不能处置。",
        "Your role ({role}) may look, not act.",
    ),
    "action.ack": ("确认故障", "Acknowledge"),
    "action.record": ("记录步骤", "Record step"),
    "action.run": ("执行", "Run"),
    "action.resolve": ("处理完成", "Resolve"),
    "action.regrade": ("调整等级", "Regrade"),
    "action.close": ("关闭故障", "Close"),
    "action.end": ("结束", "End now"),
    "action.plan": ("登记维护", "Plan window"),
    "action.test_message": ("发送测试消息", "Send test message"),
    "form.note": ("备注", "note"),
    "form.step": ("步骤", "step"),
    "form.step_note": ("处理记录", "what was done"),
    "form.intervention": ("是否人工干预", "intervention"),
    "form.intervention_default": ("按方案", "as the runbook says"),
    "form.intervention_yes": ("有人工干预", "changed something"),
    "form.intervention_no": ("无人工干预", "changed nothing"),
    "form.resolve_note": ("处理结果", "what fixed it"),
    "form.level": ("等级", "level"),
    "form.reason": ("原因", "reason"),
    "form.cause": ("故障原因", "cause"),
    "timeline.title": ("时间线", "Timeline"),
    "timeline.override": ("干预标记已改", "intervention flag overridden"),
    "deliveries.title": ("告警发送", "Alert deliveries"),
    "deliveries.none": ("尚无告警消息", "no alert message yet"),
    "delivery.pending": ("待发送", "queued"),
    "delivery.sending": ("发送中", "sending"),
    "delivery.delivered": ("已送达", "delivered"),
    "delivery.failed": ("发送失败", "failed"),
    "error.refused": ("未执行", "Refused"),
    "error.forbidden": ("无权限", "Forbidden"),
    "error.needs": (
        "此操作需要权限 {permission}，当前角色为 {role}。",
        "This needs permission {permission}; your role is {role}.",
    ),
    "error.csrf": (
        "表单已过期或来源不明，请刷新页面后重试。",
        "The form is stale or did not come from this console; reload the page and try again.",
    ),
    # refusals of a form's act (noc.web.console.acting), by class
    "error.bad_request": ("请求有误", "bad request"),
    "error.not_found": ("未找到", "not found"),
    "error.conflict": ("与当前状态不符", "does not fit the current state"),
    "error.needs_roles": (
        "此操作需要{roles}权限（{permission}），{user} 的角色是{role}。",
        "This needs a {roles} ({permission}); {user} is {role}.",
    ),
    "list.sep": ("或", " or "),
    "form.override_reason": ("更改干预标记的原因", "reason for changing the flag"),
    # assets
    "assets.recent": ("最近状态变化", "Recent state changes"),
    "assets.no_checks": ("无检查项", "no checks"),
    "assets.no_transitions": ("暂无状态变化", "no state change yet"),
    "asset.address": ("地址", "address"),
    "asset.bandwidth": ("合同带宽", "contracted bandwidth"),
    "asset.depends_on": ("依赖", "depends on"),
    # maintenance
    "maint.active": ("进行中", "Active"),
    "maint.upcoming": ("计划中", "Upcoming"),
    "maint.past": ("已结束", "Past"),
    "maint.create": ("登记维护窗口", "Plan a window"),
    "maint.starts": ("开始", "starts"),
    "maint.ends": ("结束", "ends"),
    "maint.duration": ("或时长", "or duration"),
    "maint.hint": (
        "时间按现场时间 {zone}；开始留空即现在。维护期间相关告警静默。",
        "Times in site time {zone}; an empty start means now. Alerts of these assets are muted.",
    ),
    "maint.none": ("无", "none"),
    "maint.ended_early": ("提前结束", "ended early"),
    "maint.entered_late": ("事后登记", "entered after it began"),
    "maint.approval": ("审批", "approval"),
    "maint.approved": ("已批准", "approved"),
    "maint.unapproved": ("未批准，不扣除SLA", "not approved: excuses no SLA downtime"),
    "maint.approve_by_other": ("须由他人批准", "to be approved by someone else"),
    "maint.approval_hint": (
        "维护窗口登记后即静默告警；须经登记人以外有批准权限的人批准，才从SLA中扣除。",
        "A window mutes alerts once planned; it is taken out of the SLA only once someone "
        "other than its planner, holding the approval right, approves it.",
    ),
    "action.approve": ("批准", "Approve"),
    # SLA
    "sla.period": ("统计周期", "period"),
    "sla.scope": ("范围", "scope"),
    "sla.default_scope": ("全局及各业务", "site and services"),
    "sla.all": ("全部(含各资产)", "everything (with assets)"),
    "sla.window": ("{start} 至 {end}（{zone}）", "{start} to {end} ({zone})"),
    "sla.objective": ("可用率目标 {pct}%", "availability objective {pct} %"),
    "sla.availability": ("可用率", "availability"),
    "sla.coverage": ("运行时间/周期(h)", "operating / period (h)"),
    "sla.maintenance": ("维护 {h} h", "maintenance {h} h"),
    "sla.downtime": ("故障时长", "downtime"),
    "sla.failures": ("故障次数(I-III)", "failures (I-III)"),
    "sla.level_iv": ("IV级", "level IV"),
    "sla.mttr_auto": ("自动恢复MTTR", "MTTR automatic"),
    "sla.mttr_manual": ("人工恢复MTTR", "MTTR manual"),
    "sla.breaches": ("超时", "breaches"),
    "sla.alarm_delay": ("告警延迟 p50/max", "alarm delay p50/max"),
    "sla.timeliness": ("响应及时率", "response on time"),
    "sla.budget": ("剩余错误预算", "error budget left"),
    "sla.breach_list": ("超时恢复的故障", "Recoveries over target"),
    "sla.no_breaches": ("本周期无超时", "no breach in this period"),
    # alerting
    "alerting.urls": ("地址(已脱敏)", "URLs (masked)"),
    "alerting.queued": ("待发送", "queued"),
    "alerting.retrying": ("重试中", "retrying"),
    "alerting.oldest": ("最早待发", "oldest queued"),
    "alerting.delivered_today": ("今日送达", "delivered today"),
    "alerting.failed_today": ("今日失败", "failed today"),
    "alerting.sent": ("测试消息已提交给 {receiver}", "test message queued for {receiver}"),
    "alerting.test_title": ("[{site}] 测试消息", "[{site}] test message"),
    "alerting.test_body": (
        "这是一条由 {who} 从网络运行监控控制台发送的测试消息。",
        "A test message sent by {who} from the NOC console.",
    ),
    # admin, audit, login
    "admin.users": ("用户与角色", "Users and roles"),
    "admin.tokens": ("自动化令牌", "Automation tokens"),
    "identity.later": (
        "登录与权限功能上线后可用（用户、角色、会话、令牌与审计日志）。",
        "Available after login lands (users, roles, sessions, tokens and the audit log).",
    ),
    "login.user": ("用户名", "user name"),
    "login.password": ("密码", "password"),
    "login.submit": ("登录", "Log in"),
    "login.lockout_hint": (
        "连续5次输入错误将锁定15分钟。",
        "Five failures in a row lock the account for 15 minutes.",
    ),
    "login.pending": (
        "登录功能尚未启用（身份认证随后上线）。",
        "Logging in is not available yet (identity comes next).",
    ),
    "password.current": ("当前密码", "current password"),
    "password.new": ("新密码", "new password"),
    "password.repeat": ("再次输入新密码", "new password again"),
    "password.submit": ("修改密码", "Change password"),
    "password.forced": ("首次登录须修改密码。", "Change your password before going on."),
    "password.policy": (
        "至少10位，包含大写字母、小写字母、数字、符号中的三类，且不得与用户名相同。",
        "At least 10 characters, three of: upper case, lower case, digits, symbols; "
        "not your user name.",
    ),
    "api.permission": ("权限", "permission"),
    "api.param": ("参数", "parameter"),
    "api.in": ("位置", "in"),
    "api.description": ("说明", "description"),
    "api.body": ("请求体", "body"),
}
for _type, (_zh, _en) in FAULT_NAMES.items():
    MESSAGES[f"fault.{_type}"] = (_zh, _en)
for _level, (_zh, _en) in LEVEL_NAMES.items():
    MESSAGES[f"level.{_level}"] = (f"{_level}级 {_zh}", f"level {_level} ({_en})")
for _kind, (_zh, _en) in RECOVERY_NAMES.items():
    MESSAGES[f"recovery.{_kind}"] = (_zh, _en)
for _kind, _en in _EVENT_EN.items():
    MESSAGES[f"event.{_kind}"] = (EVENT_ZH.get(_kind, _en), _en)
MESSAGES["event.renotify"] = ("未确认提醒", "reminder")
MESSAGES["event.test"] = ("测试消息", "test message")


def has(key: str) -> bool:
    return key in MESSAGES


def translate(key: str, language: str, **values: Any) -> str:
    """The text of ``key`` in ``language``; an unknown key shows itself (and a test fails)."""
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    text = pair[1] if language == "en" else pair[0]
    return text.format(**values) if values else text
