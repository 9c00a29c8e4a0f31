"""View decorators: `@login_required` (401 without a signed-in user), `@role_required`
(403 without one of the roles), `@allow_anonymous` (served without the gate too)."""

from functools import wraps

from django.http import JsonResponse


def _unauthenticated():
    return JsonResponse({"error": "unauthenticated", "reason": "not_signed_in"}, status=401)


def login_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        s = getattr(request, "sessiongate", None)
        if s is None or s.user is None:
            return _unauthenticated()
        return view(request, *args, **kwargs)

    return wrapper


def role_required(*roles):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            s = getattr(request, "sessiongate", None)
            if s is None or s.user is None:
                return _unauthenticated()
            if not any(r in s.roles for r in roles):
                return JsonResponse({"error": "forbidden", "reason": "role_required"}, status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def allow_anonymous(view):
    """Served without an assertion too (public pages), with request.sessiongate None."""
    view.sessiongate_anonymous = True
    return view
