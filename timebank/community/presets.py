"""Policy presets of real programmes, written from their published rules.

Each function returns a ``PolicyRules``; ``preset(name)`` looks one up by name.
Where a programme publishes no number (a category list, a rounding step) the
preset picks a plain default and says so.

- ``nanjing``: deposit-style; hours are minted for service to the elderly;
  savers redeem from 60; 1,500 h cap with the overflow donated to the pool;
  group volunteers' hours can only be donated; gifts to the spouse or to lineal
  relatives aged 60+; two-level vetting; confirmation required; the guarantee
  fund grants only to key elderly (80+ living alone, or 60+ on minimum income
  and disabled); hours buy services only, not goods.
- ``shanghai``: 1 hour = 1 time coin; recipients 65+; providers 18+ (younger
  only in groups, from 14); coins can be given to relatives or friends.
- ``hangzhou_xihu``: points; 5 starting points; 1 service earns 1 point and
  being helped costs 1; points pass to family.
- ``ruian``: 0.5 h steps (rounded down); app check-in hours need confirmation,
  hours confirmed by the organisation or recipient do not.
- ``timeoverflow``: mutual credit; members pay each other directly and may go
  20 h below zero; no age rules.
"""

from __future__ import annotations

from collections.abc import Callable

from timebank.community.errors import PolicyInvalid
from timebank.community.policy import GrantEligibility, PolicyRules, Rounding

__all__ = [
    "PRESETS",
    "SERVICE_CATEGORIES",
    "hangzhou_xihu",
    "nanjing",
    "preset",
    "ruian",
    "shanghai",
    "timeoverflow",
]

HOUR = 60

SERVICE_CATEGORIES = (
    "companionship",
    "daily_care",
    "errands",
    "cleaning",
    "meals",
    "health",
    "repairs",
    "haircut",
    "tutoring",
    "legal_aid",
    "culture",
    "community",
)
"""The default categories.

陪伴, 生活照料, 代办, 保洁, 助餐, 健康, 维修, 理发, 辅导, 法律, 文体, 公益.
"""

LINEAL = frozenset({"parent", "child", "grandparent", "grandchild"})
FAMILY = LINEAL | {"spouse", "sibling"}


def nanjing() -> PolicyRules:
    return PolicyRules(
        name="Nanjing time bank (2019)",
        categories=SERVICE_CATEGORIES,
        provider_age_min=18,
        provider_vetting_required=True,
        provider_vetting_street=True,
        recipient_age_min=60,
        redeem_age_min=60,
        payer_default="issuance",
        stored_minutes_max=1_500 * HOUR,
        overflow_account="pool",
        group_minutes_donate_only=True,
        gift_relations=LINEAL | {"spouse"},
        gift_receiver_age_min=60,
        gift_receiver_age_exempt_relations=frozenset({"spouse"}),
        confirmation_required=True,
        merchant_redemption=False,
        guarantee_grants_to=(
            GrantEligibility(age_min=80, flags=frozenset({"living_alone"})),
            GrantEligibility(age_min=60, flags=frozenset({"low_income", "disabled"})),
        ),
    )


def shanghai() -> PolicyRules:
    return PolicyRules(
        name="Shanghai time bank",
        unit_name="time coin",
        categories=SERVICE_CATEGORIES,
        provider_age_min=18,
        provider_age_min_in_group=14,
        recipient_age_min=65,
        payer_default="issuance",
        gift_relations=FAMILY | {"friend"},
        confirmation_required=True,
    )


def hangzhou_xihu() -> PolicyRules:
    return PolicyRules(
        name="Hangzhou Xihu time bank",
        unit_name="point",
        categories=SERVICE_CATEGORIES,
        flat_credit_minutes=HOUR,
        starting_grant_minutes=5 * HOUR,
        provider_age_min=18,
        payer_default="recipient",
        gift_relations=FAMILY,
    )


def ruian() -> PolicyRules:
    return PolicyRules(
        name="Ruian time bank",
        categories=SERVICE_CATEGORIES,
        rounding_step_minutes=30,
        rounding=Rounding.DOWN,
        provider_age_min=18,
        payer_default="issuance",
        confirmation_required=True,
    )


def timeoverflow() -> PolicyRules:
    return PolicyRules(
        name="Mutual-credit time bank (TimeOverflow style)",
        provider_age_min=16,
        payer_default="recipient",
        credit_limit_minutes=20 * HOUR,
        gift_relations=frozenset(),
    )


PRESETS: dict[str, Callable[[], PolicyRules]] = {
    "hangzhou_xihu": hangzhou_xihu,
    "nanjing": nanjing,
    "ruian": ruian,
    "shanghai": shanghai,
    "timeoverflow": timeoverflow,
}


def preset(name: str) -> PolicyRules:
    """The rules of a named preset; ``PolicyInvalid`` for an unknown name."""
    make = PRESETS.get(name)
    if make is None:
        raise PolicyInvalid(problems=f"no preset {name!r}; presets: {', '.join(PRESETS)}")
    return make()
