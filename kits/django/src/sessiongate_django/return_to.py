"""Where to send the browser after a sign-in: the gate's `return_to` (the page a visitor
without a session asked for, which the gate puts on LOGIN_URL) when it is a path on this
site, else a fallback. The gate's own rules (src/core/oidc/flow.rs, safe_return_to): one
leading `/`, never `//host` or `/\\host`, no control characters, whitespace or backslashes
(browsers drop tabs and newlines, turning `/\\t/evil` into `//evil`), at most 2048
characters."""

import unicodedata
from urllib.parse import urlencode

from django.http import HttpResponseRedirect

MAX_RETURN_TO = 2048


def safe_return_to(raw, fallback="/"):
    if not isinstance(raw, str):
        return fallback
    ok = (
        raw.startswith("/")
        and not raw.startswith("//")
        and not raw.startswith("/\\")
        and len(raw) <= MAX_RETURN_TO
        and not any(c == "\\" or c.isspace() or unicodedata.category(c) == "Cc" for c in raw)
    )
    return raw if ok else fallback


def return_to(request, fallback="/"):
    """Where the sign-in goes back to: the gate's `return_to` or Django's `next` (the login
    form's hidden field, or still in the query), when a local path."""
    for source in (request.POST, request.GET):
        for name in ("return_to", "next"):
            if source.get(name):
                return safe_return_to(source.get(name), fallback)
    return fallback


def redirect_to_login(next_path, login_url):
    """As django.contrib.auth.views.redirect_to_login (`LOGIN_URL?next=<path>`), without
    needing django.contrib.auth installed."""
    sep = "&" if "?" in login_url else "?"
    return HttpResponseRedirect(f"{login_url}{sep}{urlencode({'next': next_path})}")
