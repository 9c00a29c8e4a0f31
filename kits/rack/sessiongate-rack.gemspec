# frozen_string_literal: true

Gem::Specification.new do |s|
  s.name = "sessiongate-rack"
  s.version = "0.1.0"
  s.summary = "Rack middleware (Rails, Sinatra) for applications behind sessiongate"
  s.description = "Verifies X-Session-Assertion and X-Session-Data, exposes env[\"sessiongate\"], " \
                  "writes X-Session-Command; a Rails controller helper included."
  s.authors = ["sessiongate"]
  s.license = "MIT"
  s.files = Dir["lib/**/*.rb"] + ["README.md"]
  s.require_paths = ["lib"]
  s.required_ruby_version = ">= 3.0"
  s.add_dependency "jwt", ">= 2.5", "< 4"
  s.add_dependency "rack", ">= 2.2"
  s.add_development_dependency "minitest", ">= 5"
end
