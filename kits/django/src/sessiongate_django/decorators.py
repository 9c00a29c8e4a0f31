"""View decorators on the gate's identity (request.sessiongate): `@login_required`
(without a signed-in user: a navigation goes to settings.LOGIN_URL with ?next=, as
Django's own does; anything else gets 401 JSON), `@role_required` (403 without one of the
roles), `@allow_anonymous` (served without the gate too). With SessiongateAuthMiddleware,
Django's own `django.contrib.auth.decorators` work on request.user as well."""

from functools import wraps

from django.conf import settings
from django.http import JsonResponse

from .return_to import redirect_to_login


def _navigation(request):
    """A browser loading a page (not fetch/XHR), as the gate tells them apart."""
    mode = request.headers.get("Sec-Fetch-Mode")
    if mode is not None:
        return mode == "navigate"
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and "application/json" not in accept.split(",")[0]


def _unauthenticated(request):
    if _navigation(request):
        return redirect_to_login(request.get_full_path(), getattr(settings, "LOGIN_URL", "/login"))
    return JsonResponse({"error": "unauthenticated", "reason": "not_signed_in"}, status=401)


def login_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        s = getattr(request, "sessiongate", None)
        if s is None or s.user is None:
            return _unauthenticated(request)
        return view(request, *args, **kwargs)

    return wrapper


def role_required(*roles):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            s = getattr(request, "sessiongate", None)
            if s is None or s.user is None:
                return _unauthenticated(request)
            if not any(r in s.roles for r in roles):
                return JsonResponse({"error": "forbidden", "reason": "role_required"}, status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def allow_anonymous(view):
    """Served without an assertion too (public pages), with request.sessiongate None."""
    view.sessiongate_anonymous = True
    return view
