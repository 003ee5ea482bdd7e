"""The HTTP API: a thin Litestar layer over ``timebank.bank``.

from timebank.api import ApiSettings, create_app
app = create_app(TimeBank.open("timebank.db"), ApiSettings(token_secret=...))
"""

from timebank.api.app import create_app
from timebank.api.auth import Principal, Role, issue_token
from timebank.api.settings import ApiSettings

__all__ = ["ApiSettings", "Principal", "Role", "create_app", "issue_token"]
