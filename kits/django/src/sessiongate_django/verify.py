"""Verifies what the gate stamped on a request, as the README's origin contract says:
X-Session-Assertion (signature through the gate's JWKS with PyJWT's PyJWKClient, or the
HS256 secret; iss, aud, exp, iat, htm equal to the request's method, htu its path and query) and X-Session-Data
against the assertion's data_sha256. Identity comes from the signed claims only."""

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from urllib.parse import unquote

import jwt

ISSUER = "sessiongate"
LEEWAY_SECONDS = 5
# The longest span exp - iat accepted: the gate issues assertions for 60 s.
MAX_LIFETIME_SECONDS = 60

# WARNING: seen by default (Python's last-resort handler, Django's runserver console).
log = logging.getLogger("sessiongate")


def quoted(v):
    """A value as a short quoted text for a log line (claims are unverified input there)."""
    try:
        s = json.dumps(v)
    except (TypeError, ValueError):
        s = repr(v)
    return s if len(s) <= 80 else s[:77] + "..."


class SessiongateError(Exception):
    """Why a request is refused: `status` 401, or 503 when the JWKS cannot be fetched."""

    def __init__(self, reason, message, status=401, detail=None):
        super().__init__(message)
        self.reason = reason
        self.status = status
        # What was expected and what came (`aud: expected "a", got "b"`): logs only.
        self.detail = detail or message

    @property
    def body(self):
        return {"error": "sessiongate_unavailable" if self.status == 503 else "unauthenticated", "reason": self.reason}


@dataclass(frozen=True)
class Identity:
    user: str | None
    roles: list
    session_id: str | None
    auth_time: int | None
    elevated_until: int | None
    data: dict
    binding: str | None
    claims: dict = field(repr=False)
    device_bound: bool = False

    @classmethod
    def from_claims(cls, c, data):
        user = c.get("sub")
        return cls(
            user=user,
            roles=list(c.get("roles") or []) if user is not None else [],
            session_id=c.get("sid"),
            auth_time=c.get("auth_time"),
            elevated_until=c.get("elev"),
            data=data,
            binding=(c.get("bind") or "ok") if user is not None else None,
            claims=c,
            device_bound=user is not None and c.get("device_bound") is True,
        )


def _digest(raw):
    # WSGI gives header values as latin-1 text: these are the bytes that were sent.
    return base64.urlsafe_b64encode(hashlib.sha256(raw.encode("latin-1")).digest()).rstrip(b"=").decode()


_ORIGIN = re.compile(r"^[a-z][a-z0-9+.-]*://[^/?#]*", re.IGNORECASE)


def _split(url):
    rest = _ORIGIN.sub("", url).split("#", 1)[0]
    path, _, query = rest.partition("?")
    return path, query


def query_parts(query):
    """A raw query's name/value pairs, each percent-decoded on its own: an escaped `&` or
    `=` (`%26`, `%3D`) stays part of its name or value, never a separator."""
    if not query:
        return []
    return [tuple(unquote(x) for x in p.split("=", 1)) for p in query.split("&")]


def _target(url):
    """The path (decoded: WSGI gives PATH_INFO decoded) and the query's pairs of a URL."""
    path, query = _split(url)
    return unquote(path), query_parts(query)


def target_of(path, raw_query):
    """What `verify(target=...)` takes for a request: its decoded path, its raw query."""
    return path, query_parts(raw_query)


def log_path(url):
    return _split(url)[0][:200]


