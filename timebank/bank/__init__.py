"""The facade an embedding application calls: ``TimeBank`` and its ``BankBook`` per programme.

bank = TimeBank()                      # or TimeBank.open("timebank.db")
gulou = bank.create_book("gulou", "nanjing")
li = gulou.register_member(name="李娜", birth_date=date(1958, 3, 2),
                           community="gulou", roles={Role.VOLUNTEER}, actor=SYSTEM)
"""

from timebank.bank.accounts import (
    GUARANTEE,
    ISSUANCE,
    POOL,
    member_account,
    merchant_account,
    sponsor_account,
)
from timebank.bank.care import (
    VisitsDue,
)
from timebank.bank.facade import (
    SYSTEM,
    BankBook,
    TimeBank,
)
from timebank.bank.orders import (
    DeadlineRun,
)
from timebank.bank.passbook_print import PrintedLine, PrintedPassbook
from timebank.bank.programme import (
    MinutesExpiry,
)
from timebank.bank.records import (
    Programme,
)
from timebank.bank.reports import (
    CohortLiability,
    ForecastYear,
    GapLine,
    InactiveMember,
    LiabilityForecast,
    OrderReport,
    OrderStats,
    Rate,
    VolunteerOfMonth,
    WishAdoption,
)
from timebank.bank.statements import (
    MemberBalance,
)
from timebank.bank.viewer import (
    admin_actor,
)

__all__ = [
    "GUARANTEE",
    "ISSUANCE",
    "POOL",
    "SYSTEM",
    "BankBook",
    "CohortLiability",
    "DeadlineRun",
    "ForecastYear",
    "GapLine",
    "InactiveMember",
    "LiabilityForecast",
    "MemberBalance",
    "MinutesExpiry",
    "OrderReport",
    "OrderStats",
    "PrintedLine",
    "PrintedPassbook",
    "Programme",
    "Rate",
    "TimeBank",
    "VisitsDue",
    "VolunteerOfMonth",
    "WishAdoption",
    "admin_actor",
    "member_account",
    "merchant_account",
    "sponsor_account",
]
