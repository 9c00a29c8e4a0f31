# frozen_string_literal: true

require "rack"
require "json"
require "logger"

module Sessiongate
  # `use Sessiongate::Middleware, jwks_url: ..., audience: ...` (or secret:). Sets
  # env["sessiongate"] to the verified Identity; without a valid assertion: 401 JSON,
  # unless `anonymous: true` or the path is in `anonymous_paths`, where a request without
  # any assertion passes with env["sessiongate"] = nil (one that is present but invalid
  # is refused everywhere). Sends the commands the application wrote (Sessiongate.login
  # etc.) as the response's one X-Session-Command array. Every refusal is logged at WARN
  # with what was expected and what came (`logger:`, default: standard error; Rails:
  # Rails.logger; `logger: nil` for none).
  class Middleware
    def initialize(app, anonymous: false, anonymous_paths: [], data_bytes: LIMITS[:data_bytes], logger: :default,
                   **verifier_options)
      @app = app
      @verifier = Verifier.new(**verifier_options)
      @anonymous = anonymous
      @anonymous_paths = anonymous_paths
      @data_bytes = data_bytes
      @logger = logger == :default ? Sessiongate.default_logger : logger
    end

    def call(env)
      env["sessiongate.data_bytes"] = @data_bytes
      env["sessiongate"] = verify(env)
      status, headers, body = @app.call(env)
      list = env[COMMANDS_KEY]
      headers["x-session-command"] = list.header if list && !list.items.empty?
      [status, headers, body]
    rescue Error => e
      @logger&.warn("sessiongate: #{e.status} #{e.reason} for #{env['REQUEST_METHOD']} #{env['PATH_INFO'].to_s[0, 200].dump[1..-2]}: #{e.detail}")
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

  # Rails.logger in a Rails application, else WARN and above to standard error.
  def self.default_logger
    return ::Rails.logger if defined?(::Rails) && ::Rails.respond_to?(:logger) && ::Rails.logger

    @default_logger ||= ::Logger.new($stderr, level: ::Logger::WARN)
  end
end
