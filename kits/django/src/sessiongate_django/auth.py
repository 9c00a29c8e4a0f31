"""`request.user` from the gate's signed identity: a real `django.contrib.auth` user, so
Django's own `@login_required`, `@permission_required`, `user.has_perm` and the admin
site work behind the gate. The gate holds the session: no Django session is involved.

    MIDDLEWARE = [
        "sessiongate_django.SessiongateMiddleware",          # request.sessiongate
        "django.middleware.csrf.CsrfViewMiddleware",
        "sessiongate_django.auth.SessiongateAuthMiddleware", # request.user (an AuthenticationMiddleware)
        "django.contrib.messages.middleware.MessageMiddleware",
    ]
    AUTHENTICATION_BACKENDS = ["sessiongate_django.auth.SessiongateBackend"]
    SESSIONGATE = {
        ...,
        "CREATE_USERS": True,          # a user the gate vouches for is created on first sight;
                                       # False: only existing users (others stay anonymous)
        "ROLE_GROUPS": True,           # each role is the Group of that name (or a dict role -> group names)
        "CREATE_GROUPS": False,        # True: a mapped group that does not exist is created
        "STAFF_ROLES": ["admin"],      # roles that make user.is_staff (the admin site)
        "SUPERUSER_ROLES": [],         # roles that make user.is_superuser (every permission)
    }

The user's groups, is_staff and is_superuser follow the session's roles on every request
(saved only when they change), so a `regenerate(roles=...)` takes effect at once.
Permissions are Django's: give them to the groups (the admin, a data migration).
"""

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser, Group
from django.db import IntegrityError, transaction
from django.utils.functional import SimpleLazyObject


def _conf():
    return getattr(settings, "SESSIONGATE", {})


class SessiongateBackend(ModelBackend):
    """`authenticate(request, sessiongate=identity)`: the user the gate's assertion names.
    Permissions as ModelBackend gives them (the user's and its groups')."""

    def authenticate(self, request, sessiongate=None, **kwargs):
        if sessiongate is None or sessiongate.user is None:
            return None
        conf = _conf()
        model = self._user_model()
        manager = model._default_manager
        try:
            user = manager.get_by_natural_key(sessiongate.user)
        except model.DoesNotExist:
            if not conf.get("CREATE_USERS", True):
                return None
            user = self._create(manager, model, sessiongate.user)
        self._apply_roles(user, sessiongate.roles, conf)
        return user if self.user_can_authenticate(user) else None

    @staticmethod
    def _create(manager, model, username):
        """The user, with an unusable password (it signs in through the gate only). Two
        first requests at once: the one that loses the race reads the other's user."""
        try:
            with transaction.atomic():
                user = model(**{model.USERNAME_FIELD: username})
                user.set_unusable_password()
                user.save()
                return user
        except IntegrityError:
            return manager.get_by_natural_key(username)

    @staticmethod
    def _user_model():
        from django.contrib.auth import get_user_model

        return get_user_model()

    def _apply_roles(self, user, roles, conf):
        changed = []
        for attr, key in (("is_staff", "STAFF_ROLES"), ("is_superuser", "SUPERUSER_ROLES")):
            if key in conf and hasattr(user, attr):
                want = any(r in roles for r in conf[key])
                if getattr(user, attr) != want:
                    setattr(user, attr, want)
                    changed.append(attr)
        if changed:
            user.save(update_fields=changed)
        mapping = conf.get("ROLE_GROUPS", True)
        if mapping is False or mapping is None:
            return
        names = set()
        for role in roles:
            names.update([role] if mapping is True else mapping.get(role, []))
        groups = list(Group.objects.filter(name__in=names))
        if conf.get("CREATE_GROUPS", False):
            missing = names - {g.name for g in groups}
            groups += [Group.objects.create(name=n) for n in sorted(missing)]
        managed = None if mapping is True else {n for ns in mapping.values() for n in ns}
        current = set(user.groups.all())
        keep = {g for g in current if managed is not None and g.name not in managed}
        if current != keep | set(groups):
            user.groups.set(keep | set(groups))
            # ModelBackend caches permissions on the user object.
            for cache in ("_perm_cache", "_group_perm_cache", "_user_perm_cache"):
                user.__dict__.pop(cache, None)


def get_user(request):
    if not hasattr(request, "_sessiongate_user"):
        identity = getattr(request, "sessiongate", None)
        user = authenticate(request, sessiongate=identity) if identity is not None and identity.user else None
        request._sessiongate_user = user or AnonymousUser()
    return request._sessiongate_user


class SessiongateAuthMiddleware(AuthenticationMiddleware):
    """`request.user` (and `request.auser()`) from the verified assertion, after
    SessiongateMiddleware. A subclass of Django's AuthenticationMiddleware, so the admin
    and `django.contrib.auth` find it; it needs no Django session (the admin's check for
    SessionMiddleware, admin.E410, can be silenced: the gate holds the session)."""

    def process_request(self, request):
        request.user = SimpleLazyObject(lambda: get_user(request))

        async def auser():
            from asgiref.sync import sync_to_async

            return await sync_to_async(get_user)(request)

        request.auser = auser
