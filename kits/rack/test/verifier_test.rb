# frozen_string_literal: true

# The Rack kit's verifier and middleware without the gate: tokens the jwt gem signs here
# (HS256, and ES256 through a JWKS served on loopback) with each way to be wrong. The kit
# behind the real gate: tests/kits/rack.test.mjs.
require "minitest/autorun"
require "socket"
require "rack"
require "rack/mock"
require "stringio"
require "logger"
require "sessiongate/rack"
require "sessiongate/rails"

SECRET = "test-origin-secret-0123456789abcdef-01234"
AUD = "origin.example"

def claims(**over)
  now = Time.now.to_i
  c = { "iss" => "sessiongate", "aud" => AUD, "iat" => now, "exp" => now + 60, "htm" => "GET", "htu" => "http://origin.example/app",
        "sub" => "alice", "sid" => "A" * 22, "roles" => ["user"], "auth_time" => now - 10 }
  c.merge(over.transform_keys(&:to_s)).compact
end

def digest(s) = Base64.urlsafe_encode64(Digest::SHA256.digest(s), padding: false)

def reason(verifier, method, headers)
  verifier.verify(method, ->(n) { headers[n] })
  nil
rescue Sessiongate::Error => e
  e.reason
end

class Hs256Test < Minitest::Test
  V = Sessiongate::Verifier.new(secret: SECRET, audience: AUD)

  def sign(**over) = JWT.encode(claims(**over), SECRET, "HS256")

  def test_identity_from_claims
    data = '{"theme":"dark"}'
    s = V.verify("GET", ->(n) { { "X-Session-Assertion" => sign(data_sha256: digest(data)), "X-Session-Data" => data }[n] })
    assert_equal ["alice", ["user"], "A" * 22, "ok", { "theme" => "dark" }], [s.user, s.roles, s.session_id, s.binding, s.data]
    anon = V.verify("GET", ->(n) { { "X-Session-Assertion" => sign(sub: nil, roles: nil, auth_time: nil) }[n] })
    assert_equal [nil, [], nil], [anon.user, anon.roles, anon.binding]
  end

  def test_each_refusal
    data = '{"theme":"dark"}'
    now = Time.now.to_i
    [
      ["missing_assertion", "GET", {}],
      ["invalid_assertion", "GET", { "X-Session-Assertion" => "x.y.z" }],
      ["invalid_assertion", "GET", { "X-Session-Assertion" => JWT.encode(claims, "another-secret-another-secret-0123", "HS256") }],
      ["invalid_assertion", "GET", { "X-Session-Assertion" => JWT.encode(claims, nil, "none") }],
      ["invalid_assertion", "GET", { "X-Session-Assertion" => sign(iss: "someone") }],
      ["invalid_assertion", "GET", { "X-Session-Assertion" => sign(aud: "other.example") }],
      ["invalid_assertion", "GET", { "X-Session-Assertion" => sign(exp: now - 10) }],
      ["invalid_assertion", "GET", { "X-Session-Assertion" => sign(iat: now + 120) }],
      ["invalid_assertion", "GET", { "X-Session-Assertion" => sign(htm: nil) }],
      ["method_mismatch", "POST", { "X-Session-Assertion" => sign }],
      ["data_mismatch", "GET", { "X-Session-Assertion" => sign(data_sha256: digest(data)), "X-Session-Data" => data.sub("dark", "lite") }],
      ["data_mismatch", "GET", { "X-Session-Assertion" => sign(data_sha256: digest(data)) }],
      ["data_mismatch", "GET", { "X-Session-Assertion" => sign, "X-Session-Data" => data }]
    ].each { |want, method, headers| assert_equal want, reason(V, method, headers), want }
  end

  def test_middleware_refuses_and_sends_commands
    app = Sessiongate::Middleware.new(lambda { |env|
      Sessiongate.elevate(env) if env["PATH_INFO"] == "/elevate"
      [200, {}, [env["sessiongate"]&.user.to_s]]
    }, secret: SECRET, audience: AUD, anonymous_paths: ["/public"], logger: nil)
    res = Rack::MockRequest.new(app).get("/app")
    assert_equal [401, '{"error":"unauthenticated","reason":"missing_assertion"}'], [res.status, res.body]
    res = Rack::MockRequest.new(app).get("/public")
    assert_equal [200, ""], [res.status, res.body]
    res = Rack::MockRequest.new(app).get("/public", "HTTP_X_SESSION_ASSERTION" => "x.y.z")
    assert_equal 401, res.status
    res = Rack::MockRequest.new(app).get("/elevate", "HTTP_X_SESSION_ASSERTION" => sign(htu: "http://origin.example/elevate"))
    assert_equal [200, "alice", '[{"action":"elevate"}]'], [res.status, res.body, res.headers["x-session-command"]]
    res = Rack::MockRequest.new(app).post("/app", "HTTP_X_SESSION_ASSERTION" => sign)
    assert_equal '{"error":"unauthenticated","reason":"method_mismatch"}', res.body
  end
