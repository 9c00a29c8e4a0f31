# frozen_string_literal: true

Gem::Specification.new do |s|
  s.name = "sessiongate-rack"
  s.version = "0.1.0"
  s.summary = "Rack middleware (Rails, Sinatra) for applications behind sessiongate"
  s.description = "Verifies X-Session-Assertion and X-Session-Data, exposes env[\"sessiongate\"], " \
                  "writes X-Session-Command; a Rails controller helper included."
  s.authors = ["sessiongate"]
  s.license = "MIT"
  s.files = Dir[File.join(__dir__, "lib/**/*.rb")].map { |f| f.delete_prefix("#{__dir__}/") } + ["README.md"]
  s.require_paths = ["lib"]
  s.required_ruby_version = ">= 3.0"
  # The versions Debian 12 ships (rack 2.2, jwt 2.5) and what came after that the kit
  # uses the same way; jwt 3 changed the decode API's options, so not yet.
  s.add_dependency "jwt", ">= 2.5", "< 3"
  s.add_dependency "rack", ">= 2.2", "< 4"
  s.add_development_dependency "minitest", ">= 5"
end
