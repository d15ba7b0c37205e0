"""A large unit tree built in bulk for benchmarks: rows as the services would have written them."""

import datetime

START = datetime.date(2020, 1, 1)


def build_tree(total_units: int = 10_000, communes: int = 100, branches: int = 8, groups: int = 4):
    """A province, ``communes`` communes each with ``branches`` branches of ``groups`` groups (40 descendants
    per commune by default), topped up with spare units to ``total_units``. Returns (communes, leaf ids)."""
    from django.db import connection

    from doanso.org.models import Unit, UnitKind, UnitVersion

    root = Unit.objects.create(code="ROOT", name="Thành đoàn", kind=UnitKind.PROVINCE, path="", active_from=START)
    Unit.objects.filter(pk=root.pk).update(path=f"/{root.pk}/")
    root.refresh_from_db()
    next_id = root.pk + 1
    rows, made_communes, leaves = [], [], []

    def unit(code, name, kind, parent, depth):
        nonlocal next_id
        u = Unit(
            id=next_id,
            code=code,
            name=name,
            kind=kind,
            parent=parent,
            path=f"{parent.path}{next_id}/",
            depth=depth,
            active_from=START,
            search_name=name.lower(),
        )
        next_id += 1
        rows.append(u)
        return u

    for c in range(communes):
        commune = unit(f"C{c}", f"Đoàn xã {c}", UnitKind.COMMUNE, root, 1)
        made_communes.append(commune)
        for b in range(branches):
            branch = unit(f"C{c}B{b}", f"Chi đoàn {c}-{b}", UnitKind.BRANCH, commune, 2)
            for g in range(groups):
                leaves.append(unit(f"C{c}B{b}G{g}", f"Tổ {c}-{b}-{g}", UnitKind.OTHER, branch, 3).id)
    while len(rows) + 1 < total_units:
        unit(f"S{len(rows)}", f"Đơn vị {len(rows)}", UnitKind.OTHER, root, 1)
    Unit.objects.bulk_create(rows, batch_size=2000)
    UnitVersion.objects.bulk_create(
        [
            UnitVersion(
                unit_id=u.id,
                valid_from=START,
                change="created",
                code=u.code,
                name=u.name,
                kind=u.kind,
                parent_id=u.parent_id,
            )
            for u in [root, *rows]
        ],
        batch_size=2000,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('org_unit', 'id'), {next_id})")
    return made_communes, leaves
