"""The example application of the Django kit: its own login form, a page showing the
identity, a password change, a step-up for a sensitive page and a logout, in one file.
Behind the gate: ORIGIN_URL points here. Configuration from the environment: PORT,
SESSIONGATE_AUDIENCE, and SESSIONGATE_JWKS_URL or SESSIONGATE_SECRET.

    python example/app.py        # runserver on 127.0.0.1:$PORT
"""

import os
import sys
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
    INSTALLED_APPS=[],
    # No CsrfViewMiddleware: the gate refuses cross-site unsafe requests itself (Origin
    # and Sec-Fetch-Site), and the forms carry no Django session to protect.
    MIDDLEWARE=[] if DIFFERENTIAL else ["sessiongate_django.SessiongateMiddleware"],
    SESSIONGATE={},  # JWKS_URL / SECRET / AUDIENCE from the environment
)

from django.http import HttpResponse, HttpResponseRedirect, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.http import require_http_methods  # noqa: E402

import sessiongate_django as sg  # noqa: E402

# A user store stands in for the application's database (passwords in clear only here).
USERS = {
    "alice": {"password": "wonderland", "roles": ["user", "admin"]},
    "bob": {"password": "builder", "roles": ["user"]},
}


def check_password(user, password):
    return user in USERS and USERS[user]["password"] == password


LOGIN_FORM = """<!doctype html><title>Sign in</title>
<form method="post" action="/login">
  <label>User <input name="username" autocomplete="username"></label>
  <label>Password <input name="password" type="password" autocomplete="current-password"></label>
  <button>Sign in</button>
</form>"""


@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.method == "GET":
        return HttpResponse(LOGIN_FORM)
    username, password = request.POST.get("username"), request.POST.get("password")
    if not check_password(username, password):
        return JsonResponse({"error": "invalid_credentials"}, status=401)
    response = HttpResponseRedirect("/app", status=303)
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


urlpatterns = [
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

    execute_from_command_line([sys.argv[0], "runserver", f"127.0.0.1:{os.environ.get('PORT', '8000')}", "--noreload"])
