"""The Django kit's command builder: the same cases as the gate (tests/kits/command-cases.json,
checked against the real gate by tests/kits/commands.test.mjs), and the helpers' wire form."""

import json
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1] / "src"))

from sessiongate_django.commands import (  # noqa: E402
    CommandError,
    CommandList,
    elevate,
    login,
    logout,
    logout_all,
    logout_others,
    regenerate,
    set_data,
)

CASES = json.loads((HERE.parents[3] / "tests/kits/command-cases.json").read_text())["cases"]


class Response(dict):
    """What the helpers need of an HttpResponse: item assignment of a header."""


def accepts(case):
    lst = CommandList(signed_in=case["signed_in"])
    try:
        for cmd in case["commands"]:
            lst.add(cmd)
        return True
    except CommandError:
        return False


class SameCasesAsTheGate(unittest.TestCase):
    def test_every_case(self):
        self.assertGreater(len(CASES), 80)
        for case in CASES:
            with self.subTest(case["name"]):
                self.assertEqual(accepts(case), case["ok"])


class Helpers(unittest.TestCase):
    def test_several_commands_one_array_in_order(self):
        r = Response()
        login(r, user="alice", roles=["user"], data={"theme": "dark"}, persistent=True)
        set_data(r, {"cart": [1]})
        elevate(r)
        self.assertEqual(
            r["X-Session-Command"],
            '[{"action":"login","user":"alice","roles":["user"],"data":{"theme":"dark"},"persistent":true},'
            '{"action":"set_data","data":{"cart":[1]}},{"action":"elevate"}]',
        )

    def test_each_helper(self):
        for write, want in [
            (logout, '[{"action":"logout"}]'),
            (regenerate, '[{"action":"regenerate","reason":"password_change"}]'),
            (lambda r: regenerate(r, roles=["admin"]), '[{"action":"regenerate","reason":"permission_change","roles":["admin"]}]'),
            (logout_others, '[{"action":"logout_others"}]'),
            (logout_all, '[{"action":"logout_all"}]'),
            (lambda r: login(r, "jösé"), '[{"action":"login","user":"j\\u00f6s\\u00e9","roles":[],"persistent":false}]'),
        ]:
            r = Response()
            write(r)
            self.assertEqual(r["X-Session-Command"], want)

    def test_invalid_input_raises_and_leaves_the_header(self):
        for write, message in [
            (lambda r: login(r, "al\nice"), "sessiongate command: user contains control characters"),
            (lambda r: login(r, "alice", data=[1]), "sessiongate command: data must be an object"),
            (lambda r: set_data(r, {"n": float("nan")}), "sessiongate command: data.n is not a finite number"),
            (lambda r: set_data(r, {"when": object()}), "sessiongate command: data.when is not JSON (object)"),
            (lambda r: set_data(r, {1: "x"}), "sessiongate command: a key of data is not a string"),
            (lambda r: login(r, "alice", persistent="yes"), 'sessiongate command: login: "persistent" must be true or false'),
            (lambda r: regenerate(r, roles=["a"], reason="password_change"), 'sessiongate command: password_change takes no "roles"'),
        ]:
            r = Response()
            set_data(r, {"a": 1})
            with self.assertRaises(CommandError) as cm:
                write(r)
            self.assertEqual(str(cm.exception), message)
            self.assertEqual(r["X-Session-Command"], '[{"action":"set_data","data":{"a":1}}]')

    def test_sequence_checked_against_the_request(self):
        r = Response()
        elevate(r)  # not known yet whether the request is signed in
        with self.assertRaisesRegex(CommandError, "elevate needs a signed-in session"):
            r.sessiongate_commands.check_sequence(False)
        r.sessiongate_commands.check_sequence(True)
        r = Response()
        login(r, "bob")
        elevate(r)
        r.sessiongate_commands.check_sequence(False)


if __name__ == "__main__":
    unittest.main()
