# frozen_string_literal: true

# A Rails application behind the gate, in one file (Rails 6.1+, no database): the Rack
# kit's middleware and its controller concern, with Rails' own CSRF protection on.
# Configuration from the environment: PORT, SESSIONGATE_AUDIENCE, and
# SESSIONGATE_JWKS_URL or SESSIONGATE_SECRET.
#
#   ruby example-rails/app.rb        # Puma on 127.0.0.1:$PORT
$LOAD_PATH.unshift File.expand_path("../lib", __dir__)
require "action_controller/railtie"
require "sessiongate/rails"

class ExampleRails < Rails::Application
  config.load_defaults 6.1
  config.root = __dir__
  config.eager_load = false
  config.secret_key_base = "example-only-not-secret"
  config.hosts.clear
  config.logger = ActiveSupport::Logger.new($stderr)
  config.log_level = :warn
  # Refusals are logged at WARN through Rails.logger (the kit's default logger in Rails).
  config.middleware.use Sessiongate::Middleware, anonymous_paths: ["/public"]
end

# A user store stands in for the application's models (passwords in clear only here).
User = Struct.new(:username, :password, :roles, keyword_init: true) do
  STORE = {
    "alice" => new(username: "alice", password: "wonderland", roles: %w[user admin]),
    "bob" => new(username: "bob", password: "builder", roles: %w[user])
  }.freeze

  def self.find_by_username(name) = STORE[name]
end

class ApplicationController < ActionController::Base
  include Sessiongate::Controller
  protect_from_forgery with: :exception
  # current_sessiongate_user is the application's User for the gate's identity.
  sessiongate_user_loader { |identity| User.find_by_username(identity.user) }
end

class SessionsController < ApplicationController
  def new
    render html: <<~HTML.html_safe
      <!doctype html><title>Sign in</title>
      <form method="post" action="/login">
        <input type="hidden" name="authenticity_token" value="#{ERB::Util.h(form_authenticity_token)}">
        <input type="hidden" name="return_to" value="#{ERB::Util.h(sessiongate_return_to('/app'))}">
        <label>User <input name="username" autocomplete="username"></label>
        <label>Password <input name="password" type="password" autocomplete="current-password"></label>
        <button>Sign in</button>
      </form>
    HTML
  end

  def create
    user = User.find_by_username(params[:username])
    return render(json: { error: "invalid_credentials" }, status: 401) unless user && user.password == params[:password]

    sessiongate_login(user: user.username, roles: user.roles)
    redirect_to sessiongate_return_to("/app"), status: :see_other
  end

  def destroy
    sessiongate_logout
    render json: { signed_out: true }
  end
end

class AccountsController < ApplicationController
  before_action :authenticate_sessiongate_user!
  sessiongate_role_guard :admin_only!, "admin"
  before_action :admin_only!, only: [:audit]
  require_sessiongate_role "admin", only: [:destroy]

  def show
    render json: { user: current_sessiongate_user.username, roles: sessiongate.roles, signed_in: sessiongate_signed_in?,
                   deviceBound: sessiongate.device_bound }
  end

  def audit = render(json: { audit: true, user: current_sessiongate_user.username })
  def destroy = render(json: { destroyed: params[:id] })
end

class PublicController < ApplicationController
  def show = render(json: { user: sessiongate&.user, signed_in: sessiongate_signed_in? })
end

ExampleRails.initialize!
ExampleRails.routes.draw do
  get "/login", to: "sessions#new"
  post "/login", to: "sessions#create"
  post "/logout", to: "sessions#destroy"
  get "/app", to: "accounts#show"
  get "/audit", to: "accounts#audit"
  delete "/accounts/:id", to: "accounts#destroy"
  get "/public", to: "public#show"
end

if $PROGRAM_NAME == __FILE__
  require "rack/handler/puma"
  Rack::Handler::Puma.run(ExampleRails, Host: "127.0.0.1", Port: Integer(ENV.fetch("PORT", "3000")), Threads: "0:4", Silent: true)
end
