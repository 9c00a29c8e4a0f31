# frozen_string_literal: true

module Sessiongate
  MAX_RETURN_TO = 2048

  # Where to send the browser after a sign-in: the gate's `return_to` (the page a visitor
  # without a session asked for, which the gate puts on LOGIN_URL) when it is a path on
  # this site, else `fallback`. The gate's own rules (src/core/oidc/flow.rs): one leading
  # `/`, never `//host` or `/\host`, no control characters, whitespace or backslashes
  # (browsers drop tabs and newlines, turning `/\t/evil` into `//evil`), at most 2048.
  def self.safe_return_to(raw, fallback = "/")
    return fallback unless raw.is_a?(String) && raw.valid_encoding?

    ok = raw.start_with?("/") && !raw.start_with?("//") && !raw.start_with?("/\\") && raw.length <= MAX_RETURN_TO &&
         !raw.match?(/[\\[:space:][:cntrl:]\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/)
    ok ? raw : fallback
  end

  # The Rack request's `return_to` (the login form's hidden field, or still in the query).
  def self.return_to(env, fallback = "/")
    req = ::Rack::Request.new(env)
    safe_return_to(req.POST["return_to"] || req.GET["return_to"], fallback)
  rescue StandardError # an unreadable body: no return_to
    fallback
  end
end
