"""The smallest Django application on the installed sessiongate-django wheel (tier 6,
tests/kits/install.test.mjs): run from a fresh virtualenv outside the repository."""

import os
import sys

from django.conf import settings

settings.configure(
    SECRET_KEY="smoke-only",
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=["sessiongate_django.SessiongateMiddleware"],
    SESSIONGATE={},
)

from django.http import HttpResponse, HttpResponseRedirect, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402

import sessiongate_django as sg  # noqa: E402


def login_view(request):
    if request.method == "GET":
        return HttpResponse("<form method=post></form>")
    if request.POST.get("password") != "pw":
        return JsonResponse({"error": "invalid_credentials"}, status=401)
    response = HttpResponseRedirect(sg.safe_return_to(request.POST.get("return_to"), "/app"))
    response.status_code = 303
    return sg.login(response, user=request.POST["username"], roles=["user"])


@sg.login_required
def app_view(request):
    return JsonResponse({"user": request.sessiongate.user, "roles": request.sessiongate.roles, "kit": "django"})


def logout_view(request):
    return sg.logout(JsonResponse({"signed_out": True}))


urlpatterns = [path("login", login_view), path("app", app_view), path("logout", logout_view)]

if __name__ == "__main__":
    assert "site-packages" in sg.__file__, f"the kit comes from the installed wheel, not {sg.__file__}"
    from django.core.management import execute_from_command_line

    execute_from_command_line([sys.argv[0], "runserver", f"127.0.0.1:{os.environ['PORT']}", "--noreload"])
