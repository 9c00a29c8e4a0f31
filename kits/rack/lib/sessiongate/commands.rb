# frozen_string_literal: true

require "json"

# X-Session-Command, checked exactly as the gate's src/core/command.rs checks it, so a
# command the gate would refuse with 502 invalid_origin_command raises CommandError in
# the application instead.
module Sessiongate
  LIMITS = {
    header_bytes: 64 * 1024, user_bytes: 256, roles: 64, role_bytes: 64, commands: 8,
    data_depth: 32, data_bytes: 8000 # the gate's SESSION_DATA_MAX default
  }.freeze

  class CommandError < ArgumentError
    def initialize(message)
      super("sessiongate command: #{message}")
    end
  end

  # Rust's char::is_control (Unicode Cc) and char::is_whitespace (White_Space), which the
  # gate uses; Ruby's [[:cntrl:]] and strip differ.
  CONTROL = /[\u0000-\u001f\u007f-\u009f]/.freeze
  WS = "\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
  EDGE_WS = /\A[#{WS}]|[#{WS}]\z/.freeze
  FIELDS = {
    "login" => { "user" => true, "roles" => false, "data" => false, "persistent" => false },
    "set_data" => { "data" => true },
    "regenerate" => { "reason" => true, "roles" => false },
    "logout" => {}, "elevate" => {}, "logout_others" => {}, "logout_all" => {}
  }.freeze
  NEEDS_SESSION = %w[regenerate elevate logout_others logout_all].freeze

  module Commands
    module_function

    # A string as UTF-8 text, or CommandError (Rack may hand over binary strings).
    def text(what, s)
      raise CommandError, "#{what} must be a string" unless s.is_a?(String) || s.is_a?(Symbol)

      s = s.to_s
      s = s.dup.force_encoding(Encoding::UTF_8) unless s.encoding == Encoding::UTF_8
      raise CommandError, "#{what} is not valid Unicode" unless s.valid_encoding?

      s
    end

    def clean_text(what, s, max)
      s = text(what, s)
      raise CommandError, "#{what} is empty" if s.empty?
      raise CommandError, "#{what} is longer than #{max} bytes" if s.bytesize > max
      raise CommandError, "#{what} contains control characters" if CONTROL.match?(s)
      raise CommandError, "#{what} starts or ends with whitespace" if EDGE_WS.match?(s)

      s
    end

    def check_roles(roles)
      raise CommandError, "roles must be an array of strings" unless roles.is_a?(Array)
      raise CommandError, "more than #{LIMITS[:roles]} roles" if roles.length > LIMITS[:roles]

      roles.map do |r|
        r = clean_text("a role", r, LIMITS[:role_bytes])
        raise CommandError, "a role contains a comma (X-Session-Roles is comma-separated)" if r.include?(",")

        r
      end
    end

    # A JSON-ready copy (UTF-8 strings, string keys) and its depth as the gate counts it.
    def json_value(v, path)
      case v
      when String, Symbol then [text(path, v), 0]
      when nil, true, false, Integer then [v, 0]
      when Float
        raise CommandError, "#{path} is not a finite number" unless v.finite?

        [v, 0]
      when Array
        items = v.each_with_index.map { |x, i| json_value(x, "#{path}[#{i}]") }
        [items.map(&:first), 1 + (items.map(&:last).max || 0)]
      when Hash
        copy, depth = json_object(v, path)
        [copy, 1 + depth]
      else
        raise CommandError, "#{path} is not JSON (#{v.class})"
      end
    end

    def json_object(h, path)
      depth = 0
      copy = h.each_with_object({}) do |(k, x), out|
        raise CommandError, "a key of #{path} is not a string" unless k.is_a?(String) || k.is_a?(Symbol)

        key = text("a key of #{path}", k)
        value, d = json_value(x, "#{path}.#{key[0, 32]}")
        depth = d if d > depth
        out[key] = value
      end
      [copy, depth]
    end

    # JSON with every non-ASCII or DEL character escaped: the gate's `ascii_json`.
    def ascii_json(v)
      JSON.generate(v).gsub(/[^\x00-\x7e]/) do |c|
        c.encode(Encoding::UTF_16BE).unpack("n*").map { |u| format("\\u%04x", u) }.join
      end
    end

    def check_data(data, data_bytes = LIMITS[:data_bytes])
      raise CommandError, "data must be an object" unless data.is_a?(Hash)

      copy, depth = json_object(data, "data")
      depth += 1
      raise CommandError, "data is nested #{depth} levels deep, more than #{LIMITS[:data_depth]}" if depth > LIMITS[:data_depth]

      size = ascii_json(copy).bytesize
      if size > data_bytes
        raise CommandError, "data is #{size} bytes as the X-Session-Data header, more than the #{data_bytes} allowed (SESSION_DATA_MAX)"
      end

      copy
    end

    # Checks one wire command ({"action" => ..., fields}) as the gate would; returns it
    # JSON-ready (string keys, UTF-8 strings).
    def check_command(cmd, data_bytes = LIMITS[:data_bytes])
      raise CommandError, "a command is a JSON object" unless cmd.is_a?(Hash)

      cmd = cmd.transform_keys(&:to_s)
      action = cmd["action"]
      action = action.to_s if action.is_a?(Symbol)
      raise CommandError, '"action" must be a string' unless action.is_a?(String)

      spec = FIELDS[action]
      raise CommandError, "unknown action; accepted: #{FIELDS.keys.join(', ')}" unless spec

      cmd.each_key do |name|
        raise CommandError, "#{action}: unknown field #{name[0, 32].inspect}" unless name == "action" || spec.key?(name)
      end
      spec.each { |name, required| raise CommandError, "#{action}: missing \"#{name}\"" if required && !cmd.key?(name) }
      out = { "action" => action }
      case action
      when "login"
        out["user"] = clean_text("user", cmd["user"], LIMITS[:user_bytes])
        out["roles"] = check_roles(cmd["roles"]) if cmd.key?("roles")
        out["data"] = cmd["data"].nil? ? nil : check_data(cmd["data"], data_bytes) if cmd.key?("data")
        if cmd.key?("persistent")
          raise CommandError, 'login: "persistent" must be true or false' unless [true, false].include?(cmd["persistent"])

          out["persistent"] = cmd["persistent"]
        end
      when "set_data"
        out["data"] = check_data(cmd["data"], data_bytes)
      when "regenerate"
        roles = cmd["roles"]
        case cmd["reason"].is_a?(Symbol) ? cmd["reason"].to_s : cmd["reason"]
        when "permission_change"
          raise CommandError, 'permission_change needs "roles"' if roles.nil?

          out.merge!("reason" => "permission_change", "roles" => check_roles(roles))
        when "password_change"
          raise CommandError, 'password_change takes no "roles"' unless roles.nil?

          out["reason"] = "password_change"
        else
          raise CommandError, "unknown regenerate reason; accepted: password_change, permission_change"
        end
      end
      out
    end
  end

  # The commands of one response, in order, each checked when added. `signed_in`: whether
  # the request has a signed-in session (nil: not known, the sequence is not checked).
  class CommandList
    attr_reader :items

    def initialize(signed_in: nil, data_bytes: LIMITS[:data_bytes])
      @items = []
      @signed_in = signed_in
      @data_bytes = data_bytes
    end

    def add(cmd)
      cmd = Commands.check_command(cmd, @data_bytes)
      raise CommandError, "more than #{LIMITS[:commands]} commands" if @items.length >= LIMITS[:commands]

      header = Commands.ascii_json(@items + [cmd])
      raise CommandError, "command is longer than #{LIMITS[:header_bytes]} bytes" if header.bytesize > LIMITS[:header_bytes]

      @signed_in = sequence(@signed_in, cmd["action"]) unless @signed_in.nil?
      @items << cmd
      header
    end

    # The X-Session-Command value: one JSON array, in order, ASCII only.
    def header
      Commands.ascii_json(@items)
    end

    private

    def sequence(signed_in, action)
      raise CommandError, "#{action} needs a signed-in session and the request has none" if NEEDS_SESSION.include?(action) && !signed_in

      return true if action == "login"
      return false if %w[logout logout_all].include?(action)

      signed_in
    end
  end

  # The wire command for each helper.
  module Build
    module_function

    def login(user:, roles: [], data: :unset, persistent: false)
      cmd = { "action" => "login", "user" => user, "roles" => roles }
      cmd["data"] = data unless data == :unset
      cmd.merge("persistent" => persistent)
    end

    # With `roles`: a permission change (roles replaced); without: a password change.
    def regenerate(roles: nil, reason: nil)
      reason ||= roles.nil? ? "password_change" : "permission_change"
      cmd = { "action" => "regenerate", "reason" => reason }
      cmd["roles"] = roles unless roles.nil?
      cmd
    end
  end

  COMMANDS_KEY = "sessiongate.commands"

  class << self
    # The request's command list (env: the Rack env); the middleware sends it.
    def commands(env)
      env[COMMANDS_KEY] ||= begin
        identity = env.fetch("sessiongate", :unknown)
        signed_in = identity == :unknown ? nil : !identity&.user.nil?
        CommandList.new(signed_in: signed_in, data_bytes: env.fetch("sessiongate.data_bytes", LIMITS[:data_bytes]))
      end
    end

    def login(env, user:, roles: [], data: :unset, persistent: false)
      commands(env).add(Build.login(user: user, roles: roles, data: data, persistent: persistent))
    end

    def logout(env) = commands(env).add({ "action" => "logout" })
    def regenerate(env, roles: nil, reason: nil) = commands(env).add(Build.regenerate(roles: roles, reason: reason))
    def elevate(env) = commands(env).add({ "action" => "elevate" })
    def set_data(env, data) = commands(env).add({ "action" => "set_data", "data" => data })
    def logout_others(env) = commands(env).add({ "action" => "logout_others" })
    def logout_all(env) = commands(env).add({ "action" => "logout_all" })
  end
end
