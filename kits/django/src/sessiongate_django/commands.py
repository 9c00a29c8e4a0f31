"""X-Session-Command, checked exactly as the gate's src/core/command.rs checks it, so a
command the gate would refuse with 502 invalid_origin_command raises CommandError in
the view that wrote it instead."""

import json
import math
import re

LIMITS = {
    "header_bytes": 64 * 1024,
    "user_bytes": 256,
    "roles": 64,
    "role_bytes": 64,
    "commands": 8,
    "data_depth": 32,
    "data_bytes": 8000,  # the gate's SESSION_DATA_MAX default
}


class CommandError(TypeError):
    def __init__(self, message):
        super().__init__(f"sessiongate command: {message}")


# Rust's char::is_control (Unicode Cc) and char::is_whitespace (White_Space), which the
# gate uses; Python's str.isspace() and strip() differ (U+001C..U+001F, U+FEFF...).
_CONTROL = re.compile("[\u0000-\u001f\u007f-\u009f]")
_WS = "\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_EDGE_WS = re.compile(f"^[{_WS}]|[{_WS}]$")


def _well_formed(s):
    try:
        s.encode("utf-8")
        return True
    except UnicodeEncodeError:  # a lone surrogate
        return False


def _clean_text(what, s, max_bytes):
    if not isinstance(s, str):
        raise CommandError(f"{what} must be a string")
    if s == "":
        raise CommandError(f"{what} is empty")
    if not _well_formed(s):
        raise CommandError(f"{what} is not valid Unicode (a lone surrogate)")
    if len(s.encode("utf-8")) > max_bytes:
        raise CommandError(f"{what} is longer than {max_bytes} bytes")
    if _CONTROL.search(s):
        raise CommandError(f"{what} contains control characters")
    if _EDGE_WS.search(s):
        raise CommandError(f"{what} starts or ends with whitespace")


def _check_roles(roles):
    if not isinstance(roles, (list, tuple)):
        raise CommandError("roles must be an array of strings")
    if len(roles) > LIMITS["roles"]:
        raise CommandError(f"more than {LIMITS['roles']} roles")
    for r in roles:
        _clean_text("a role", r, LIMITS["role_bytes"])
        if "," in r:
            raise CommandError("a role contains a comma (X-Session-Roles is comma-separated)")


def _depth(v, path):
    """JSON depth as the gate counts it; refuses what is not JSON as it is."""
    if isinstance(v, str):
        if not _well_formed(v):
            raise CommandError(f"{path} is not valid Unicode (a lone surrogate)")
        return 0
    if v is None or isinstance(v, bool):
        return 0
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            raise CommandError(f"{path} is not a finite number")
        return 0
    if isinstance(v, (list, tuple)):
        return 1 + max((_depth(x, f"{path}[{i}]") for i, x in enumerate(v)), default=0)
    if isinstance(v, dict):
        return 1 + _object_depth(v, path)
    raise CommandError(f"{path} is not JSON ({type(v).__name__})")


def _object_depth(o, path):
    d = 0
    for k, x in o.items():
        if not isinstance(k, str):
            raise CommandError(f"a key of {path} is not a string")
        if not _well_formed(k):
            raise CommandError(f"a key of {path} is not valid Unicode")
        d = max(d, _depth(x, f"{path}.{k[:32]}"))
    return d


