# frozen_string_literal: true

# sessiongate for Rack (Rails, Sinatra):
#
#   use Sessiongate::Middleware, jwks_url: "https://app.example.com/.sessiongate/jwks.json",
#                                audience: "origin.example.com"
#   env["sessiongate"]                       # => Sessiongate::Identity
#   Sessiongate.login(env, user: "alice", roles: ["user"])
require_relative "commands"
require_relative "verifier"
require_relative "middleware"
require_relative "return_to"
