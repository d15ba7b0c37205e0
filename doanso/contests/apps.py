from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContestsConfig(AppConfig):
    name = "doanso.contests"
    label = "contests"
    verbose_name = _("Online contests")

    def ready(self):
        from doanso.accounts.roles import extend_role
        from doanso.core.context_processors import NAV_ITEMS

        from .permissions import MANAGE_CONTESTS, VIEW_CONTESTS

        # Managers set contests up and review flags; staff follow results and participation.
        extend_role("unit_manager", actions={MANAGE_CONTESTS, VIEW_CONTESTS})
        extend_role("unit_staff", actions={VIEW_CONTESTS})
        if not any(item[0] == "contests:contest_list" for item in NAV_ITEMS):
            NAV_ITEMS.insert(-2, ("contests:contest_list", _("Contests"), VIEW_CONTESTS))
