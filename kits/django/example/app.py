"""The example application of the Django kit: its own login form, a page showing the
identity, a password change, a step-up for a sensitive page and a logout, in one file.
Behind the gate: ORIGIN_URL points here. Configuration from the environment: PORT,
SESSIONGATE_AUDIENCE, and SESSIONGATE_JWKS_URL or SESSIONGATE_SECRET.

    python example/app.py        # runserver on 127.0.0.1:$PORT
"""

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from django.conf import settings  # noqa: E402

# Test-only routes for tests/differential/ (see differential.py); off unless asked for.
DIFFERENTIAL = os.environ.get("SESSIONGATE_DIFFERENTIAL") == "1"

settings.configure(
    DEBUG=False,
    SECRET_KEY="example-only-not-secret",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "django.contrib.messages",
        "django.contrib.admin",
    ],
    # SESSIONGATE_DIFFERENTIAL=1 (tests/differential only): no middleware at all, so the
    # tier sees what Django itself dispatches behind the gate, not the kit's own checks.
    MIDDLEWARE=[]
    if DIFFERENTIAL
    else [
        "sessiongate_django.SessiongateMiddleware",  # request.sessiongate, verified
        "django.middleware.csrf.CsrfViewMiddleware",  # Django's CSRF stays on (README: "CSRF")
        "sessiongate_django.auth.SessiongateAuthMiddleware",  # request.user, a real user
        "django.contrib.messages.middleware.MessageMiddleware",
    ],
    AUTHENTICATION_BACKENDS=["sessiongate_django.auth.SessiongateBackend"],
    SESSIONGATE={  # JWKS_URL / SECRET / AUDIENCE from the environment
        "CREATE_USERS": True,
        "ROLE_GROUPS": True,
        "CREATE_GROUPS": True,
        "STAFF_ROLES": ["admin"],
    },
    LOGIN_URL="/login",
    # The gate's X-Forwarded-Host is the host the browser asked for: Django's CSRF origin
    # check compares the browser's Origin with it (or list the gate's public origin in
    # CSRF_TRUSTED_ORIGINS instead).
    USE_X_FORWARDED_HOST=True,
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    # No Django session: the gate holds it (messages go in a cookie).
    MESSAGE_STORAGE="django.contrib.messages.storage.cookie.CookieStorage",
    # The admin wants the auth and messages middleware, which the differential mode leaves out.
    SILENCED_SYSTEM_CHECKS=["admin.E410"] + (["admin.E408", "admin.E409"] if DIFFERENTIAL else []),
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(tempfile.mkdtemp(), "db.sqlite3")}},
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    TEMPLATES=[
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "APP_DIRS": True,
            "OPTIONS": {
                "context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages",
                ]
            },
        }
    ],
    STATIC_URL="/static/",
)

import django  # noqa: E402

django.setup()

from django.contrib import admin  # noqa: E402
from django.contrib.auth.decorators import login_required, permission_required  # noqa: E402
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse  # noqa: E402
from django.middleware.csrf import get_token  # noqa: E402
from django.urls import path  # noqa: E402
from django.utils.html import escape  # noqa: E402
from django.views.decorators.http import require_http_methods  # noqa: E402

import sessiongate_django as sg  # noqa: E402
import sessiongate_django.views as sg_views  # noqa: E402

# A user store stands in for the application's database (passwords in clear only here).
USERS = {
    "alice": {"password": "wonderland", "roles": ["user", "admin"]},
    "bob": {"password": "builder", "roles": ["user"]},
}


def check_password(user, password):
    return user in USERS and USERS[user]["password"] == password


LOGIN_FORM = """<!doctype html><title>Sign in</title>
<form method="post" action="/login">
  <input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">
  <input type="hidden" name="return_to" value="{return_to}">
  <label>User <input name="username" autocomplete="username"></label>
  <label>Password <input name="password" type="password" autocomplete="current-password"></label>
  <button>Sign in</button>
</form>"""


@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.method == "GET":
        # The gate's ?return_to= or Django's ?next=, carried through the form.
        return HttpResponse(LOGIN_FORM.format(csrf=get_token(request), return_to=escape(sg.return_to(request, "/app"))))
    username, password = request.POST.get("username"), request.POST.get("password")
    if not check_password(username, password):
        return JsonResponse({"error": "invalid_credentials"}, status=401)
    response = HttpResponseRedirect(sg.return_to(request, "/app"))
    response.status_code = 303
    return sg.login(response, user=username, roles=USERS[username]["roles"], data={"theme": "dark"})


