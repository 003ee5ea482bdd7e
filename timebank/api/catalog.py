"""Titles of every problem in English and Chinese, and Chinese detail templates.

``TITLES`` maps a problem code to its (English, Chinese) title; ``ZH_DETAILS``
maps a domain error's code to a Chinese template over the same fields as the
error's English ``template``.
"""

from __future__ import annotations

__all__ = ["TITLES", "ZH_DETAILS"]

TITLES: dict[str, tuple[str, str]] = {
    "request_malformed": ("The request is malformed", "请求格式有误"),
    "not_authenticated": ("A valid bearer token is needed", "需要有效的访问令牌"),
    "forbidden": ("Not allowed", "无权执行此操作"),
    "not_found": ("Not found", "未找到"),
    "method_not_allowed": ("Method not allowed", "不支持该请求方法"),
    "request_too_large": ("The request is too large", "请求内容过大"),
    "unsupported_media_type": ("Unsupported media type", "不支持的内容类型"),
    "too_many_requests": ("Too many requests", "请求过于频繁"),
    "store_unavailable": ("The database is unavailable", "数据库暂时不可用"),
    "internal_error": ("Internal error", "服务器内部错误"),
}

ZH_DETAILS: dict[str, str] = {}
