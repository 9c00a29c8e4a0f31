"""Views for Django's own sign-in entry points behind the gate: the admin site's login
sends the browser to the application's LOGIN_URL (the gate holds the session, Django's
login form has nothing to do), and its logout ends the gate's session.

    from django.contrib import admin
    import sessiongate_django.views as sg_views
    admin.site.login = sg_views.login_redirect
    admin.site.logout = sg_views.logout
"""

from django.conf import settings
from django.http import HttpResponseForbidden, HttpResponseNotAllowed, HttpResponseRedirect
from django.utils.html import escape

from .commands import logout as logout_command
from .return_to import redirect_to_login, safe_return_to


def login_redirect(request, extra_context=None):
    """To settings.LOGIN_URL with ?next= (the page asked for, when a local path)."""
    nxt = safe_return_to(request.GET.get("next"), "/")
    if request.user.is_authenticated:
        # Signed in, yet sent here: the page needs what this user lacks (is_staff, a
        # permission). Signing in again would not change that, nor loop back here.
        return HttpResponseForbidden(f"Signed in as {escape(request.user.get_username())}, without access to this page.")
    return redirect_to_login(nxt, settings.LOGIN_URL)


def logout(request, extra_context=None):
    """POST: ends the gate's session and goes to LOGOUT_REDIRECT_URL (else LOGIN_URL)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    target = getattr(settings, "LOGOUT_REDIRECT_URL", None) or settings.LOGIN_URL
    response = HttpResponseRedirect(target)
    response.status_code = 303
    return logout_command(response)
