"""Titles of every problem in English and Chinese, and Chinese detail templates.

``TITLES`` maps a problem code to its (English, Chinese) title; ``ZH_DETAILS``
maps a domain error's code to a Chinese template over the same fields as the
error's English ``template`` (``tests/api/test_problems.py`` checks both are
complete, and that the placeholders match), and ``request_body_invalid`` to one
over the field it names. The Chinese is written for a
community-centre coordinator, not for a programmer; it uses ASCII ``:`` and
``()`` and the ideographic ``。`` and ``、`` so that ruff's RUF001 stays on.
"""

from __future__ import annotations

__all__ = ["TITLES", "ZH_DETAILS"]

TITLES: dict[str, tuple[str, str]] = {
    # HTTP and operations
    "request_malformed": ("The request is malformed", "请求格式有误"),
    "request_body_invalid": (
        "A value in the request body is invalid",
        "请求内容中有一项不符合要求",
    ),
    "not_authenticated": ("A valid bearer token is needed", "需要有效的访问令牌"),
    "forbidden": ("Not allowed", "无权执行此操作"),
    "not_found": ("Not found", "未找到"),
    "method_not_allowed": ("Method not allowed", "不支持该请求方法"),
    "request_too_large": ("The request is too large", "请求内容过大"),
    "unsupported_media_type": ("Unsupported media type", "不支持的内容类型"),
    "too_many_requests": ("Too many requests", "请求过于频繁"),
    "store_unavailable": ("The database is unavailable", "数据库暂时不可用"),
    "internal_error": ("Internal error", "服务器内部错误"),
    "http_error": ("The request failed", "请求未能完成"),
    # the families (raised bare only by mistake, but named all the same; ``not_found`` is above)
    "ledger_error": ("A ledger rule was broken", "违反了记账规则"),
    "request_invalid": ("The request is invalid", "请求内容不符合要求"),
    "conflict": ("The request clashes with the book", "请求与账簿当前状态冲突"),
    "limit_exceeded": ("A balance limit would be exceeded", "将超出余额限制"),
    "bank_error": ("A time-bank rule was broken", "违反了时间银行规则"),
    # the ledger: the request is malformed on its own
    "id_invalid": ("The id is not valid", "编号不合规"),
    "code_too_long": ("The transaction code is too long", "交易代码过长"),
    "code_not_printable": (
        "The transaction code has unprintable characters",
        "交易代码含有非法字符",
    ),
    "metadata_invalid": ("The metadata is invalid", "附加信息不合规"),
    "timestamp_not_aware": ("The time has no time zone", "时间缺少时区"),
    "timestamp_out_of_range": ("The time is out of range", "时间超出范围"),
    "posting_count_out_of_range": ("Too few or too many postings", "分录条数超出范围"),
    "batch_too_large": ("Too many requests in one batch", "单批请求过多"),
    "amount_not_integer": ("The amount is not whole minutes", "时长不是整数分钟"),
    "amount_not_positive": ("The amount is not positive", "时长必须大于零"),
    "amount_too_large": ("The amount is too large", "时长过大"),
    "account_repeated": ("An account appears twice", "同一账户重复出现"),
    "transaction_unbalanced": ("Debits and credits differ", "借贷不平衡"),
    "bounds_invalid": ("The balance bounds are invalid", "余额上下限设置有误"),
    "hold_expiry_not_after_recording": (
        "The hold would expire before it is recorded",
        "冻结的到期时间早于记账时间",
    ),
    "effective_time_after_recording": (
        "The effective time is after the recording time",
        "生效时间晚于记账时间",
    ),
    "page_size_out_of_range": ("The page size is out of range", "每页条数超出范围"),
    # the ledger: something named does not exist
    "book_not_found": ("No such book", "账簿不存在"),
    "account_not_found": ("No such account", "时间账户不存在"),
    "transaction_not_found": ("No such transaction", "交易不存在"),
    "hold_not_found": ("No such hold", "冻结记录不存在"),
    # the ledger: the request clashes with the book's state
    "book_exists": ("The book already exists", "账簿已存在"),
    "account_exists": ("The account already exists", "时间账户已存在"),
    "account_closed": ("The account is closed", "时间账户已关闭"),
    "idempotency_conflict": (
        "The transaction id was used for another request",
        "交易编号已用于另一笔不同的请求",
    ),
    "hold_not_pending": ("The hold is no longer pending", "冻结已处理"),
    "hold_expired": ("The hold has expired", "冻结已过期"),
    "post_does_not_match_hold": ("The posting does not match the hold", "扣划与冻结不一致"),
    "post_exceeds_hold": ("More minutes than the hold holds", "扣划时长超过冻结时长"),
    "transaction_not_reversible": ("The transaction cannot be reversed", "该交易不能冲正"),
    "transaction_already_reversed": ("The transaction is already reversed", "该交易已冲正"),
    # the ledger: a balance would leave its bounds
    "insufficient_minutes": ("Not enough minutes", "可用时长不足"),
    "maximum_balance_exceeded": ("The balance would exceed its maximum", "余额将超过上限"),
    "balance_out_of_range": ("The balance would be out of range", "余额超出可记录范围"),
    # the time bank: the request is malformed on its own
    "name_invalid": ("The name is not valid", "姓名不合规"),
    "birth_date_invalid": ("The birth date is not valid", "出生日期有误"),
    "record_id_invalid": ("The id is not valid", "编号不合规"),
    "text_too_long": ("The text is too long", "文字过长或含有非法字符"),
    "policy_invalid": ("The rules are unusable", "规则设置有误"),
    "category_unknown": ("Unknown service category", "服务类别不存在"),
    "choice_unknown": ("Not one of the allowed choices", "不是可选的值"),
    "service_minutes_out_of_range": ("The service time is out of range", "服务时长超出范围"),
    "credit_rounds_to_zero": ("The service time rounds to nothing", "服务时长折算后为零"),
    "minutes_not_positive": ("The minutes must be positive", "时长必须是正整数分钟"),
    "self_dealing": ("A member cannot deal with themselves", "不能与本人交易"),
    "relation_to_self": ("A member cannot be related to themselves", "不能与本人建立亲属关系"),
    "attendees_invalid": ("The attendee list is invalid", "参加人员名单有误"),
    "reason_required": ("A reason is required", "需要填写原因"),
    "schedule_invalid": ("The schedule is invalid", "时间安排有误"),
    "rating_out_of_range": ("The rating is out of range", "评分超出范围"),
    "report_period_invalid": ("The report period is invalid", "报表期间有误"),
    # the time bank: something named does not exist
    "member_not_found": ("No such member", "会员不存在"),
    "policy_not_found": ("No such rules version", "规则版本不存在"),
    "no_active_policy": ("The book has no active rules", "账簿尚未启用规则"),
    "credit_not_found": ("No such service credit", "服务记时记录不存在"),
    "redemption_not_found": ("No such redemption", "兑换记录不存在"),
    "event_not_found": ("No such event", "活动不存在"),
    "programme_account_not_found": ("No such programme account", "项目账户不存在"),
    "proxy_not_found": ("No such proxy", "代理授权不存在"),
    "offer_not_found": ("No such offer", "服务供给不存在"),
    "need_not_found": ("No such need", "服务需求不存在"),
    "order_not_found": ("No such service order", "服务工单不存在"),
    "wish_not_found": ("No such micro-wish", "微心愿不存在"),
    "care_file_not_found": ("No open care file", "没有在办的关爱档案"),
    # the time bank: the request clashes with the book's state
    "member_exists": ("The member is already registered", "会员已登记"),
    "member_not_active": ("The member is not active", "会员状态不可用"),
    "relation_exists": ("The members are already related", "亲属关系已存在"),
    "policy_not_draft": ("Only draft rules can be activated", "只有草稿规则可以启用"),
    "actor_not_authorised": ("Not authorised", "无权办理"),
    "self_approval": ("Nobody approves what pays themselves", "不能由受益人本人确认"),
    "provider_not_eligible": ("Not eligible to provide services", "不能提供服务"),
    "recipient_not_eligible": ("Not eligible to receive services", "不能接受服务"),
    "redemption_age_not_reached": ("Too young to redeem", "未到兑换年龄"),
    "gift_not_allowed": ("The gift is not allowed", "不允许赠与"),
    "group_minutes_only_donated": (
        "Group-volunteer minutes can only be donated",
        "团体志愿时长只能捐赠",
    ),
    "credit_not_pending": ("The service credit is not pending", "服务记时不在待确认状态"),
    "credit_not_posted": ("The service credit is not posted", "服务记时尚未入账"),
    "redemption_not_booked": ("The redemption is not booked", "兑换不在已预约状态"),
    "merchant_redemption_not_allowed": (
        "Minutes buy services only",
        "时长只能兑换服务 不能兑换商品",
    ),
    "need_not_open": ("The need is closed", "服务需求已关闭"),
    "idempotency_key_reused": (
        "The idempotency key was used for another request",
        "请求键已用于另一个不同的请求",
    ),
    "bookings_open_at_death": (
        "Settle the member's open bookings first",
        "请先办结该会员尚未结清的预约",
    ),
    "order_transition_not_allowed": ("The order cannot do that now", "工单当前状态不能办理此操作"),
    "wish_transition_not_allowed": (
        "The micro-wish cannot do that now",
        "微心愿当前状态不能办理此操作",
    ),
    # the time bank: a balance would leave the bounds the rules set
    "credit_limit_exceeded": ("The credit limit would be exceeded", "超出透支额度"),
    "stored_minutes_cap_exceeded": ("The stored minutes cap is reached", "超出时长储存上限"),
}

