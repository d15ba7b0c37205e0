from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from doanso.accounts.roles import MANAGE_UNITS
from doanso.core.text import nfc
from doanso.core.widgets import DateInput

from .models import AdministrativeDivision, AreaType, Organisation, Unit, UnitKind


class UnitCodeField(forms.Field):
    """A unit typed by code (the picker suggests "Name — CODE" as the user types a name without accents).

    Resolves within ``queryset`` only, so a forged code of a unit outside the user's scope reads as unknown.
    """

    def __init__(self, *, queryset=None, **kwargs):
        self.queryset = queryset if queryset is not None else Unit.objects.none()
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"autocomplete": "off", "data-unit-picker": "1", "placeholder": _("Type a name or code")})
        return attrs

    def to_python(self, value):
        if isinstance(value, Unit):
            return value  # a disabled field gives back its initial unit, not text
        value = (value or "").strip()
        if not value:
            return None
        # Accept "Name — CODE" as suggested by the picker, or the bare code.
        code = value.rsplit("—", 1)[-1].strip()[:32]
        unit = self.queryset.filter(code__iexact=code).first()
        if unit is None:
            raise ValidationError(_("No unit with the code “{code}” in your units.").format(code=code))
        return unit

    def prepare_value(self, value):
        if isinstance(value, Unit):
            return f"{value.name} — {value.code}"
        return value


class DivisionField(forms.Field):
    """A commune or province typed by name (suggestions) or given by its official code."""

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update(
            {"autocomplete": "off", "data-division-picker": "1", "placeholder": _("Type the name of the commune")}
        )
        return attrs

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return None
        code = value.rsplit("—", 1)[-1].strip()[:8]
        division = AdministrativeDivision.objects.filter(code=code).select_related("province").first()
        if division is None:
            raise ValidationError(_("Choose an administrative division from the suggestions."))
        return division

    def prepare_value(self, value):
        if isinstance(value, AdministrativeDivision):
            return f"{value} — {value.code}"
        return value


def effective_field(label=None):
    return forms.DateField(
        label=label or _("Effective date"),
        initial=timezone.localdate,
        widget=DateInput(),
        help_text=_("The date of the decision, dd/mm/yyyy."),
    )


class UnitFieldsMixin(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32, help_text=_("Short and unique, e.g. DN-HAICHAU."))
    name = forms.CharField(label=_("Name"), max_length=255)
    short_name = forms.CharField(label=_("Short name"), max_length=100, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=UnitKind.choices)
    org = forms.ChoiceField(label=_("Organisation"), choices=Organisation.choices, initial=Organisation.UNION)
    area_type = forms.ChoiceField(label=_("Area type"), choices=[("", "—"), *AreaType.choices], required=False)
    division = DivisionField(label=_("Administrative division"), required=False)

    def clean_name(self):
        return nfc(self.cleaned_data["name"])

    def unit_data(self):
        from .services import UnitData

        d = self.cleaned_data
        return UnitData(
            code=d["code"],
            name=d["name"],
            kind=d["kind"],
            short_name=d.get("short_name", ""),
            org=d["org"],
            area_type=d.get("area_type", ""),
            division=d.get("division"),
        )


class UnitCreateForm(UnitFieldsMixin):
    active_from = effective_field(_("Active from"))


class UnitEditForm(UnitFieldsMixin):
    effective = effective_field()
    note = forms.CharField(label=_("Decision or note"), max_length=500, required=False)


class MoveForm(forms.Form):
    new_parent = UnitCodeField(label=_("New parent unit"))
    effective = effective_field()
    note = forms.CharField(label=_("Decision or note"), max_length=500, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_parent"].queryset = Unit.objects.restrict(user, MANAGE_UNITS).filter(active_to__isnull=True)


class MergeForm(forms.Form):
    MODE_INTO = "into"
    MODE_NEW = "new"
    others = forms.ModelMultipleChoiceField(
        label=_("Also merge these units"),
        queryset=Unit.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Units at the same level as this one."),
    )
    mode = forms.ChoiceField(
        label=_("Merge into"),
        widget=forms.RadioSelect,
        initial=MODE_INTO,
        choices=[(MODE_INTO, _("an existing unit")), (MODE_NEW, _("a new unit"))],
    )
    into = UnitCodeField(label=_("Existing unit that takes them in"), required=False)
    new_code = forms.CharField(label=_("Code of the new unit"), max_length=32, required=False)
    new_name = forms.CharField(label=_("Name of the new unit"), max_length=255, required=False)
    new_kind = forms.ChoiceField(label=_("Kind of the new unit"), choices=UnitKind.choices, required=False)
    new_parent = UnitCodeField(label=_("Parent of the new unit"), required=False)
    effective = effective_field()
    note = forms.CharField(label=_("Decision or note"), max_length=500, required=False)

    def __init__(self, *args, user, unit, **kwargs):
        super().__init__(*args, **kwargs)
        managed = Unit.objects.restrict(user, MANAGE_UNITS).filter(active_to__isnull=True)
        siblings = managed.filter(parent=unit.parent_id).exclude(pk=unit.pk).order_by("search_name")
        self.fields["others"].queryset = siblings
        self.fields["into"].queryset = managed
        self.fields["new_parent"].queryset = managed
        self.initial.setdefault("new_kind", unit.kind)
        if unit.parent_id:
            self.initial.setdefault("new_parent", unit.parent)

    def clean(self):
        data = super().clean()
        if data.get("mode") == self.MODE_INTO:
            if not data.get("into") and "into" not in self.errors:
                self.add_error("into", _("Choose the unit that takes them in."))
        else:
            for name in ("new_code", "new_name", "new_kind", "new_parent"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, _("This field is required for a new unit."))
        return data


class SplitPartForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32)
    name = forms.CharField(label=_("Name"), max_length=255)
    kind = forms.ChoiceField(label=_("Kind"), choices=UnitKind.choices)
    children = forms.ModelMultipleChoiceField(
        label=_("Units it takes"), queryset=Unit.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, unit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["children"].queryset = unit.children.filter(active_to__isnull=True).order_by("search_name")
        self.initial.setdefault("kind", unit.kind)


SplitPartFormSet = forms.formset_factory(SplitPartForm, extra=2, max_num=6, min_num=1, validate_min=True)


class DissolveForm(forms.Form):
    effective = effective_field()
    reason = forms.CharField(label=_("Reason or decision"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class TwinningForm(forms.Form):
    other = UnitCodeField(label=_("Twinned unit"))
    since = forms.DateField(label=_("Since"), initial=timezone.localdate, widget=DateInput())
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Twinning pairs units across the province: any active unit may be the partner.
        self.fields["other"].queryset = Unit.objects.filter(active_to__isnull=True)


class AsOfForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=DateInput())
