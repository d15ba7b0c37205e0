"""search_text now starts with a space (word-start matching of short words): recompute it for every row."""

from django.db import migrations


def recompute(apps, schema_editor):
    from doanso.core.text import fold

    Member = apps.get_model("members", "Member")
    fields = ("id", "family_name", "middle_name", "given_name", "other_names", "citizen_id", "phone", "card_number")
    batch = []
    for m in Member.objects.only(*fields).iterator(chunk_size=5000):
        digits = "".join(ch for ch in (m.phone or "") if ch.isdigit())
        local = "0" + digits[2:] if digits.startswith("84") else digits
        parts = (fold(f"{m.family_name} {m.middle_name} {m.given_name} {m.other_names}"), m.citizen_id or "", local,
                 m.card_number or "")
        m.search_text = " " + " ".join(p for p in parts if p)
        batch.append(m)
        if len(batch) == 5000:
            Member.objects.bulk_update(batch, ["search_text"])
            batch = []
    Member.objects.bulk_update(batch, ["search_text"])


class Migration(migrations.Migration):
    dependencies = [("members", "0005_vietnamese_sort_key")]
    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
