# frozen_string_literal: true

require "rack"
require "json"

module Sessiongate
  # `use Sessiongate::Middleware, jwks_url: ..., audience: ...` (or secret:). Sets
  # env["sessiongate"] to the verified Identity; without a valid assertion: 401 JSON,
  # unless `anonymous: true` or the path is in `anonymous_paths`, where a request without
  # any assertion passes with env["sessiongate"] = nil (one that is present but invalid
  # is refused everywhere). Sends the commands the application wrote (Sessiongate.login
  # etc.) as the response's one X-Session-Command array.
  class Middleware
    def initialize(app, anonymous: false, anonymous_paths: [], data_bytes: LIMITS[:data_bytes], **verifier_options)
      @app = app
      @verifier = Verifier.new(**verifier_options)
      @anonymous = anonymous
      @anonymous_paths = anonymous_paths
      @data_bytes = data_bytes
    end

    def call(env)
      env["sessiongate.data_bytes"] = @data_bytes
      env["sessiongate"] = verify(env)
      status, headers, body = @app.call(env)
      list = env[COMMANDS_KEY]
      headers["x-session-command"] = list.header if list && !list.items.empty?
      [status, headers, body]
    rescue Error => e
      [e.status, { "content-type" => "application/json", "cache-control" => "no-store" }, [JSON.generate(e.body)]]
    end

    private

    def verify(env)
      # Rack::MethodOverride rewrites REQUEST_METHOD; the gate signed the method it forwarded.
      method = env["rack.methodoverride.original_method"] || env["REQUEST_METHOD"]
      target = Verifier.target("#{env['SCRIPT_NAME']}#{env['PATH_INFO']}?#{env['QUERY_STRING']}")
      @verifier.verify(method, ->(name) { env["HTTP_#{name.upcase.tr('-', '_')}"] }, target)
    rescue Error => e
      raise unless e.reason == "missing_assertion" && (@anonymous || @anonymous_paths.include?(env["PATH_INFO"]))

      nil
    end
  end
end
