"""`request.sessiongate` for every request, verified by the middleware.

Settings (all optional where the environment has them):
    SESSIONGATE = {
        "JWKS_URL": ...,     # or "SECRET": ORIGIN_SECRET (HS256); env SESSIONGATE_JWKS_URL / _SECRET
        "AUDIENCE": ...,     # the host of the gate's ORIGIN_URL; env SESSIONGATE_AUDIENCE
        "ANONYMOUS": False,  # True: requests without any assertion pass with request.sessiongate = None
        "DATA_BYTES": 8000,  # the gate's SESSION_DATA_MAX
        "CHECK_URL": True,   # False: skip comparing path and query with htu (a path-rewriting proxy)
    }
A view decorated with @allow_anonymous is served without an assertion too (with
request.sessiongate = None); one that is present but invalid is refused everywhere.
"""

from django.conf import settings
from django.http import JsonResponse

from .verify import SessiongateError, Verifier, log_refusal, target_of


def refusal(err):
    response = JsonResponse(err.body, status=err.status)
    response["Cache-Control"] = "no-store"
    return response


class SessiongateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        conf = getattr(settings, "SESSIONGATE", {})
        self.verifier = Verifier(
            jwks_url=conf.get("JWKS_URL"),
            secret=conf.get("SECRET"),
            audience=conf.get("AUDIENCE"),
            algorithms=conf.get("ALGORITHMS"),
            check_url=conf.get("CHECK_URL", True),
        )
        self.anonymous = bool(conf.get("ANONYMOUS", False))

    def __call__(self, request):
        request.sessiongate = None
        request.sessiongate_missing = False
        try:
            # request.path: SCRIPT_NAME + PATH_INFO (WSGI decodes it); the query as sent.
            target = target_of(request.path, request.META.get("QUERY_STRING", ""))
            request.sessiongate = self.verifier.verify(request.method, request.headers.get, target)
        except SessiongateError as err:
            if err.reason != "missing_assertion":
                log_refusal(err, request.method, request.path)
                return refusal(err)
            request.sessiongate_missing = err
        response = self.get_response(request)
        commands = getattr(response, "sessiongate_commands", None)
        if commands is not None:
            # The view could not know whether the request was signed in; this can.
            commands.check_sequence(bool(request.sessiongate and request.sessiongate.user))
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        missing = request.sessiongate_missing
        if missing and not self.anonymous and not getattr(view_func, "sessiongate_anonymous", False):
            log_refusal(missing, request.method, request.path)
            return refusal(missing)
        return None
