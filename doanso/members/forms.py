from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from doanso.accounts.roles import VIEW_MEMBERS
from doanso.core.widgets import DateInput
from doanso.org.forms import DivisionField, UnitCodeField
from doanso.org.models import Unit

from .models import (
    Member,
    MemberKind,
    MemberStatus,
    Occupation,
    RatingLevel,
    Sex,
)
from .reference import ETHNICITY_CHOICES, RELIGIONS
from .services.records import RECORD_FIELDS, clean_record

BLANK = [("", "—")]


class MemberFilterForm(forms.Form):
    q = forms.CharField(label=_("Name, citizen ID, phone or card number"), required=False, max_length=100)
    unit = UnitCodeField(label=_("Unit (and its subtree)"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Current members")), ("all", _("Everyone")), *MemberStatus.choices],
    )
    kind = forms.ChoiceField(label=_("Organisation"), required=False, choices=BLANK + MemberKind.choices)
    sex = forms.ChoiceField(label=_("Sex"), required=False, choices=BLANK + Sex.choices)
    age_min = forms.IntegerField(label=_("Age from"), required=False, min_value=0, max_value=120)
    age_max = forms.IntegerField(label=_("Age to"), required=False, min_value=0, max_value=120)
    ethnicity = forms.ChoiceField(label=_("Ethnicity"), required=False, choices=BLANK + ETHNICITY_CHOICES)
    party = forms.ChoiceField(
        label=_("Party member"), required=False, choices=[("", "—"), ("yes", _("Yes")), ("no", _("No"))]
    )
    rating = forms.ChoiceField(label=_("Rating"), required=False, choices=BLANK + RatingLevel.choices)
    rating_year = forms.IntegerField(label=_("Rating year"), required=False, min_value=2000, max_value=2100)
    occupation = forms.ChoiceField(label=_("Occupation"), required=False, choices=BLANK + Occupation.choices)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.restrict(user, VIEW_MEMBERS)

    def clean(self):
        data = super().clean()
        if data.get("age_min") is not None and data.get("age_max") is not None and data["age_min"] > data["age_max"]:
            self.add_error("age_max", _("The upper age is below the lower one."))
        return data

    def criteria(self) -> dict:
        data = self.cleaned_data
        return {k: v for k, v in data.items() if v not in (None, "")}


class MemberForm(forms.ModelForm):
    ethnicity = forms.ChoiceField(label=_("Ethnicity"), required=False, choices=BLANK + ETHNICITY_CHOICES)
    religion = forms.ChoiceField(label=_("Religion"), required=False, choices=BLANK + [(r, r) for r in RELIGIONS])
    hometown = DivisionField(label=_("Hometown (commune)"), required=False)
    residence = DivisionField(label=_("Residence (commune)"), required=False)

    class Meta:
        model = Member
        fields = RECORD_FIELDS
        widgets = {
            "date_of_birth": DateInput(),
            "joined_on": DateInput(),
            "party_joined_on": DateInput(),
            "citizen_id": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
            "phone": forms.TextInput(attrs={"inputmode": "tel"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            return clean_record(data)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
            return data


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need to see the protected data?"),
        max_length=300,
        help_text=_("Recorded with your name and the time (Decree 13/2023/NĐ-CP)."),
    )


class ExportForm(forms.Form):
    LAYOUTS = [("ours", _("Đoàn Số layout")), ("national", _("National member database layout"))]
    layout = forms.ChoiceField(label=_("Layout"), choices=LAYOUTS, initial="ours")
    format = forms.ChoiceField(label=_("File"), choices=[("xlsx", "Excel (.xlsx)"), ("csv", "CSV")], initial="xlsx")
    unmask = forms.BooleanField(
        label=_("Include citizen IDs, phones and other protected data unmasked"), required=False
    )
    reason = forms.CharField(label=_("Reason (required to unmask)"), max_length=300, required=False)

    def __init__(self, *args, can_unmask: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_unmask:
            del self.fields["unmask"]
            del self.fields["reason"]

    def clean(self):
        data = super().clean()
        if data.get("unmask") and len((data.get("reason") or "").strip()) < 5:
            self.add_error("reason", _("Say why the protected data must leave the system (at least a few words)."))
        return data


class SavedFilterForm(forms.Form):
    name = forms.CharField(label=_("Name of this filter"), max_length=100)
