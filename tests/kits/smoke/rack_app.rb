# frozen_string_literal: true

# The smallest Rack application on the installed sessiongate-rack gem (tier 6,
# tests/kits/install.test.mjs), run with GEM_HOME a fresh directory outside the repository.
gem "sessiongate-rack"
require "sessiongate/rack"
require "rack"
require "json"

path = Gem.loaded_specs["sessiongate-rack"].full_gem_path
abort "the kit comes from the installed gem, not #{path}" unless path.start_with?(ENV.fetch("GEM_HOME"))

APP = Rack::Builder.new do
  use Sessiongate::Middleware
  run(lambda do |env|
    req = Rack::Request.new(env)
    case [req.request_method, req.path_info]
    when %w[GET /login] then [200, { "content-type" => "text/html" }, ["<form method=post></form>"]]
    when %w[POST /login]
      next [401, { "content-type" => "application/json" }, ['{"error":"invalid_credentials"}']] unless req.POST["password"] == "pw"

      Sessiongate.login(env, user: req.POST["username"], roles: ["user"])
      [303, { "location" => Sessiongate.safe_return_to(req.POST["return_to"], "/app") }, []]
    when %w[GET /app]
      s = env["sessiongate"]
      [200, { "content-type" => "application/json" }, [JSON.generate(user: s.user, roles: s.roles, kit: "rack")]]
    when %w[POST /logout]
      Sessiongate.logout(env)
      [200, { "content-type" => "application/json" }, ['{"signed_out":true}']]
    else [404, {}, []]
    end
  end)
end.to_app

require "rack/handler/puma"
Rack::Handler::Puma.run(APP, Host: "127.0.0.1", Port: Integer(ENV.fetch("PORT")), Threads: "0:4", Silent: true)
