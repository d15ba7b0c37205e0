import csv
import io

from django.tasks import task
from django.utils.translation import gettext as _

from doanso.core.tasks import Progress, tracked

from .models import Unit


@task
@tracked
def export_units(progress: Progress, *, unit_id: int) -> dict:
    """A CSV of every unit in a subtree: code, name, kind, parent, division, dates. Opens in Excel as UTF-8."""
    root = Unit.objects.get(pk=unit_id)
    units = Unit.objects.filter(path__startswith=root.path).select_related("parent", "division").order_by("path")
    total = units.count()
    progress.start(total, _("Writing {n} units").format(n=total))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            _("Code"),
            _("Name"),
            _("Short name"),
            _("Kind"),
            _("Organisation"),
            _("Parent code"),
            _("Level"),
            _("Area type"),
            _("Division code"),
            _("Active from"),
            _("Active until"),
        ]
    )
    for done, unit in enumerate(units.iterator(chunk_size=2000), start=1):
        writer.writerow(
            [
                unit.code,
                unit.name,
                unit.short_name,
                unit.get_kind_display(),
                unit.get_org_display(),
                unit.parent.code if unit.parent else "",
                unit.depth - root.depth,
                unit.get_area_type_display(),
                unit.division.code if unit.division else "",
                unit.active_from.strftime("%d/%m/%Y"),
                unit.active_to.strftime("%d/%m/%Y") if unit.active_to else "",
            ]
        )
        progress.advance(done)
    progress.advance(total, message=_("Wrote {n} units.").format(n=total))
    progress.attach_result(f"don-vi-{root.code}.csv", ("\ufeff" + buffer.getvalue()).encode("utf-8"))
    return {_("Units"): total}
