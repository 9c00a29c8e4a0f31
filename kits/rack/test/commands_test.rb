# frozen_string_literal: true

# The Rack kit's command builder: the same cases as the gate (tests/kits/command-cases.json,
# checked against the real gate by tests/kits/commands.test.mjs), and the helpers' wire form.
require "minitest/autorun"
require "json"
require "sessiongate/rack"

class CommandCasesTest < Minitest::Test
  ROOT = File.expand_path("../../..", __dir__)
  # Ruby's JSON parser refuses a lone surrogate escape, which a JS or Python string can
  # hold; its Ruby counterpart is a string that is not valid UTF-8 (WTF-8 bytes of U+D800).
  LONE = "\xED\xA0\x80".dup.force_encoding(Encoding::UTF_8)

  def self.cases
    text = File.read(File.join(ROOT, "tests/kits/command-cases.json"))
    marked = text.gsub(/\\u[dD][89a-fA-F][0-9a-fA-F]{2}/, "@@LONE@@")
    swap = lambda do |v|
      case v
      when String then v.gsub("@@LONE@@", LONE)
      when Array then v.map(&swap)
      when Hash then v.to_h { |k, x| [swap.call(k), swap.call(x)] }
      else v
      end
    end
    swap.call(JSON.parse(marked)["cases"])
  end

  def accepts?(c)
    list = Sessiongate::CommandList.new(signed_in: c["signed_in"])
    c["commands"].each { |cmd| list.add(cmd) }
    true
  rescue Sessiongate::CommandError
    false
  end

  def test_every_case_as_the_gate
    cases = self.class.cases
    assert_operator cases.length, :>, 80
    cases.each { |c| assert_equal c["ok"], accepts?(c), c["name"] }
  end

  def env(identity = :none)
    identity == :none ? {} : { "sessiongate" => identity }
  end

  ALICE = Sessiongate::Identity.new(user: "alice", roles: ["user"], data: {})

  def test_several_commands_one_array_in_order
    e = env(nil)
    Sessiongate.login(e, user: "alice", roles: ["user"], data: { theme: "dark" }, persistent: true)
    Sessiongate.set_data(e, { cart: [1] })
    Sessiongate.elevate(e)
    assert_equal '[{"action":"login","user":"alice","roles":["user"],"data":{"theme":"dark"},"persistent":true},' \
                 '{"action":"set_data","data":{"cart":[1]}},{"action":"elevate"}]', e["sessiongate.commands"].header
  end

  def test_each_helper
    {
      ->(e) { Sessiongate.logout(e) } => '[{"action":"logout"}]',
      ->(e) { Sessiongate.regenerate(e) } => '[{"action":"regenerate","reason":"password_change"}]',
      ->(e) { Sessiongate.regenerate(e, roles: ["admin"]) } => '[{"action":"regenerate","reason":"permission_change","roles":["admin"]}]',
      ->(e) { Sessiongate.logout_others(e) } => '[{"action":"logout_others"}]',
      ->(e) { Sessiongate.logout_all(e) } => '[{"action":"logout_all"}]',
      ->(e) { Sessiongate.login(e, user: "jösé") } => '[{"action":"login","user":"j\u00f6s\u00e9","roles":[],"persistent":false}]'.gsub("\u00f6", "\\u00f6").gsub("\u00e9", "\\u00e9")
    }.each do |write, want|
      e = env(ALICE)
      write.call(e)
      assert_equal want, e["sessiongate.commands"].header
    end
  end

  def test_invalid_input_raises_and_changes_nothing
    {
      ->(e) { Sessiongate.login(e, user: "al\nice") } => "sessiongate command: user contains control characters",
      ->(e) { Sessiongate.login(e, user: "alice", data: [1]) } => "sessiongate command: data must be an object",
      ->(e) { Sessiongate.set_data(e, { n: Float::NAN }) } => "sessiongate command: data.n is not a finite number",
      ->(e) { Sessiongate.set_data(e, { t: Time.at(0) }) } => "sessiongate command: data.t is not JSON (Time)",
      ->(e) { Sessiongate.login(e, user: "alice", persistent: "yes") } => 'sessiongate command: login: "persistent" must be true or false',
      ->(e) { Sessiongate.login(e, user: "al\xFFice".b) } => "sessiongate command: user is not valid Unicode"
    }.each do |write, message|
      e = env(ALICE)
      Sessiongate.set_data(e, { a: 1 })
      err = assert_raises(Sessiongate::CommandError) { write.call(e) }
      assert_equal message, err.message
      assert_equal '[{"action":"set_data","data":{"a":1}}]', e["sessiongate.commands"].header
    end
  end

  def test_commands_needing_a_session
    %i[elevate logout_others logout_all regenerate].each do |m|
      err = assert_raises(Sessiongate::CommandError) { Sessiongate.public_send(m, env(nil)) }
      assert_match(/needs a signed-in session and the request has none\z/, err.message)
    end
    e = env(Sessiongate::Identity.new(user: nil, roles: []))
    Sessiongate.login(e, user: "bob")
    Sessiongate.elevate(e)
    Sessiongate.elevate(env) # the middleware did not run: not known, not checked
  end
end
