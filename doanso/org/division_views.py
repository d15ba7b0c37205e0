"""Administrative divisions for people: convert a pre-2025 address, and the JSON lookup behind pickers.

Divisions are public reference data, so any logged-in user may use both; nothing here is scoped to units.
"""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from .divisions import convert_legacy_address, picker_value, search_divisions

LOOKUP_LIMIT = 15
# A former district alone can cover dozens of communes, a bare commune name hundreds; a page lists this many.
SHOWN_CANDIDATES = 100


class LegacyAddressForm(forms.Form):
    province = forms.CharField(
        label=_("Former province"),
        max_length=100,
        required=False,
        help_text=_("Name or code, e.g. “Tỉnh Quảng Nam” or 49."),
    )
    district = forms.CharField(
        label=_("Former district"),
        max_length=100,
        required=False,
        help_text=_("Name or code, e.g. “Huyện Nam Giang”."),
    )
    commune = forms.CharField(
        label=_("Former commune"),
        max_length=100,
        required=False,
        help_text=_("Name or code, e.g. “Xã Tà Bhinh”; diacritics may be left out."),
    )

    def clean(self):
        super().clean()
        if not any(self.cleaned_data.get(name) for name in ("province", "district", "commune")):
            raise ValidationError(_("Enter at least the former province, district or commune."))
        return self.cleaned_data


@login_required
@require_GET
def division_convert(request):
    # Bound only once the form was sent: a first visit shows an empty form, not "enter at least …".
    sent = any(name in request.GET for name in LegacyAddressForm.base_fields)
    form = LegacyAddressForm(request.GET if sent else None)
    context: dict = {"form": form}
    if form.is_bound and form.is_valid():
        result = convert_legacy_address(**form.cleaned_data)
        context.update(
            result=result,
            candidates=result.candidates[:SHOWN_CANDIDATES],
            hidden_candidates=max(0, len(result.candidates) - SHOWN_CANDIDATES),
        )
    return render(request, "org/division_convert.html", context)


@login_required
@require_GET
def division_lookup(request):
    """Up to 15 current provinces or communes matching ?q= (diacritics ignored); ``label`` is the text the
    division picker fields accept ("Name, Province — CODE")."""
    divisions = search_divisions(request.GET.get("q", "")[:100], limit=LOOKUP_LIMIT)
    results = [
        {
            "code": d.code,
            "name": d.name,
            "province": d.province.name if d.province_id else None,
            "label": picker_value(d),
        }
        for d in divisions
    ]
    return JsonResponse({"results": results})
