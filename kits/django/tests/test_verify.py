"""The Django kit's verifier without the gate: tokens PyJWT signs here (HS256, and ES256
with a JWKS served on loopback) with each way to be wrong. The kit behind the real gate:
tests/kits/django.test.mjs."""

import base64
import hashlib
import json
import sys
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sessiongate_django.verify import SessiongateError, Verifier, target_of  # noqa: E402

SECRET = "test-origin-secret-0123456789abcdef-01234"
AUD = "origin.example"


def claims(**over):
    now = int(time.time())
    c = {"iss": "sessiongate", "aud": AUD, "iat": now, "exp": now + 60, "htm": "GET", "htu": "http://origin.example/app",
         "sub": "alice", "sid": "A" * 22, "roles": ["user"], "auth_time": now - 10}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def digest(s):
    return base64.urlsafe_b64encode(hashlib.sha256(s.encode()).digest()).rstrip(b"=").decode()


def headers(token, data=None):
    h = {"X-Session-Assertion": token}
    if data is not None:
        h["X-Session-Data"] = data
    return h.get


def reason(verifier, method, header):
    try:
        verifier.verify(method, header)
        return None
    except SessiongateError as e:
        return e.reason


class Hs256(unittest.TestCase):
    v = Verifier(secret=SECRET, audience=AUD)

    def sign(self, **over):
        return jwt.encode(claims(**over), SECRET, algorithm="HS256")

    def test_valid_identity_from_claims(self):
        data = '{"theme":"dark"}'
        s = self.v.verify("GET", headers(self.sign(data_sha256=digest(data), elev=int(time.time()) + 60), data))
        self.assertEqual((s.user, s.roles, s.session_id, s.binding, s.data), ("alice", ["user"], "A" * 22, "ok", {"theme": "dark"}))
        self.assertIsNotNone(s.elevated_until)
        anon = self.v.verify("GET", headers(self.sign(sub=None, roles=None, auth_time=None)))
        self.assertEqual((anon.user, anon.roles, anon.binding), (None, [], None))

    def test_each_refusal(self):
        data = '{"theme":"dark"}'
        cases = [
            ("missing_assertion", "GET", lambda n: None),
            ("invalid_assertion", "GET", lambda n: {"X-Session-Assertion": "x.y.z"}.get(n)),
            ("invalid_assertion", "GET", headers(jwt.encode(claims(), "another-secret-another-secret-0123", algorithm="HS256"))),
            ("invalid_assertion", "GET", headers(self.sign(iss="someone"))),
            ("invalid_assertion", "GET", headers(self.sign(aud="other.example"))),
            ("invalid_assertion", "GET", headers(self.sign(exp=int(time.time()) - 10))),
            ("invalid_assertion", "GET", headers(self.sign(iat=int(time.time()) + 120))),
            ("invalid_assertion", "GET", headers(self.sign(htm=None))),
            ("method_mismatch", "POST", headers(self.sign())),
            ("data_mismatch", "GET", headers(self.sign(data_sha256=digest(data)), data.replace("dark", "lite"))),
            ("data_mismatch", "GET", headers(self.sign(data_sha256=digest(data)))),
            ("data_mismatch", "GET", headers(self.sign(), data)),
        ]
        for want, method, header in cases:
            with self.subTest(want):
                self.assertEqual(reason(self.v, method, header), want)
        none = jwt.encode(claims(), None, algorithm="none")
        self.assertEqual(reason(self.v, "GET", headers(none)), "invalid_assertion")