end

class UrlTest < Minitest::Test
  def test_path_and_query_must_be_the_assertions
    token = JWT.encode(claims(htu: "http://origin.example/caf%C3%A9?q=a%20b"), SECRET, "HS256")
    h = ->(n) { { "X-Session-Assertion" => token }[n] }
    target = ->(raw) { Sessiongate::Verifier.target(raw) }
    assert_equal "alice", Hs256Test::V.verify("GET", h, target.call("/caf%c3%a9?q=a b")).user
    ["/admin?q=a%20b", "/caf%C3%A9", "/caf%C3%A9/?q=a%20b", "/x/../caf%C3%A9?q=a%20b"].each do |raw|
      err = assert_raises(Sessiongate::Error) { Hs256Test::V.verify("GET", h, target.call(raw)) }
      assert_equal "url_mismatch", err.reason, raw
    end
    unchecked = Sessiongate::Verifier.new(secret: SECRET, audience: AUD, check_url: false)
    assert_equal "alice", unchecked.verify("GET", h, target.call("/admin")).user
  end
end

class Es256JwksTest < Minitest::Test
  KEY = OpenSSL::PKey::EC.generate("prime256v1")
  JWKS = JSON.generate({ keys: [JWT::JWK.new(KEY, kid: "k1").export] })

  def setup
    @server = TCPServer.new("127.0.0.1", 0)
    @fetches = 0
    @thread = Thread.new do
      loop do
        s = @server.accept
        s.gets("\r\n\r\n")
        @fetches += 1
        s.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: #{JWKS.bytesize}\r\nconnection: close\r\n\r\n#{JWKS}")
        s.close
      end
    rescue IOError
      nil
    end
    @v = Sessiongate::Verifier.new(jwks_url: "http://127.0.0.1:#{@server.addr[1]}/.sessiongate/jwks.json", audience: AUD)
  end

  def teardown
    @server.close
    @thread.join(5)
  end

  def test_verified_through_the_jwks_and_cached
    token = JWT.encode(claims, KEY, "ES256", { kid: "k1" })
    assert_equal "alice", @v.verify("GET", ->(n) { { "X-Session-Assertion" => token }[n] }).user
    @v.verify("GET", ->(n) { { "X-Session-Assertion" => token }[n] })
    assert_equal 1, @fetches
  end

  def test_other_keys_and_algorithms_refused
    other = OpenSSL::PKey::EC.generate("prime256v1")
    [JWT.encode(claims, other, "ES256", { kid: "k1" }), JWT.encode(claims, other, "ES256", { kid: "nope" }),
     JWT.encode(claims, SECRET, "HS256", { kid: "k1" })].each do |t|
      assert_equal "invalid_assertion", reason(@v, "GET", { "X-Session-Assertion" => t })
    end
  end

  def test_unreachable_jwks_is_503
    v = Sessiongate::Verifier.new(jwks_url: "http://127.0.0.1:9/.sessiongate/jwks.json", audience: AUD)
    err = assert_raises(Sessiongate::Error) { v.verify("GET", ->(_) { JWT.encode(claims, KEY, "ES256", { kid: "k1" }) }) }
    assert_equal [503, "jwks_unavailable"], [err.status, err.reason]
  end
end

# Sessiongate::Controller in a real ActionController (Debian's ruby-rails), called as Rack
# apps; the whole Rails application behind the gate: tests/kits/rails.test.mjs.
require "action_controller"

class GuardedController < ActionController::Base
  include Sessiongate::Controller
  sessiongate_role_guard :admin_only!, "admin"
  before_action :admin_only!, only: [:audit]
  before_action :authenticate_sessiongate_user!, only: [:show]

  def show = render(plain: current_sessiongate_user.user)
  def audit = render(plain: "audit")

  def change
    sessiongate_regenerate(roles: %w[user admin])
    sessiongate_logout_others
    render plain: "changed"
  end
end