def ascii_json(v):
    """JSON with every non-ASCII or DEL character escaped: the gate's `ascii_json`."""
    return json.dumps(v, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def check_data(data, data_bytes=LIMITS["data_bytes"]):
    if not isinstance(data, dict):
        raise CommandError("data must be an object")
    depth = 1 + _object_depth(data, "data")
    if depth > LIMITS["data_depth"]:
        raise CommandError(f"data is nested {depth} levels deep, more than {LIMITS['data_depth']}")
    size = len(ascii_json(data))
    if size > data_bytes:
        raise CommandError(
            f"data is {size} bytes as the X-Session-Data header, more than the {data_bytes} allowed (SESSION_DATA_MAX)"
        )


_FIELDS = {
    "login": {"user": True, "roles": False, "data": False, "persistent": False},
    "set_data": {"data": True},
    "regenerate": {"reason": True, "roles": False},
    "logout": {},
    "elevate": {},
    "logout_others": {},
    "logout_all": {},
}
_ACTIONS = ", ".join(_FIELDS)
_NEEDS_SESSION = {"regenerate", "elevate", "logout_others", "logout_all"}


def check_command(cmd, data_bytes=LIMITS["data_bytes"]):
    """Checks one wire command ({"action": ..., fields}) as the gate would."""
    if not isinstance(cmd, dict):
        raise CommandError("a command is a JSON object")
    action = cmd.get("action")
    if not isinstance(action, str):
        raise CommandError('"action" must be a string')
    spec = _FIELDS.get(action)
    if spec is None:
        raise CommandError(f"unknown action; accepted: {_ACTIONS}")
    for name in cmd:
        if name != "action" and name not in spec:
            raise CommandError(f"{action}: unknown field {json.dumps(str(name)[:32])}")
    for name, required in spec.items():
        if required and name not in cmd:
            raise CommandError(f'{action}: missing "{name}"')
    if action == "login":
        _clean_text("user", cmd["user"], LIMITS["user_bytes"])
        if "roles" in cmd:
            _check_roles(cmd["roles"])
        if cmd.get("data") is not None:
            check_data(cmd["data"], data_bytes)
        if "persistent" in cmd and not isinstance(cmd["persistent"], bool):
            raise CommandError('login: "persistent" must be true or false')
    elif action == "set_data":
        check_data(cmd["data"], data_bytes)
    elif action == "regenerate":
        roles = cmd.get("roles")
        if cmd["reason"] == "permission_change":
            if roles is None:
                raise CommandError('permission_change needs "roles"')
            _check_roles(roles)
        elif cmd["reason"] == "password_change":
            if roles is not None:
                raise CommandError('password_change takes no "roles"')
        else:
            raise CommandError("unknown regenerate reason; accepted: password_change, permission_change")


class CommandList:
    """The commands of one response, in order, each checked when added. `signed_in`:
    whether the request has a signed-in session (None: not known yet; the middleware
    checks the sequence when the response leaves)."""

    def __init__(self, signed_in=None, data_bytes=LIMITS["data_bytes"]):
        self.items = []
        self.signed_in = signed_in
        self.data_bytes = data_bytes

    def add(self, cmd):
        check_command(cmd, self.data_bytes)
        if len(self.items) >= LIMITS["commands"]:
            raise CommandError(f"more than {LIMITS['commands']} commands")
        header = ascii_json([*self.items, cmd])
        if len(header) > LIMITS["header_bytes"]:
            raise CommandError(f"command is longer than {LIMITS['header_bytes']} bytes")
        if self.signed_in is not None:
            self.signed_in = _sequence(self.signed_in, [cmd])
        self.items.append(cmd)
        return header

    def check_sequence(self, signed_in):
        """`regenerate`, `elevate`, `logout_others` and `logout_all` need a signed-in session."""
        _sequence(signed_in, self.items)

    def header(self):
        return ascii_json(self.items)


def _sequence(signed_in, cmds):
    for c in cmds:
        action = c["action"]
        if action in _NEEDS_SESSION and not signed_in:
            raise CommandError(f"{action} needs a signed-in session and the request has none")
        if action == "login":
            signed_in = True
        elif action in ("logout", "logout_all"):
            signed_in = False
    return signed_in


HEADER = "X-Session-Command"


def _data_bytes():
    """SESSIONGATE["DATA_BYTES"] when Django's settings are there (this module runs without)."""
    try:
        from django.conf import settings

        return getattr(settings, "SESSIONGATE", {}).get("DATA_BYTES", LIMITS["data_bytes"])
    except Exception:  # no Django, or settings not configured: the gate's default
        return LIMITS["data_bytes"]


def _append(response, cmd):
    lst = getattr(response, "sessiongate_commands", None)
    if lst is None:
        lst = CommandList(data_bytes=_data_bytes())
        response.sessiongate_commands = lst
    response[HEADER] = lst.add(cmd)
    return response


_UNSET = object()


def login(response, user, roles=(), data=_UNSET, persistent=False):
    cmd = {"action": "login", "user": user, "roles": list(roles) if isinstance(roles, tuple) else roles}
    if data is not _UNSET:
        cmd["data"] = data
    cmd["persistent"] = persistent
    return _append(response, cmd)


def logout(response):
    return _append(response, {"action": "logout"})


def regenerate(response, roles=None, reason=None):
    """With `roles`: a permission change (roles replaced); without: a password change."""
    reason = reason or ("password_change" if roles is None else "permission_change")
    cmd = {"action": "regenerate", "reason": reason}
    if roles is not None:
        cmd["roles"] = list(roles) if isinstance(roles, tuple) else roles
    return _append(response, cmd)


def elevate(response):
    return _append(response, {"action": "elevate"})


def set_data(response, data):
    return _append(response, {"action": "set_data", "data": data})


def logout_others(response):
    return _append(response, {"action": "logout_others"})


def logout_all(response):
    return _append(response, {"action": "logout_all"})