class Url(unittest.TestCase):
    def test_path_and_query_must_be_the_assertions(self):
        v = Hs256.v
        token = jwt.encode(claims(htu="http://origin.example/caf%C3%A9?q=a%20b"), SECRET, algorithm="HS256")
        self.assertEqual(v.verify("GET", headers(token), target_of("/café", "q=a%20b")).user, "alice")
        self.assertEqual(v.verify("GET", headers(token), target_of("/café", "q=a b")).user, "alice")
        for target in [("/admin", "q=a%20b"), ("/café", ""), ("/café/", "q=a%20b"), ("/x/../café", "q=a%20b")]:
            with self.subTest(target):
                with self.assertRaises(SessiongateError) as cm:
                    v.verify("GET", headers(token), target_of(*target))
                self.assertEqual(cm.exception.reason, "url_mismatch")
        unchecked = Verifier(secret=SECRET, audience=AUD, check_url=False)
        self.assertEqual(unchecked.verify("GET", headers(token), target_of("/admin", "")).user, "alice")

    def test_escaped_separators_stay_escaped(self):
        # The review's case: an assertion for /app?a=1&b=2 must not pass at /app?a%3D1&b=2.
        v = Hs256.v
        token = jwt.encode(claims(htu="http://origin.example/app?a=1&b=2"), SECRET, algorithm="HS256")
        self.assertEqual(v.verify("GET", headers(token), target_of("/app", "a=1&b=2")).user, "alice")
        for query in ["a%3D1&b=2", "a=1%26b=2", "a=1&b%3D2", "b=2&a=1"]:
            with self.subTest(query):
                with self.assertRaises(SessiongateError) as cm:
                    v.verify("GET", headers(token), target_of("/app", query))
                self.assertEqual(cm.exception.reason, "url_mismatch")


def raw_token(header, payload, sig=b"sig"):
    enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    h = header if isinstance(header, bytes) else json.dumps(header).encode()
    return f"{enc(h)}.{enc(json.dumps(payload).encode())}.{enc(sig)}"


class ReviewHeaders(unittest.TestCase):
    """Issue 25 item 5: malformed headers are the kit's 401, never an uncaught error."""

    def bad_headers(self, key):
        return [
            {"alg": "ES256", "kid": 5},
            {"alg": "ES256", "kid": {"a": 1}},
            {"alg": "ES256", "kid": "k1", "crit": ["x-unknown"], "x-unknown": 1},
            {"alg": "EdDSA", "kid": "k1"},
            {"alg": 5},
            [],
            b"not json",
            {"alg": "HS256", "kid": "k1"},
        ]

    def test_each_bad_header_is_invalid_assertion(self):
        for v in (Hs256.v, Es256Jwks.v):
            for h in self.bad_headers(None):
                with self.subTest(verifier=v.algorithms, header=h):
                    self.assertEqual(reason(v, "GET", headers(raw_token(h, claims()))), "invalid_assertion")
        # Signed for real, with a crit the kit does not know.
        token = jwt.encode(claims(), Es256Jwks.key, algorithm="ES256", headers={"kid": "k1", "crit": ["x-unknown"], "x-unknown": 1})
        self.assertEqual(reason(Es256Jwks.v, "GET", headers(token)), "invalid_assertion")

    def test_aud_only_as_the_expected_string(self):
        for aud in [[AUD], [AUD, "other"], 5, None]:
            with self.subTest(aud=aud):
                token = jwt.encode(claims(aud=aud), SECRET, algorithm="HS256")
                self.assertEqual(reason(Hs256.v, "GET", headers(token)), "invalid_assertion")

    def test_lifetime_is_capped(self):
        now = int(time.time())
        ok = jwt.encode(claims(iat=now, exp=now + 60), SECRET, algorithm="HS256")
        self.assertEqual(Hs256.v.verify("GET", headers(ok)).user, "alice")
        long = jwt.encode(claims(iat=now, exp=now + 61), SECRET, algorithm="HS256")
        with self.assertRaises(SessiongateError) as cm:
            Hs256.v.verify("GET", headers(long))
        self.assertEqual(cm.exception.detail, "exp: a lifetime of 61 s, expected at most 60 s")

    def test_refusal_says_what_was_expected_and_got(self):
        token = jwt.encode(claims(aud="127.0.0.1"), SECRET, algorithm="HS256")
        with self.assertRaises(SessiongateError) as cm:
            Hs256.v.verify("GET", headers(token))
        self.assertEqual(cm.exception.detail, 'aud: expected "origin.example", got "127.0.0.1"')
        with self.assertLogs("sessiongate", "WARNING") as logs:
            from sessiongate_django.verify import log_refusal

            log_refusal(cm.exception, "GET", "/app")
        self.assertEqual(
            logs.output, ['WARNING:sessiongate:sessiongate: 401 invalid_assertion for GET /app: aud: expected "origin.example", got "127.0.0.1"']
        )

    def test_log_line_escapes_a_decoded_path(self):
        from sessiongate_django.verify import log_refusal

        err = SessiongateError("missing_assertion", "m", detail="d")
        with self.assertLogs("sessiongate", "WARNING") as logs:
            log_refusal(err, "GET", "/a\nsessiongate: forged line")
        self.assertEqual(logs.output, ["WARNING:sessiongate:sessiongate: 401 missing_assertion for GET /a\\nsessiongate: forged line: d"])

    def test_device_bound_is_exposed(self):
        for value, want in [(True, True), (None, False), ("true", False)]:
            token = jwt.encode(claims(device_bound=value), SECRET, algorithm="HS256")
            self.assertIs(Hs256.v.verify("GET", headers(token)).device_bound, want)


