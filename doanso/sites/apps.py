from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Actions of the sites module ("<app>.<verb>"), granted to the foundation's roles in ready().
VIEW_SITES = "sites.view"  # the editors' pages, drafts included
EDIT_SITES = "sites.edit"  # create, edit drafts, upload media, submit for review, import
PUBLISH_SITES = "sites.publish"  # review: publish or return; edit what is already published
ADOPT_SITES = "sites.adopt"  # adopt a site or marker for the unit, log activities and condition reports


class SitesConfig(AppConfig):
    name = "doanso.sites"
    label = "sites"
    verbose_name = _("Digital sites")

    def ready(self):
        from doanso.accounts.roles import extend_role
        from doanso.core.context_processors import NAV_ITEMS

        extend_role("unit_manager", actions={VIEW_SITES, EDIT_SITES, PUBLISH_SITES, ADOPT_SITES})
        extend_role("unit_staff", actions={VIEW_SITES, EDIT_SITES, ADOPT_SITES})
        entry = ("sites:site_list", _("Digital sites"), VIEW_SITES)
        if entry not in NAV_ITEMS:
            NAV_ITEMS.insert(len(NAV_ITEMS) - 3, entry)
