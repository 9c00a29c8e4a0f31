"""sessiongate for Django: verify what the gate sends, write what the application tells it.

    MIDDLEWARE = [..., "sessiongate_django.SessiongateMiddleware"]
    SESSIONGATE = {"JWKS_URL": "https://app.example.com/.sessiongate/jwks.json", "AUDIENCE": "origin.example.com"}
"""

from .commands import (
    LIMITS,
    CommandError,
    CommandList,
    check_command,
    elevate,
    login,
    logout,
    logout_all,
    logout_others,
    regenerate,
    set_data,
)
from .decorators import allow_anonymous, login_required, role_required
from .middleware import SessiongateMiddleware
from .return_to import return_to, safe_return_to
from .verify import Identity, SessiongateError, Verifier


# Need django.contrib.auth installed: imported when first named (the settings name them
# as sessiongate_django.auth.*).
def __getattr__(name):
    if name in ("SessiongateBackend", "SessiongateAuthMiddleware"):
        from . import auth

        return getattr(auth, name)
    raise AttributeError(name)


__all__ = [
    "LIMITS",
    "CommandError",
    "CommandList",
    "Identity",
    "SessiongateError",
    "SessiongateMiddleware",
    "Verifier",
    "allow_anonymous",
    "check_command",
    "elevate",
    "login",
    "login_required",
    "logout",
    "logout_all",
    "logout_others",
    "regenerate",
    "return_to",
    "role_required",
    "safe_return_to",
    "set_data",
]
