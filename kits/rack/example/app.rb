# frozen_string_literal: true

# The example application of the Rack kit (a plain Rack app; Sinatra and Rails use the
# same middleware): its own login form, a page showing the identity, a password change,
# a step-up for a sensitive page and a logout. Behind the gate: ORIGIN_URL points here.
# Configuration from the environment: PORT, SESSIONGATE_AUDIENCE, and
# SESSIONGATE_JWKS_URL or SESSIONGATE_SECRET.
#
#   ruby example/app.rb        # Puma on 127.0.0.1:$PORT
$LOAD_PATH.unshift File.expand_path("../lib", __dir__)
require "sessiongate/rack"
require "rack"
require "json"

# A user store stands in for the application's database (passwords in clear only here).
USERS = {
  "alice" => { password: "wonderland", roles: %w[user admin] },
  "bob" => { password: "builder", roles: %w[user] }
}.freeze.transform_values(&:dup)

LOGIN_FORM = <<~HTML
  <!doctype html><title>Sign in</title>
  <form method="post" action="/login">
    <label>User <input name="username" autocomplete="username"></label>
    <label>Password <input name="password" type="password" autocomplete="current-password"></label>
    <button>Sign in</button>
  </form>
HTML

def password_ok?(user, password)
  USERS.key?(user) && USERS[user][:password] == password
end

def json(status, body, headers = {})
  [status, { "content-type" => "application/json" }.merge(headers), [JSON.generate(body)]]
end

def signed_in(env)
  s = env["sessiongate"]
  s&.user ? yield(s) : json(401, { error: "unauthenticated", reason: "not_signed_in" })
end

ROUTES = {
  ["GET", "/login"] => ->(_env, _p) { [200, { "content-type" => "text/html" }, [LOGIN_FORM]] },
  ["POST", "/login"] => lambda do |env, p|
    next json(401, { error: "invalid_credentials" }) unless password_ok?(p["username"], p["password"])

    Sessiongate.login(env, user: p["username"], roles: USERS[p["username"]][:roles], data: { theme: "dark" })
    [303, { "location" => "/app" }, []]
  end,
  ["GET", "/app"] => lambda do |env, _p|
    signed_in(env) do |s|
      json(200, { user: s.user, roles: s.roles, sessionId: s.session_id, authTime: s.auth_time,
                  elevatedUntil: s.elevated_until, data: s.data, binding: s.binding, deviceBound: s.device_bound })
    end
  end,
  ["POST", "/password"] => lambda do |env, p|
    signed_in(env) do |s|
      next json(403, { error: "invalid_credentials" }) unless password_ok?(s.user, p["current_password"])

      USERS[s.user][:password] = p["new_password"]
      Sessiongate.regenerate(env)     # the session gets a new ID
      Sessiongate.logout_others(env)  # and the user's other sessions end
      json(200, { password_changed: true })
    end
  end,
  ["POST", "/reauth"] => lambda do |env, p|
    signed_in(env) do |s|
      next json(403, { error: "invalid_credentials" }) unless password_ok?(s.user, p["password"])

      Sessiongate.elevate(env)
      json(200, { elevated: true })
    end
  end,
  # SENSITIVE_PATHS=/admin on the gate: only an elevated session gets here.
  ["GET", "/admin"] => lambda do |env, _p|
    signed_in(env) do |s|
      next json(403, { error: "forbidden", reason: "role_required" }) unless s.roles.include?("admin")

      json(200, { sensitive: true, user: s.user, elevatedUntil: s.elevated_until })
    end
  end,
  ["POST", "/rename"] => lambda do |env, p|
    signed_in(env) do |s|
      Sessiongate.login(env, user: p["user"], roles: s.roles, data: s.data)
      json(200, { renamed: p["user"] })
    rescue Sessiongate::CommandError => e # raised here, before the gate would refuse it with 502
      json(400, { error: "invalid_command", detail: e.message })
    end
  end,
  ["POST", "/logout"] => lambda do |env, _p|
    Sessiongate.logout(env)
    json(200, { signed_out: true })
  end,
  ["GET", "/public"] => ->(env, _p) { json(200, { user: env["sessiongate"]&.user }) }
}.freeze

APP = Rack::Builder.new do
  use Sessiongate::Middleware, anonymous_paths: ["/public"] # keys and audience from the environment
  run(lambda do |env|
    req = Rack::Request.new(env)
    route = ROUTES[[req.request_method, req.path_info]]
    route ? route.call(env, req.POST) : json(404, { error: "not_found" })
  end)
end.to_app

if $PROGRAM_NAME == __FILE__
  # Puma, as Rails uses it (WEBrick would rewrite Location: /app into an absolute URL
  # built from X-Forwarded-Host).
  require "rack/handler/puma"
  Rack::Handler::Puma.run(APP, Host: "127.0.0.1", Port: Integer(ENV.fetch("PORT", "9292")), Threads: "0:4", Silent: true)
end
