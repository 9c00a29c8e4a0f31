"""Verifies what the gate stamped on a request, as the README's origin contract says:
X-Session-Assertion (signature through the gate's JWKS with PyJWT's PyJWKClient, or the
HS256 secret; iss, aud, exp, iat, htm equal to the request's method, htu its path and query) and X-Session-Data
against the assertion's data_sha256. Identity comes from the signed claims only."""

import base64
import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

import jwt

ISSUER = "sessiongate"
LEEWAY_SECONDS = 5


class SessiongateError(Exception):
    """Why a request is refused: `status` 401, or 503 when the JWKS cannot be fetched."""

    def __init__(self, reason, message, status=401):
        super().__init__(message)
        self.reason = reason
        self.status = status

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
        )


def _digest(raw):
    # WSGI gives header values as latin-1 text: these are the bytes that were sent.
    return base64.urlsafe_b64encode(hashlib.sha256(raw.encode("latin-1")).digest()).rstrip(b"=").decode()


_ORIGIN = re.compile(r"^[a-z][a-z0-9+.-]*://[^/?#]*", re.IGNORECASE)


def _target(url):
    """Path and query of an absolute URL or a request target, percent-decoded."""
    rest = _ORIGIN.sub("", url).split("#", 1)[0]
    path, _, query = rest.partition("?")
    return unquote(path), unquote(query)


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
            raise SessiongateError("jwks_unavailable", "the gate's JWKS could not be fetched", status=503) from e
        except (jwt.PyJWKClientError, jwt.DecodeError) as e:
            raise SessiongateError("invalid_assertion", f"X-Session-Assertion refused ({type(e).__name__})") from e

    def verify(self, method, header, target=None):
        """`target`: the request's (path, query), percent-decoded, compared with the
        assertion's htu so that a captured assertion cannot be replayed to another page."""
        token = header("X-Session-Assertion")
        if not token:
            raise SessiongateError("missing_assertion", "no X-Session-Assertion: the request did not come through the gate")
        key = self._key(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "htm"]},
            )
        except jwt.InvalidTokenError as e:
            raise SessiongateError("invalid_assertion", f"X-Session-Assertion refused ({type(e).__name__})") from e
        if claims["htm"] != method:
            raise SessiongateError("method_mismatch", "X-Session-Assertion was issued for another method")
        if self.check_url and target is not None:
            htu = claims.get("htu")
            if not isinstance(htu, str) or _target(htu) != target:
                raise SessiongateError("url_mismatch", "X-Session-Assertion was issued for another URL")
        raw = header("X-Session-Data")
        claimed = claims.get("data_sha256")
        if (raw is None) != (claimed is None) or (
            raw is not None and not (isinstance(claimed, str) and hmac.compare_digest(_digest(raw), claimed))
        ):
            raise SessiongateError("data_mismatch", "X-Session-Data does not match the assertion")
        return Identity.from_claims(claims, json.loads(raw) if raw is not None else {})