def identity(s):
    return {
        "user": s.user,
        "roles": s.roles,
        "sessionId": s.session_id,
        "authTime": s.auth_time,
        "elevatedUntil": s.elevated_until,
        "data": s.data,
        "binding": s.binding,
        "deviceBound": s.device_bound,
    }


@sg.login_required
def app_view(request):
    return JsonResponse(identity(request.sessiongate))


@require_http_methods(["POST"])
@sg.login_required
def password_view(request):
    user = request.sessiongate.user
    if not check_password(user, request.POST.get("current_password")):
        return JsonResponse({"error": "invalid_credentials"}, status=403)
    USERS[user]["password"] = request.POST.get("new_password")
    response = JsonResponse({"password_changed": True})
    sg.regenerate(response)  # the session gets a new ID
    sg.logout_others(response)  # and the user's other sessions end
    return response


@require_http_methods(["POST"])
@sg.login_required
def reauth_view(request):
    if not check_password(request.sessiongate.user, request.POST.get("password")):
        return JsonResponse({"error": "invalid_credentials"}, status=403)
    return sg.elevate(JsonResponse({"elevated": True}))


@sg.role_required("admin")  # and SENSITIVE_PATHS=/admin on the gate: only an elevated session gets here
def admin_view(request):
    s = request.sessiongate
    return JsonResponse({"sensitive": True, "user": s.user, "elevatedUntil": s.elevated_until})


@require_http_methods(["POST"])
@sg.login_required
def rename_view(request):
    s = request.sessiongate
    user = request.POST.get("user")
    response = JsonResponse({"renamed": user})
    try:
        sg.login(response, user=user, roles=s.roles, data=s.data)
    except sg.CommandError as e:  # raised here, before the gate would refuse it with 502
        return JsonResponse({"error": "invalid_command", "detail": str(e)}, status=400)
    return response


@require_http_methods(["POST"])
def logout_view(request):
    return sg.logout(JsonResponse({"signed_out": True}))


@sg.allow_anonymous
def public_view(request):
    s = request.sessiongate
    return JsonResponse({"user": s.user if s else None})


# Django's own decorators on request.user (SessiongateAuthMiddleware and the backend).
@login_required
def members_view(request):
    u = request.user
    return JsonResponse(
        {
            "user": u.get_username(),
            "groups": sorted(g.name for g in u.groups.all()),
            "is_staff": u.is_staff,
            "can_view_users": u.has_perm("auth.view_user"),
        }
    )


@permission_required("auth.view_user", raise_exception=True)
def reports_view(request):
    return JsonResponse({"report": "users", "count": request.user.__class__.objects.count()})


@require_http_methods(["POST"])
def csrf_probe_view(request):
    """A plain form target under Django's CSRF (no sessiongate decorator)."""
    return JsonResponse({"accepted": True})


def grant_permissions():
    """The application's own choice: the group `admin` (the gate's role) may view users."""
    from django.contrib.auth.models import Group, Permission
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    group, _ = Group.objects.get_or_create(name="admin")
    group.permissions.add(Permission.objects.get(codename="view_user", content_type__app_label="auth"))


# The admin site behind the gate: its login sends to LOGIN_URL, its logout ends the gate's session.
admin.site.login = sg_views.login_redirect
admin.site.logout = sg_views.logout

urlpatterns = [
    path("members", members_view),
    path("reports", reports_view),
    path("csrf-probe", csrf_probe_view),
    path("django-admin/", admin.site.urls),
    path("login", login_view),
    path("app", app_view),
    path("password", password_view),
    path("reauth", reauth_view),
    path("admin", admin_view),
    path("rename", rename_view),
    path("logout", logout_view),
    path("public", public_view),
]
if DIFFERENTIAL:
    from differential import urlpatterns as differential_urls  # noqa: E402

    urlpatterns = differential_urls + urlpatterns

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    grant_permissions()
    execute_from_command_line([sys.argv[0], "runserver", f"127.0.0.1:{os.environ.get('PORT', '8000')}", "--noreload"])
