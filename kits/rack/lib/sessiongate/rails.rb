# frozen_string_literal: true

require_relative "rack"

module Sessiongate
  # For Rails controllers, with Sessiongate::Middleware in the middleware stack
  # (config.middleware.use Sessiongate::Middleware, jwks_url: ..., audience: ...):
  #
  #   class ApplicationController < ActionController::Base
  #     include Sessiongate::Controller
  #     before_action :require_sessiongate_user!
  #   end
  #   sessiongate.user; sessiongate_login(user: u.id, roles: u.roles)
  module Controller
    def sessiongate
      request.env["sessiongate"]
    end

    def require_sessiongate_user!
      return if sessiongate&.user

      render json: { error: "unauthenticated", reason: "not_signed_in" }, status: 401
    end

    def require_sessiongate_role!(*roles)
      return require_sessiongate_user! unless sessiongate&.user
      return if roles.any? { |r| sessiongate.roles.include?(r) }

      render json: { error: "forbidden", reason: "role_required" }, status: 403
    end

    def sessiongate_login(**kw) = Sessiongate.login(request.env, **kw)
    def sessiongate_logout = Sessiongate.logout(request.env)
    def sessiongate_regenerate(**kw) = Sessiongate.regenerate(request.env, **kw)
    def sessiongate_elevate = Sessiongate.elevate(request.env)
    def sessiongate_set_data(data) = Sessiongate.set_data(request.env, data)
    def sessiongate_logout_others = Sessiongate.logout_others(request.env)
    def sessiongate_logout_all = Sessiongate.logout_all(request.env)
  end
end
