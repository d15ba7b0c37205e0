from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from doanso.accounts.roles import MANAGE_MEMBERS, MANAGE_ROLES, VIEW_AUDIT, VIEW_MEMBERS, VIEW_UNITS
from doanso.accounts.scope import can_anywhere

# (url name, label, action needed or None for anyone logged in). Modules append their entries.
NAV_ITEMS: list[tuple[str, object, str | None]] = [
    ("core:dashboard", _("Overview"), None),
    ("org:tree", _("Units"), VIEW_UNITS),
    ("members:member_list", _("Members"), VIEW_MEMBERS),
    ("members:campaign_list", _("Data updates"), VIEW_MEMBERS),
    ("members:correction_inbox", _("Correction requests"), MANAGE_MEMBERS),
    ("accounts:role_list", _("Roles and users"), MANAGE_ROLES),
    ("core:audit_list", _("Audit log"), VIEW_AUDIT),
    ("core:task_list", _("Tasks"), None),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    if hasattr(user, "member"):
        # A member with their own account: their page comes first.
        items.append(
            {
                "url": reverse("members:my_home"),
                "label": _("My membership"),
                "active": request.path.startswith(reverse("members:my_home")),
            }
        )
    for name, label, action in NAV_ITEMS:
        if action is None or can_anywhere(user, action):
            url = reverse(name)
            items.append({"url": url, "label": label, "active": request.path.startswith(url) and url != "/"})
    return {"nav_items": items}
