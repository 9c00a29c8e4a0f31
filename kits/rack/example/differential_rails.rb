# frozen_string_literal: true

# Test-only (tests/differential/): a Rails 6.1 application, Rails's own middleware stack
# (Rack::MethodOverride in it, as every Rails application has it) and router, whose
# routes report what Rails dispatched, the handler, the method and the path, in an
# `X-Differential` response header (base64url JSON {h, m, p}; a header, so HEAD answers
# carry it too). It has no kit middleware: the differential tier measures the gate's
# reading alone. It refuses to start without SESSIONGATE_DIFFERENTIAL=1.
#
#   SESSIONGATE_DIFFERENTIAL=1 PORT=9292 ruby example/differential_rails.rb
abort "test-only: set SESSIONGATE_DIFFERENTIAL=1" unless ENV["SESSIONGATE_DIFFERENTIAL"] == "1"

require "action_controller/railtie"
require "base64"
require "json"

class DifferentialApp < Rails::Application
  config.eager_load = false
  config.logger = Logger.new(nil)
  config.secret_key_base = "differential-test-only-not-secret-#{'0' * 32}"
  config.hosts.clear
end

class DifferentialController < ActionController::Base
  def report
    seen = { h: request.path_parameters[:h], m: request.request_method, p: request.path }
    response.set_header("x-differential", Base64.urlsafe_encode64(JSON.generate(seen), padding: false))
    render json: seen
  end

  # The tier's sign-in: the gate's login command, as the kit's Sessiongate.login writes it.
  def login
    response.set_header("x-session-command", JSON.generate({ action: "login", user: "bob", roles: ["user"] }))
    redirect_to "/app", status: 303
  end
end

DifferentialApp.initialize!
DifferentialApp.routes.draw do
  post "/login", to: "differential#login"
  match "/account/:id", to: "differential#report", via: :all, defaults: { h: "account" }
  match "/vault", to: "differential#report", via: :all, defaults: { h: "vault" }
  match "/vault/*rest", to: "differential#report", via: :all, defaults: { h: "vault" }
  match "/pub/:x", to: "differential#report", via: :all, defaults: { h: "pub" }
  # Everything else: a handler the configuration protects.
  root to: "differential#report", via: :all, defaults: { h: "other" }
  match "*other", to: "differential#report", via: :all, format: false, defaults: { h: "other" }
end

if $PROGRAM_NAME == __FILE__
  require "rack/handler/puma"
  Rack::Handler::Puma.run(DifferentialApp, Host: "127.0.0.1", Port: Integer(ENV.fetch("PORT", "9292")), Threads: "0:4", Silent: true)
end
