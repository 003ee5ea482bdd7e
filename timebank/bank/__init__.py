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
from timebank.bank.events import (
    MinutesExpiry,
)
from timebank.bank.facade import (
    SYSTEM,
    BankBook,
    TimeBank,
)
from timebank.bank.passbook import (
    MemberBalance,
)
from timebank.bank.records import (
    Programme,
)

__all__ = [
    "GUARANTEE",
    "ISSUANCE",
    "POOL",
    "SYSTEM",
    "BankBook",
    "MemberBalance",
    "MinutesExpiry",
    "Programme",
    "TimeBank",
    "member_account",
    "merchant_account",
    "sponsor_account",
]