ZH_DETAILS: dict[str, str] = {
    # HTTP: a JSON body whose value at ``field`` has the wrong type or shape
    "request_body_invalid": "请求内容中的 {field} 类型或取值不符合要求",
    # the families
    "ledger_error": "违反了记账规则",
    "request_invalid": "请求内容不符合要求",
    "not_found": "未找到",
    "conflict": "请求与账簿当前状态冲突",
    "limit_exceeded": "将超出余额限制",
    "bank_error": "违反了时间银行规则",
    # the ledger: the request is malformed on its own
    "id_invalid": "{field} “{value}” 不是有效的编号: {reason}",
    "code_too_long": "交易代码有 {length} 个字符 最多允许 {maximum} 个",
    "code_not_printable": "交易代码 “{value}” 含有不可显示的字符",
    "metadata_invalid": "附加信息不合规: {reason}",
    "timestamp_not_aware": "{field} 没有标明时区",
    "timestamp_out_of_range": "{field} {value} 不在 1900 年到 2199 年之间",
    "posting_count_out_of_range": "共有 {count} 条分录。允许 {minimum} 到 {maximum} 条",
    "batch_too_large": "一批最多 {maximum} 个请求",
    "amount_not_integer": "账户 “{account_id}” 的时长是 {value} 不是整数分钟",
    "amount_not_positive": "账户 “{account_id}” 的时长是 {amount_minutes}。时长必须大于零",
    "amount_too_large": "账户 “{account_id}” 的时长是 {amount_minutes}。最多 {maximum} 分钟",
    "account_repeated": "账户 “{account_id}” 在同一笔交易中出现了不止一次",
    "transaction_unbalanced": "借方 {debits_minutes} 分钟与贷方 {credits_minutes} 分钟不相等",
    "bounds_invalid": "余额范围 [{balance_minutes_min}, {balance_minutes_max}] 有误: {reason}",
    "hold_expiry_not_after_recording": "冻结到期时间 {expires_at} 不晚于记账时间 {recorded_at}",
    "effective_time_after_recording": "生效时间 {effective_at} 晚于记账时间 {recorded_at}",
    "page_size_out_of_range": "每页 {limit} 条。允许 1 到 {maximum} 条",
    # the ledger: something named does not exist
    "book_not_found": "账簿 “{book_id}” 不存在",
    "account_not_found": "本账簿中没有账户 “{account_id}”",
    "transaction_not_found": "本账簿中没有交易 “{transaction_id}”",
    "hold_not_found": "本账簿中没有编号为 “{hold_id}” 的冻结",
    # the ledger: the request clashes with the book's state
    "book_exists": "账簿 “{book_id}” 已存在",
    "account_exists": "账户 “{account_id}” 已存在 且 {field} 与本次不同",
    "account_closed": "账户 “{account_id}” 已关闭",
    "idempotency_conflict": "交易 “{transaction_id}” 首次提交时的 {field} 与本次不同",
    "hold_not_pending": "冻结 “{hold_id}” 已经是 {status} 状态",
    "hold_expired": "冻结 “{hold_id}” 已于 {expires_at} 过期",
    "post_does_not_match_hold": "冻结 “{hold_id}” 与本次扣划不一致: {reason}",
    "post_exceeds_hold": (
        "冻结 “{hold_id}” 为账户 “{account_id}” 冻结了 {held_minutes} 分钟。"
        "本次要扣划 {requested_minutes} 分钟"
    ),
    "transaction_not_reversible": "交易 “{transaction_id}” 是 {kind} 不能冲正",
    "transaction_already_reversed": "交易 “{transaction_id}” 已被 “{reversal_id}” 冲正",
    # the ledger: a balance would leave its bounds
    "insufficient_minutes": (
        "账户 “{account_id}” 可用 {available_minutes} 分钟 (下限 {balance_minutes_min})。"
        "本次需要 {requested_minutes} 分钟"
    ),
    "maximum_balance_exceeded": (
        "账户 “{account_id}” 的余额将达到 {projected_minutes} 分钟。上限是 {balance_minutes_max}"
    ),
    "balance_out_of_range": (
        "账户 “{account_id}” 的余额将达到 {projected_minutes} 分钟。可记录的上限是 {limit}"
    ),
    # the time bank: the request is malformed on its own
    "name_invalid": "姓名须为 1 到 {maximum} 个可显示的字符: “{name}”",
    "birth_date_invalid": "出生日期 {birth_date} 晚于今天或早于 1900 年",
    "record_id_invalid": "{field} 须为 1 到 {maximum} 个字母、数字或 - _ . 符号",
    "text_too_long": "{field} 超过 {maximum} 个字 或含有不可显示的字符",
    "policy_invalid": "规则无法使用: {problems}",
    "category_unknown": "服务类别 “{category}” 不在本规则的类别中",
    "choice_unknown": "{field} “{value}” 不是可选的值。可选: {choices}",
    "service_minutes_out_of_range": (
        "服务时长 {raw_minutes} 分钟超出范围。应在 {minimum} 到 {maximum} 分钟之间"
    ),
    "credit_rounds_to_zero": "“{category}” 服务 {raw_minutes} 分钟 按规则折算后为零",
    "minutes_not_positive": "{field} 须为正整数分钟 而不是 {value}",
    "self_dealing": "会员 “{member_id}” 不能与本人办理: {action}",
    "relation_to_self": "会员 “{member_id}” 不能与本人建立亲属关系",
    "attendees_invalid": "参加人员名单有误: {reason}",
    "reason_required": "{action} 需要填写原因",
    "schedule_invalid": "{field} 有误: {reason}",
    "rating_out_of_range": "评分应为 1 到 5 分 而不是 {rating}",
    "report_period_invalid": "{field} 有误: {reason}",
    # the time bank: something named does not exist
    "member_not_found": "没有会员 “{member_id}”",
    "policy_not_found": "没有第 {version} 版规则",
    "no_active_policy": "账簿 “{book_id}” 尚未启用任何规则",
    "credit_not_found": "没有服务记时记录 “{credit_id}”",
    "redemption_not_found": "没有兑换记录 “{redemption_id}”",
    "event_not_found": "没有活动 “{event_id}”",
    "programme_account_not_found": "没有项目账户 “{account_id}”",
    "proxy_not_found": "“{proxy_id}” 没有代理 “{member_id}” 的有效授权",
    "offer_not_found": "没有服务供给 “{offer_id}”",
    "need_not_found": "没有服务需求 “{need_id}”",
    "order_not_found": "没有服务工单 “{order_id}”",
    "wish_not_found": "没有微心愿 “{wish_id}”",
    "care_file_not_found": "会员 “{member_id}” 没有在办的关爱档案",
    # the time bank: the request clashes with the book's state
    "member_exists": "会员 “{member_id}” 已经登记过了",
    "member_not_active": "会员 “{member_id}” 当前状态为 {status}",
    "relation_exists": "“{member_id}” 与 “{other_id}” 已有亲属关系 ({kind})",
    "policy_not_draft": "第 {version} 版规则当前为 {status}。只有草稿可以启用",
    "actor_not_authorised": "“{actor}” 无权为 “{member_id}” 办理: {action}",
    "self_approval": "“{actor}” 不能办理: {action}。这笔时长记入 “{member_id}” 本人 须由另一方确认",
    "provider_not_eligible": "会员 “{member_id}” 不能提供服务: {reason}",
    "recipient_not_eligible": "会员 “{member_id}” 不能接受服务: {reason}",
    "redemption_age_not_reached": (
        "会员 “{member_id}” 现年 {age} 岁。存时人年满 {age_min} 岁才能兑换"
    ),
    "gift_not_allowed": "“{giver_id}” 不能赠与 “{receiver_id}”: {reason}",
    "group_minutes_only_donated": "会员 “{member_id}” 的团体志愿时长只能捐赠",
    "credit_not_pending": "服务记时 “{credit_id}” 当前为 {status} 不是待确认",
    "credit_not_posted": "服务记时 “{credit_id}” 当前为 {status} 尚未入账",
    "redemption_not_booked": "兑换 “{redemption_id}” 当前为 {status} 不是已预约",
    "merchant_redemption_not_allowed": (
        "按本规则 时长只能兑换服务 不能在商户 “{merchant_id}” 兑换商品"
    ),
    "need_not_open": "服务需求 “{need_id}” 已关闭",
    "idempotency_key_reused": "请求键 “{key}” 已用于另一个不同的请求",
    "order_transition_not_allowed": "工单 “{order_id}” 当前为 {status} 不能办理: {action}",
    "wish_transition_not_allowed": "微心愿 “{wish_id}” 当前为 {status} 不能改为 {action}",
    "bookings_open_at_death": (
        "会员 “{member_id}” 尚有 {held_minutes} 分钟被预约占用、{incoming_minutes} 分钟待确认。"
        "请先办结: {bookings}"
    ),
    # the time bank: a balance would leave the bounds the rules set
    "credit_limit_exceeded": (
        "会员 “{member_id}” 可用 {available_minutes} 分钟 (透支额度 {credit_limit_minutes})。"
        "本次需要 {requested_minutes} 分钟"
    ),
    "stored_minutes_cap_exceeded": (
        "会员 “{member_id}” 已存 {stored_minutes} 分钟 上限 {cap_minutes} 分钟。"
        "不能再存入 {requested_minutes} 分钟"
    ),
}