class Verifier:
    """`Verifier(jwks_url=... | secret=..., audience=...)`; `verify(method, header)` where
    `header(name)` gives a header's value or None."""

    def __init__(
        self, jwks_url=None, secret=None, audience=None, issuer=ISSUER, algorithms=None, leeway=LEEWAY_SECONDS, check_url=True
    ):
        if jwks_url is None and secret is None:
            jwks_url = os.environ.get("SESSIONGATE_JWKS_URL") or None
            secret = None if jwks_url else (os.environ.get("SESSIONGATE_SECRET") or None)
        audience = audience or os.environ.get("SESSIONGATE_AUDIENCE")
        if (jwks_url is None) == (secret is None):
            raise ValueError(
                "sessiongate: give exactly one of JWKS_URL (the gate's /.sessiongate/jwks.json, ES256/EdDSA) "
                "or SECRET (ORIGIN_SECRET, HS256)"
            )
        # The origin's own host, never the request's Host header (whoever reaches the
        # origin directly sets that to another origin's name).
        if not audience:
            raise ValueError("sessiongate: AUDIENCE (the origin's host as the gate's ORIGIN_URL names it) is required")
        self.audience = audience
        self.check_url = check_url
        self.issuer = issuer
        self.leeway = leeway
        if jwks_url is not None:
            # Caches the key set; an unknown kid refetches it once (a key rotation).
            self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=10)
            self._secret = None
            self.algorithms = algorithms or ["ES256", "EdDSA"]
        else:
            self._jwks = None
            self._secret = secret.encode() if isinstance(secret, str) else secret
            self.algorithms = algorithms or ["HS256"]

    def _key(self, token):
        if self._jwks is None:
            return self._secret
        try:
            return self._jwks.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError as e:
            raise SessiongateError("jwks_unavailable", "the gate's JWKS could not be fetched", status=503, detail=f"jwks: {e}") from e
        except jwt.PyJWKClientError as e:
            kid = _header(token).get("kid")
            raise _invalid(f"kid: no key of the gate's JWKS has kid {quoted(kid)} ({e})") from e

    def verify(self, method, header, target=None):
        """`target`: the request's (path, query pairs), from `target_of`, compared with the
        assertion's htu so that a captured assertion cannot be replayed to another page."""
        token = header("X-Session-Assertion")
        if not token:
            raise SessiongateError(
                "missing_assertion",
                "no X-Session-Assertion: the request did not come through the gate",
                detail="no X-Session-Assertion header: the request did not come through the gate",
            )
        try:
            claims = self._decode(token)
        except SessiongateError:
            raise
        except jwt.PyJWTError as e:
            raise _invalid(_pyjwt_detail(e, token, self.algorithms)) from e
        except (TypeError, ValueError, KeyError, AttributeError) as e:
            # Whatever the header held (a kid that is not a string, an alg of another key
            # type): the client's 401, never a 500.
            raise _invalid(f"malformed: {type(e).__name__}") from e
        self._check_claims(claims, method, target)
        raw = header("X-Session-Data")
        claimed = claims.get("data_sha256")
        if (raw is None) != (claimed is None) or (
            raw is not None and not (isinstance(claimed, str) and hmac.compare_digest(_digest(raw), claimed))
        ):
            got = "no X-Session-Data" if raw is None else "X-Session-Data"
            want = "without the claim" if claimed is None else "does not match the claim"
            raise SessiongateError("data_mismatch", "X-Session-Data does not match the assertion", detail=f"data_sha256: {got} {want}")
        return Identity.from_claims(claims, json.loads(raw) if raw is not None else {})

    def _decode(self, token):
        claims = jwt.decode(
            token,
            self._key(token),
            algorithms=self.algorithms,
            leeway=self.leeway,
            # iss and aud are checked below, to say what was expected and what came.
            options={"require": ["exp", "iat", "iss", "aud", "htm"], "verify_aud": False, "verify_iss": False},
        )
        if not isinstance(claims, dict):
            raise _invalid("malformed: the claims are not an object")
        return claims

    def _check_claims(self, claims, method, target):
        if claims["iss"] != self.issuer:
            raise _invalid(f"iss: expected {quoted(self.issuer)}, got {quoted(claims['iss'])}")
        # Only the one expected string: the gate never issues an array.
        if not isinstance(claims["aud"], str) or claims["aud"] != self.audience:
            raise _invalid(f"aud: expected {quoted(self.audience)}, got {quoted(claims['aud'])}")
        iat, exp = claims["iat"], claims["exp"]
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (iat, exp)):
            raise _invalid("iat, exp: not numbers")
        now = int(time.time())
        if iat > now + self.leeway:
            raise _invalid(f"iat: issued in the future ({iat}, now {now})")
        if exp - iat > MAX_LIFETIME_SECONDS:
            raise _invalid(f"exp: a lifetime of {exp - iat} s, expected at most {MAX_LIFETIME_SECONDS} s")
        if claims["htm"] != method:
            raise SessiongateError(
                "method_mismatch",
                "X-Session-Assertion was issued for another method",
                detail=f"htm: expected {quoted(method)}, got {quoted(claims['htm'])}",
            )
        if self.check_url and target is not None:
            htu = claims.get("htu")
            if not isinstance(htu, str) or _target(htu) != target:
                got = log_path(htu) if isinstance(htu, str) else htu
                raise SessiongateError(
                    "url_mismatch",
                    "X-Session-Assertion was issued for another URL",
                    detail=f"htu: expected the path and query of {quoted(target[0][:200])}, got {quoted(got)}",
                )


def _invalid(detail):
    return SessiongateError("invalid_assertion", f"X-Session-Assertion refused ({detail.split(':')[0]})", detail=detail)


def _header(token):
    try:
        h = jwt.get_unverified_header(token)
        return h if isinstance(h, dict) else {}
    except Exception:  # noqa: BLE001 - only for a log line
        return {}


def _pyjwt_detail(e, token, algorithms):
    h = _header(token)
    if isinstance(e, jwt.InvalidAlgorithmError):
        return f"alg: expected one of {quoted(algorithms)}, got {quoted(h.get('alg'))}"
    if isinstance(e, jwt.InvalidSignatureError):
        return f"signature: not made by the configured key (alg {quoted(h.get('alg'))}, kid {quoted(h.get('kid'))})"
    if isinstance(e, jwt.ExpiredSignatureError):
        return f"exp: expired, now {int(time.time())}"
    if isinstance(e, jwt.MissingRequiredClaimError):
        return f"{e.claim}: missing"
    if isinstance(e, jwt.DecodeError):
        return f"malformed: {e}"
    return f"{type(e).__name__}: {e}"


def log_refusal(err, method, path):
    """The refusal's reason, with what was expected and what came: the method and path,
    never the query or the token."""
    # WSGI decodes the path: control characters (%0A) are escaped, one refusal one line.
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in path[:200])
    log.warning("sessiongate: %s %s for %s %s: %s", err.status, err.reason, method, shown, err.detail)
