"""Test-only (tests/differential/, on with SESSIONGATE_DIFFERENTIAL=1, never by default):
URL patterns that report what Django dispatched, the handler, the method and the path, in
an `X-Differential` response header (base64url JSON {h, m, p}; a header, so HEAD answers
carry it too). With them on, app.py leaves the kit's middleware out: the differential tier
measures the gate's reading alone, and the kit knows nothing of SENSITIVE_PATHS anyway.
"""

import base64
import json

from django.http import HttpResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt


def report(handler):
    @csrf_exempt
    def view(request, **_kwargs):
        seen = {"h": handler, "m": request.method, "p": request.path}
        body = json.dumps(seen)
        response = HttpResponse(body, content_type="application/json")
        response["X-Differential"] = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
        return response

    return view


urlpatterns = [
    path("account/<str:id>", report("account")),
    path("vault", report("vault")),
    path("vault/<path:rest>", report("vault")),
    path("pub/<str:x>", report("pub")),
    # Everything else but the sign-in the tier needs: a handler the configuration protects.
    re_path(r"^(?!login$).*", report("other")),
]
