from doanso.core.tests.matrix import LOGGED_IN, LOGIN, PUBLIC, Route, same

# Roles pages need the right to manage roles somewhere; everything is filtered to the subtree.
ROLES = (LOGIN, 404, 200, 200, 200)

ROUTES = {
    # A logged-in visitor is sent on to the overview.
    "accounts:login": Route(expect=(200, 302, 302, 302, 302)),
    # Without a password step in progress, the code page sends back to the login page.
    "accounts:otp_verify": Route(expect=same(302)),
    "accounts:logout": Route(expect=same(302), method="post"),
    "accounts:profile": LOGGED_IN,
    "accounts:otp_setup": LOGGED_IN,
    "accounts:otp_disable": Route(expect=(LOGIN, 302, 302, 302, 302), method="post"),
    # A token belongs to the manager of C1 only.
    "accounts:token_revoke": Route(
        expect=(LOGIN, 404, 404, 404, 302), method="post", kwargs=lambda w: {"pk": w.token.pk}
    ),
    "accounts:invitation_accept": Route(expect=same(200), kwargs=lambda w: {"token": w.invitation_token}),
    "accounts:password_reset": PUBLIC,
    "accounts:password_reset_done": PUBLIC,
    "accounts:password_reset_confirm": Route(expect=same(200), kwargs=lambda w: {"uidb64": "MQ", "token": "x-y"}),
    "accounts:password_reset_complete": PUBLIC,
    "accounts:role_list": Route(expect=ROLES),
    "accounts:role_assign": Route(expect=ROLES),
    "accounts:invite": Route(expect=ROLES),
    # Revoking the role of C1's staff member: only managers above it may.
    "accounts:role_revoke": Route(
        expect=(LOGIN, 404, 404, 302, 302), method="post", kwargs=lambda w: {"pk": w.staff_assignment.pk}
    ),
}
