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
  # The longest span exp - iat accepted: the gate issues assertions for 60 s.
  MAX_LIFETIME_SECONDS = 60

  # A value as a short quoted text for a log line (claims are unverified input there).
  def self.quoted(value)
    s = value.is_a?(String) ? value.dump : JSON.generate(value)
    s.length > 80 ? "#{s[0, 77]}..." : s
  rescue StandardError
    value.class.name
  end

  # Why a request is refused: status 401, or 503 when the JWKS cannot be fetched.
  # `detail` says what was expected and what came, for the log only.
  class Error < StandardError
    attr_reader :reason, :status, :detail

    def initialize(reason, message, status: 401, detail: nil)
      super(message)
      @reason = reason
      @status = status
      @detail = detail || message
    end

    def body
      { "error" => status == 503 ? "sessiongate_unavailable" : "unauthenticated", "reason" => reason }
    end
  end

  Identity = Struct.new(:user, :roles, :session_id, :auth_time, :elevated_until, :data, :binding, :device_bound, :claims,
                        keyword_init: true) do
    def self.from_claims(c, data)
      user = c["sub"]
      new(user: user, roles: user.nil? ? [] : Array(c["roles"]), session_id: c["sid"], auth_time: c["auth_time"],
          elevated_until: c["elev"], data: data, binding: user.nil? ? nil : (c["bind"] || "ok"),
          device_bound: !user.nil? && c["device_bound"] == true, claims: c)
    end

    alias_method :device_bound?, :device_bound
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

    # Path and query of an absolute URL or a request target as components: the path's
    # segments and the query's name/value pairs, each percent-decoded on its own, so an
    # escaped separator (%2F, %26, %3D) never becomes one.
    def self.target(url)
      path, query = url.to_s.sub(ORIGIN, "").split("#", 2).first.to_s.split("?", 2)
      segments = path.to_s.split("/", -1).map { |s| unescape(s) }
      pairs = query.to_s.empty? ? [] : query.split("&", -1).map { |p| p.split("=", 2).map { |x| unescape(x) } }
      [segments, pairs]
    end

    def self.unescape(s)
      ::Rack::Utils.unescape_path(s)
    rescue ArgumentError # malformed escapes or bytes: compared as they are
      s
    end

    def self.log_path(url)
      url.to_s.sub(ORIGIN, "").split(/[?#]/, 2).first.to_s[0, 200]
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
      if token.nil? || token.empty?
        raise Error.new("missing_assertion", "no X-Session-Assertion: the request did not come through the gate",
                        detail: "no X-Session-Assertion header: the request did not come through the gate")
      end

      claims = decode(token)
      check_claims(claims, method, target)
      raw = header.call("X-Session-Data")
      claimed = claims["data_sha256"]
      if raw.nil? != claimed.nil? || (raw && !(claimed.is_a?(String) && Rack::Utils.secure_compare(digest(raw), claimed)))
        raise Error.new("data_mismatch", "X-Session-Data does not match the assertion",
                        detail: "data_sha256: #{raw.nil? ? 'no X-Session-Data' : 'X-Session-Data'} " \
                                "#{claimed.nil? ? 'without the claim' : 'does not match the claim'}")
      end

      Identity.from_claims(claims, raw.nil? ? {} : JSON.parse(raw))
    end

    private

    def invalid(detail)
      Error.new("invalid_assertion", "X-Session-Assertion refused (#{detail.split(':').first})", detail: detail)
    end

    def check_claims(claims, method, target)
      q = Sessiongate.method(:quoted)
      raise invalid("iss: expected #{q.(@issuer)}, got #{q.(claims['iss'])}") unless claims["iss"] == @issuer
      # Only the one expected string: the gate never issues an array.
      raise invalid("aud: expected #{q.(@audience)}, got #{q.(claims['aud'])}") unless claims["aud"].is_a?(String) && claims["aud"] == @audience

      iat = claims["iat"]
      exp = claims["exp"]
      raise invalid("iat, exp: not numbers") unless iat.is_a?(Numeric) && exp.is_a?(Numeric)

      now = Time.now.to_i
      raise invalid("iat: issued in the future (#{iat}, now #{now})") if iat > now + @leeway
      raise invalid("exp: a lifetime of #{exp - iat} s, expected at most #{MAX_LIFETIME_SECONDS} s") if exp - iat > MAX_LIFETIME_SECONDS

      unless claims["htm"] == method
        raise Error.new("method_mismatch", "X-Session-Assertion was issued for another method",
                        detail: "htm: expected #{q.(method)}, got #{q.(claims['htm'])}")
      end
      return unless @check_url && target && !(claims["htu"].is_a?(String) && Verifier.target(claims["htu"]) == target)

      got = claims["htu"].is_a?(String) ? Verifier.log_path(claims["htu"]) : claims["htu"]
      raise Error.new("url_mismatch", "X-Session-Assertion was issued for another URL",
                      detail: "htu: expected the path and query of #{q.(target[0].join('/')[0, 200])}, got #{q.(got)}")
    end

    def decode(token)
      # iss and aud are checked in check_claims, to say what was expected and what came.
      options = { algorithms: @algorithms, verify_iss: false, verify_aud: false,
                  leeway: @leeway, verify_iat: false, required_claims: %w[exp iat iss aud htm] }
      payload, = if @jwks
                   JWT.decode(token, nil, true, options.merge(jwks: @jwks))
                 else
                   JWT.decode(token, @secret, true, options)
                 end
      raise invalid("malformed: the claims are not an object") unless payload.is_a?(Hash)

      payload
    rescue JWT::DecodeError => e # every verification failure of the jwt gem
      raise invalid(jwt_detail(e, token))
    rescue TypeError, NoMethodError, ArgumentError, KeyError, JSON::ParserError, OpenSSL::PKey::PKeyError => e
      # Whatever the header held (`[]`, an alg that is not a string): the client's 401,
      # never an uncaught error with a backtrace.
      raise invalid("malformed: #{e.class.name}")
    end

    def jwt_detail(err, token)
      header = unverified_header(token)
      q = Sessiongate.method(:quoted)
      case err
      when JWT::IncorrectAlgorithm then "alg: expected one of #{q.(@algorithms)}, got #{q.(header['alg'])}"
      when JWT::VerificationError then "signature: not made by the configured key (alg #{q.(header['alg'])}, kid #{q.(header['kid'])})"
      when JWT::ExpiredSignature then "exp: expired, now #{Time.now.to_i}"
      when JWT::MissingRequiredClaim then "claims: #{err.message}"
      else "#{err.class.name.split('::').last}: #{err.message}"
      end
    end

    def unverified_header(token)
      h = JSON.parse(Base64.urlsafe_decode64(token.to_s.split(".").first.to_s))
      h.is_a?(Hash) ? h : {}
    rescue StandardError
      {}
    end

    def digest(raw)
      # Rack gives header values as the bytes that were sent.
      Base64.urlsafe_encode64(Digest::SHA256.digest(raw.b), padding: false)
    end
  end
end
