# frozen_string_literal: true

require_relative "rack"

module Sessiongate
  # For Rails controllers, with Sessiongate::Middleware in the middleware stack
  # (config.middleware.use Sessiongate::Middleware, jwks_url: ..., audience: ...). The
  # names a Devise user reaches for, under sessiongate's:
  #
  #   Devise                     sessiongate
  #   current_user               current_sessiongate_user  (the identity, or your model
  #                                                          through sessiongate_user_loader)
  #   user_signed_in?            sessiongate_signed_in?
  #   authenticate_user!         authenticate_sessiongate_user!
  #   (a role check)             require_sessiongate_role "admin", only: [:destroy]
  #                              or sessiongate_role_guard :admin_only!, "admin" and
  #                              before_action :admin_only!, only: [:destroy]
  #
  #   class ApplicationController < ActionController::Base
  #     include Sessiongate::Controller
  #     sessiongate_user_loader { |identity| User.find_by(username: identity.user) }  # optional
  #     before_action :authenticate_sessiongate_user!
  #   end
  #   sessiongate_login(user: u.id, roles: u.roles); redirect_to sessiongate_return_to("/")
  module Controller
    def self.included(base)
      base.extend(ClassMethods)
      return unless base.respond_to?(:helper_method)

      base.helper_method :sessiongate, :current_sessiongate_user, :sessiongate_signed_in?
    end

    module ClassMethods
      # `before_action` that answers 403 (401 without a user) unless one of `roles`.
      # Options as before_action's: only:, except:, if:, unless:.
      def require_sessiongate_role(*roles, **options)
        before_action(**options) { require_sessiongate_role!(*roles) }
      end

      # Defines `name` as a guard method for `before_action :name, only: [...]`.
      def sessiongate_role_guard(name, *roles)
        define_method(name) { require_sessiongate_role!(*roles) }
      end

      # How the signed-in identity becomes the application's user object (a model).
      def sessiongate_user_loader(&block)
        @sessiongate_user_loader = block
      end

      def sessiongate_user_loader_block
        return @sessiongate_user_loader if defined?(@sessiongate_user_loader) && @sessiongate_user_loader

        superclass.respond_to?(:sessiongate_user_loader_block) ? superclass.sessiongate_user_loader_block : nil
      end
    end

    # The verified Sessiongate::Identity (user nil when the gate saw no session).
    def sessiongate
      request.env["sessiongate"]
    end

    def sessiongate_signed_in?
      !sessiongate&.user.nil?
    end

    # The signed-in user: the identity, or what sessiongate_user_loader makes of it; nil
    # without a signed-in session. Loaded once per request.
    def current_sessiongate_user
      return nil unless sessiongate_signed_in?
      return @current_sessiongate_user if defined?(@current_sessiongate_user)

      loader = self.class.sessiongate_user_loader_block
      @current_sessiongate_user = loader ? instance_exec(sessiongate, &loader) : sessiongate
    end

    # A navigation (an HTML page load) without a signed-in session goes to the login
    # page with ?return_to=<this page>, as the gate sends one; anything else gets 401 JSON.
    def authenticate_sessiongate_user!
      return if sessiongate_signed_in? && (self.class.sessiongate_user_loader_block.nil? || current_sessiongate_user)

      if request.get? && request.format.html?
        redirect_to "#{Sessiongate.login_url}?#{{ return_to: request.fullpath }.to_query}"
      else
        render json: { error: "unauthenticated", reason: "not_signed_in" }, status: 401
      end
    end
    alias require_sessiongate_user! authenticate_sessiongate_user!

    def require_sessiongate_role!(*roles)
      return authenticate_sessiongate_user! unless sessiongate_signed_in?
      return if roles.flatten.map(&:to_s).any? { |r| sessiongate.roles.include?(r) }

      render json: { error: "forbidden", reason: "role_required" }, status: 403
    end

    # Where to go after a sign-in: the gate's return_to (or a form's), when a local path.
    def sessiongate_return_to(fallback = "/")
      Sessiongate.safe_return_to(params[:return_to], fallback)
    end

    def sessiongate_login(**kw) = Sessiongate.login(request.env, **kw)
    def sessiongate_logout = Sessiongate.logout(request.env)
    def sessiongate_regenerate(**kw) = Sessiongate.regenerate(request.env, **kw)
    def sessiongate_elevate = Sessiongate.elevate(request.env)
    def sessiongate_set_data(data) = Sessiongate.set_data(request.env, data)
    def sessiongate_logout_others = Sessiongate.logout_others(request.env)
    def sessiongate_logout_all = Sessiongate.logout_all(request.env)
  end

  class << self
    attr_writer :login_url

    # The application's login page (the gate's LOGIN_URL): SESSIONGATE_LOGIN_URL or /login.
    def login_url
      @login_url ||= ENV.fetch("SESSIONGATE_LOGIN_URL", "/login")
    end
  end
end