class Es256Jwks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.key = ec.generate_private_key(ec.SECP256R1())
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(cls.key.public_key()))
        jwk.update(kid="k1", alg="ES256", use="sig")
        body = json.dumps({"keys": [jwk]}).encode()
        cls.fetches = 0

        class H(BaseHTTPRequestHandler):
            def do_GET(self):
                cls.fetches += 1
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.v = Verifier(jwks_url=f"http://127.0.0.1:{cls.server.server_address[1]}/.sessiongate/jwks.json", audience=AUD)

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()

    def test_verified_through_the_jwks(self):
        token = jwt.encode(claims(), self.key, algorithm="ES256", headers={"kid": "k1"})
        self.assertEqual(self.v.verify("GET", headers(token)).user, "alice")
        self.v.verify("GET", headers(token))
        self.assertEqual(self.fetches, 1, "the key set is cached")

    def test_other_keys_and_algorithms_refused(self):
        other = ec.generate_private_key(ec.SECP256R1())
        for token in [
            jwt.encode(claims(), other, algorithm="ES256", headers={"kid": "k1"}),
            jwt.encode(claims(), other, algorithm="ES256", headers={"kid": "unknown"}),
            jwt.encode(claims(), SECRET, algorithm="HS256", headers={"kid": "k1"}),
        ]:
            self.assertEqual(reason(self.v, "GET", headers(token)), "invalid_assertion")

    def test_unreachable_jwks_is_503(self):
        v = Verifier(jwks_url="http://127.0.0.1:9/.sessiongate/jwks.json", audience=AUD)
        token = jwt.encode(claims(), self.key, algorithm="ES256", headers={"kid": "k1"})
        with self.assertRaises(SessiongateError) as cm:
            v.verify("GET", headers(token))
        self.assertEqual((cm.exception.status, cm.exception.reason), (503, "jwks_unavailable"))


class Configuration(unittest.TestCase):
    def test_needs_one_key_source_and_an_audience(self):
        import os

        saved = {k: os.environ.pop(k) for k in ("SESSIONGATE_JWKS_URL", "SESSIONGATE_SECRET", "SESSIONGATE_AUDIENCE") if k in os.environ}
        try:
            with self.assertRaisesRegex(ValueError, "exactly one of"):
                Verifier(audience=AUD)
            with self.assertRaisesRegex(ValueError, "exactly one of"):
                Verifier(secret="s", jwks_url="http://x/", audience=AUD)
            with self.assertRaisesRegex(ValueError, "AUDIENCE"):
                Verifier(secret="s")
        finally:
            os.environ.update(saved)


if __name__ == "__main__":
    unittest.main()