class ControllerTest < Minitest::Test
  def call(action, identity, accept: "application/json")
    env = Rack::MockRequest.env_for("/", "HTTP_ACCEPT" => accept)
    env["sessiongate"] = identity
    GuardedController.action(action).call(env).then { |status, headers, body| [status, headers, body.each.to_a.join, env] }
  end

  def test_guards_and_commands
    bob = Sessiongate::Identity.new(user: "bob", roles: ["user"])
    assert_equal [401, '{"error":"unauthenticated","reason":"not_signed_in"}'], call(:show, nil).values_at(0, 2)
    status, headers, = call(:show, nil, accept: "text/html")
    assert_equal [302, "http://example.org/login?return_to=%2F"], [status, headers["Location"]]
    assert_equal [200, "bob"], call(:show, bob).values_at(0, 2)
    assert_equal [403, '{"error":"forbidden","reason":"role_required"}'], call(:audit, bob).values_at(0, 2)
    assert_equal [200, "audit"], call(:audit, Sessiongate::Identity.new(user: "alice", roles: ["admin"])).values_at(0, 2)
    *, env = call(:change, bob)
    assert_equal '[{"action":"regenerate","reason":"permission_change","roles":["user","admin"]},{"action":"logout_others"}]',
                 env["sessiongate.commands"].header
  end
end

# Issue 25 item 5 and 7: malformed headers are the kit's 401, never an uncaught error;
# htu compared component by component; aud only as the expected string; exp - iat capped.
class ReviewTest < Minitest::Test
  def raw_token(header, payload)
    enc = ->(s) { Base64.urlsafe_encode64(s, padding: false) }
    "#{enc.(header.is_a?(String) ? header : JSON.generate(header))}.#{enc.(JSON.generate(payload))}.#{enc.('sig')}"
  end

  def test_bad_headers_are_invalid_assertion
    jwks = Es256JwksTest.new("x").tap(&:setup)
    headers = [[], { "alg" => 5 }, { "alg" => "ES256", "kid" => 5 }, { "alg" => "ES256", "kid" => { "a" => 1 } },
               { "alg" => "EdDSA", "kid" => "k1" }, "not json", { "alg" => nil }, { "alg" => ["ES256"] }]
    [Hs256Test::V, jwks.instance_variable_get(:@v)].each do |v|
      headers.each do |h|
        assert_equal "invalid_assertion", reason(v, "GET", { "X-Session-Assertion" => raw_token(h, claims) }), "#{h.inspect}"
      end
    end
  ensure
    jwks&.teardown
  end

  def test_middleware_answers_401_for_the_reviews_headers
    logged = StringIO.new
    app = Sessiongate::Middleware.new(->(_env) { [200, {}, ["ok"]] }, secret: SECRET, audience: AUD, logger: Logger.new(logged))
    [[], { "alg" => 5 }].each do |h|
      res = Rack::MockRequest.new(app).get("/app", "HTTP_X_SESSION_ASSERTION" => raw_token(h, claims))
      assert_equal [401, '{"error":"unauthenticated","reason":"invalid_assertion"}'], [res.status, res.body]
    end
    assert_match(/sessiongate: 401 invalid_assertion for GET \/app: malformed/, logged.string)
  end

  def test_escaped_separators_stay_escaped
    token = JWT.encode(claims(htu: "http://origin.example/app?a=1&b=2"), SECRET, "HS256")
    h = ->(n) { { "X-Session-Assertion" => token }[n] }
    assert_equal "alice", Hs256Test::V.verify("GET", h, Sessiongate::Verifier.target("/app?a=1&b=2")).user
    ["/app?a%3D1&b=2", "/app?a=1%26b=2", "/a%2Fpp?a=1&b=2", "/app?b=2&a=1"].each do |raw|
      err = assert_raises(Sessiongate::Error) { Hs256Test::V.verify("GET", h, Sessiongate::Verifier.target(raw)) }
      assert_equal "url_mismatch", err.reason, raw
    end
  end

  def test_aud_only_the_expected_string_and_lifetime_capped
    [[AUD], [AUD, "x"], 5].each do |aud|
      assert_equal "invalid_assertion", reason(Hs256Test::V, "GET", { "X-Session-Assertion" => JWT.encode(claims(aud: aud), SECRET, "HS256") })
    end
    now = Time.now.to_i
    err = assert_raises(Sessiongate::Error) do
      token = JWT.encode(claims(iat: now, exp: now + 61), SECRET, "HS256")
      Hs256Test::V.verify("GET", ->(n) { { "X-Session-Assertion" => token }[n] })
    end
    assert_equal "exp: a lifetime of 61 s, expected at most 60 s", err.detail
    err = assert_raises(Sessiongate::Error) do
      token = JWT.encode(claims(aud: "127.0.0.1"), SECRET, "HS256")
      Hs256Test::V.verify("GET", ->(n) { { "X-Session-Assertion" => token }[n] })
    end
    assert_equal 'aud: expected "origin.example", got "127.0.0.1"', err.detail
  end

  def test_device_bound_is_exposed
    [[true, true], [nil, false], ["true", false]].each do |value, want|
      token = JWT.encode(claims(device_bound: value), SECRET, "HS256")
      s = Hs256Test::V.verify("GET", ->(n) { { "X-Session-Assertion" => token }[n] })
      assert_equal want, s.device_bound?
    end
  end
end
