# frozen_string_literal: true

require "jwt"
require "json"
require "net/http"
require "openssl"
require "base64"
require "digest"

# Verifies what the gate stamped on a request, as the README's origin contract says:
# X-Session-Assertion (signature through the gate's JWKS or the HS256 secret, with the
# `jwt` gem; iss, aud, exp, iat, htm equal to the request's method, htu its path and query) and X-Session-Data
# against the assertion's data_sha256. Identity comes from the signed claims only.
module Sessiongate
  ISSUER = "sessiongate"
  LEEWAY_SECONDS = 5

  # Why a request is refused: status 401, or 503 when the JWKS cannot be fetched.
  class Error < StandardError
    attr_reader :reason, :status

    def initialize(reason, message, status: 401)
      super(message)
      @reason = reason
      @status = status
    end

    def body
      { "error" => status == 503 ? "sessiongate_unavailable" : "unauthenticated", "reason" => reason }
    end
  end

  Identity = Struct.new(:user, :roles, :session_id, :auth_time, :elevated_until, :data, :binding, :claims, keyword_init: true) do
    def self.from_claims(c, data)
      user = c["sub"]
      new(user: user, roles: user.nil? ? [] : Array(c["roles"]), session_id: c["sid"], auth_time: c["auth_time"],
          elevated_until: c["elev"], data: data, binding: user.nil? ? nil : (c["bind"] || "ok"), claims: c)
    end
  end

  # The gate's key set, fetched once and cached; an unknown kid refetches it (a key
  # rotation), at most every `cooldown` seconds.
  class JwksLoader
    def initialize(url, cooldown: 30, timeout: 10)
      @uri = URI(url)
      @cooldown = cooldown
      @timeout = timeout
      @mutex = Mutex.new
      @jwks = nil
      @fetched_at = nil
    end

    def call(options)
      @mutex.synchronize do
        stale = options[:kid_not_found] && (@fetched_at.nil? || Time.now - @fetched_at >= @cooldown)
        fetch if @jwks.nil? || stale
        @jwks
      end
    end

    private

    def fetch
      res = Net::HTTP.start(@uri.host, @uri.port, use_ssl: @uri.scheme == "https", open_timeout: @timeout, read_timeout: @timeout) do |http|
        http.get(@uri.request_uri)
      end
      raise Error.new("jwks_unavailable", "the gate's JWKS answered #{res.code}", status: 503) unless res.is_a?(Net::HTTPSuccess)

      @jwks = JSON.parse(res.body)
      @fetched_at = Time.now
    rescue SystemCallError, IOError, Timeout::Error, SocketError, OpenSSL::SSL::SSLError, JSON::ParserError => e
      raise Error.new("jwks_unavailable", "the gate's JWKS could not be fetched (#{e.class})", status: 503)
    end
  end

  class Verifier
    attr_reader :audience

    ORIGIN = %r{\A[a-z][a-z0-9+.-]*://[^/?#]*}i.freeze

    # Path and query of an absolute URL or a request target, percent-decoded.
    def self.target(url)
      path, query = url.sub(ORIGIN, "").split("#", 2).first.to_s.split("?", 2)
      [::Rack::Utils.unescape_path(path.to_s), ::Rack::Utils.unescape_path(query.to_s)]
    rescue ArgumentError # malformed escapes or bytes: compared as they are
      [path.to_s, query.to_s]
    end

    def initialize(jwks_url: nil, secret: nil, audience: nil, issuer: ISSUER, algorithms: nil, leeway: LEEWAY_SECONDS, check_url: true)
      if jwks_url.nil? && secret.nil?
        jwks_url = ENV["SESSIONGATE_JWKS_URL"].to_s.empty? ? nil : ENV["SESSIONGATE_JWKS_URL"]
        secret = ENV["SESSIONGATE_SECRET"].to_s.empty? ? nil : ENV["SESSIONGATE_SECRET"] if jwks_url.nil?
      end
      audience ||= ENV["SESSIONGATE_AUDIENCE"]
      if jwks_url.nil? == secret.nil?
        raise ArgumentError, "sessiongate: give exactly one of jwks_url (the gate's /.sessiongate/jwks.json, ES256) " \
                             "or secret (ORIGIN_SECRET, HS256)"
      end
      # The origin's own host, never the request's Host header (whoever reaches the origin
      # directly sets that to another origin's name).
      raise ArgumentError, "sessiongate: audience (the origin's host as the gate's ORIGIN_URL names it) is required" if audience.to_s.empty?

      @audience = audience
      @check_url = check_url
      @issuer = issuer
      @leeway = leeway
      if jwks_url
        @jwks = JwksLoader.new(jwks_url)
        # The jwt gem 2.5 verifies ES256 from a JWK Set; EdDSA needs rbnacl and OKP keys it lacks.
        @algorithms = algorithms || ["ES256"]
      else
        @secret = secret
        @algorithms = algorithms || ["HS256"]
      end
    end

    # `header` maps a header name ("X-Session-Data") to its value or nil; `target` is the
    # request's [path, query], percent-decoded, compared with the assertion's htu so that
    # a captured assertion cannot be replayed to another page.
    def verify(method, header, target = nil)
      token = header.call("X-Session-Assertion")
      raise Error.new("missing_assertion", "no X-Session-Assertion: the request did not come through the gate") if token.nil? || token.empty?

      claims = decode(token)
      now = Time.now.to_i
      raise Error.new("invalid_assertion", "X-Session-Assertion issued in the future") unless claims["iat"].is_a?(Integer) && claims["iat"] <= now + @leeway
      raise Error.new("method_mismatch", "X-Session-Assertion was issued for another method") unless claims["htm"] == method

      if @check_url && target && !(claims["htu"].is_a?(String) && Verifier.target(claims["htu"]) == target)
        raise Error.new("url_mismatch", "X-Session-Assertion was issued for another URL")
      end

      raw = header.call("X-Session-Data")
      claimed = claims["data_sha256"]
      if raw.nil? != claimed.nil? || (raw && !(claimed.is_a?(String) && Rack::Utils.secure_compare(digest(raw), claimed)))
        raise Error.new("data_mismatch", "X-Session-Data does not match the assertion")
      end

      Identity.from_claims(claims, raw.nil? ? {} : JSON.parse(raw))
    end

    private

    def decode(token)
      options = { algorithms: @algorithms, iss: @issuer, verify_iss: true, aud: @audience, verify_aud: true,
                  leeway: @leeway, verify_iat: false, required_claims: %w[exp iat iss aud htm] }
      payload, = if @jwks
                   JWT.decode(token, nil, true, options.merge(jwks: @jwks))
                 else
                   JWT.decode(token, @secret, true, options)
                 end
      raise Error.new("invalid_assertion", "X-Session-Assertion is not a claims object") unless payload.is_a?(Hash)

      payload
    rescue JWT::DecodeError => e # every verification failure of the jwt gem
      raise Error.new("invalid_assertion", "X-Session-Assertion refused (#{e.class.name.split('::').last})")
    end

    def digest(raw)
      # Rack gives header values as the bytes that were sent.
      Base64.urlsafe_encode64(Digest::SHA256.digest(raw.b), padding: false)
    end
  end
end
