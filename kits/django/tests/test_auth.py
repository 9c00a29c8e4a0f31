"""SessiongateBackend without the gate: users created on first sight or not
(CREATE_USERS), roles to groups (ROLE_GROUPS True or a mapping, CREATE_GROUPS),
is_staff / is_superuser from roles, groups following a role change, and permissions
through the groups. Django is configured in a child process (settings are per process).
Behind the real gate: tests/kits/django-idioms.test.mjs."""

import subprocess
import sys
import textwrap
import unittest
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, SRC)
    from django.conf import settings
    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        AUTHENTICATION_BACKENDS=["sessiongate_django.auth.SessiongateBackend"],
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        SESSIONGATE=CONF,
    )
    import django
    django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    from django.contrib.auth import authenticate
    from django.contrib.auth.models import Group, Permission, User
    from sessiongate_django.verify import Identity

    def who(user, roles):
        return Identity.from_claims({"sub": user, "roles": roles}, {})

    def groups(u):
        return sorted(g.name for g in u.groups.all())

    RUN
    print("OK")
    """
)


def run(conf, body):
    code = SCRIPT.replace("SRC", repr(str(SRC))).replace("CONF", repr(conf)).replace("RUN", textwrap.dedent(body).replace("\n", "\n    "))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


class Backend(unittest.TestCase):
    def check(self, conf, body):
        code, out = run(conf, body)
        self.assertEqual((code, out.strip().splitlines()[-1] if out.strip() else ""), (0, "OK"), out)

    def test_created_on_first_sight_with_groups_and_staff(self):
        self.check(
            {"CREATE_USERS": True, "ROLE_GROUPS": True, "CREATE_GROUPS": True, "STAFF_ROLES": ["admin"]},
            """
            u = authenticate(None, sessiongate=who("alice", ["user", "admin"]))
            assert u.username == "alice" and not u.has_usable_password(), u
            assert groups(u) == ["admin", "user"] and u.is_staff and not u.is_superuser
            Group.objects.get(name="admin").permissions.add(Permission.objects.get(codename="view_user"))
            u = authenticate(None, sessiongate=who("alice", ["user", "admin"]))
            assert u.has_perm("auth.view_user")
            # A permission change (regenerate with roles) takes effect on the next request.
            u = authenticate(None, sessiongate=who("alice", ["user"]))
            assert groups(u) == ["user"] and not u.is_staff and not u.has_perm("auth.view_user"), groups(u)
            assert User.objects.count() == 1
            assert authenticate(None, sessiongate=who(None, [])) is None
            """,
        )

    def test_existing_users_only(self):
        self.check(
            {"CREATE_USERS": False},
            """
            assert authenticate(None, sessiongate=who("mallory", ["admin"])) is None
            assert User.objects.count() == 0
            User.objects.create(username="bob")
            assert authenticate(None, sessiongate=who("bob", ["user"])).username == "bob"
            """,
        )

    def test_role_mapping_and_unmanaged_groups(self):
        self.check(
            {"ROLE_GROUPS": {"admin": ["Editors", "Auditors"]}, "SUPERUSER_ROLES": ["root"]},
            """
            for n in ["Editors", "Auditors", "Newsletter"]:
                Group.objects.create(name=n)
            u = User.objects.create(username="carol")
            u.groups.add(Group.objects.get(name="Newsletter"))
            u = authenticate(None, sessiongate=who("carol", ["admin", "user"]))
            assert groups(u) == ["Auditors", "Editors", "Newsletter"], groups(u)
            u = authenticate(None, sessiongate=who("carol", ["user", "root"]))
            assert groups(u) == ["Newsletter"] and u.is_superuser, groups(u)
            assert not Group.objects.filter(name="user").exists(), "CREATE_GROUPS defaults to False"
            """,
        )


if __name__ == "__main__":
    unittest.main()
