from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from doanso.core.widgets import DateInput
from doanso.org.forms import DivisionField, UnitCodeField
from doanso.org.models import Unit

from .apps import ADOPT_SITES, EDIT_SITES
from .models import (
    MAX_MARKER_NUMBER,
    MAX_SUB_NUMBER,
    ActivityKind,
    MarkerCondition,
    MarkerForm,
    MarkerRole,
    MediaKind,
    RelicRank,
    SiteKind,
)

PHOTO_ACCEPT = "image/jpeg,image/png,image/webp"


class SiteForm(forms.Form):
    kind = forms.ChoiceField(
        label=pgettext_lazy("site", "Kind"), choices=[c for c in SiteKind.choices if c[0] != "border_marker"]
    )
    rank = forms.ChoiceField(
        label=_("Relic rank"),
        choices=[("", "—"), *RelicRank.choices],
        required=False,
        help_text=_("Only for historical relics."),
    )
    name = forms.CharField(label=_("Name"), max_length=255)
    name_en = forms.CharField(label=_("Name in English"), max_length=255, required=False)
    summary = forms.CharField(
        label=_("Summary"), max_length=600, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    summary_en = forms.CharField(
        label=_("Summary in English"), max_length=600, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    history = forms.CharField(
        label=_("History"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Paragraphs separated by a blank line, or simple HTML (headings, lists, bold, links)."),
    )
    history_en = forms.CharField(
        label=_("History in English"), required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    visiting_hours = forms.CharField(label=_("Visiting hours"), max_length=255, required=False)
    visiting_hours_en = forms.CharField(label=_("Visiting hours in English"), max_length=255, required=False)
    division = DivisionField(label=_("Commune or ward"), required=False)
    street_address = forms.CharField(label=_("Address (village, street)"), max_length=255, required=False)
    legacy_address = forms.CharField(
        label=_("Address before 2025"),
        max_length=255,
        required=False,
        help_text=_("Commune, district, province as written before 1 July 2025; the commune is found from it."),
    )
    latitude = forms.CharField(label=_("Latitude"), max_length=20, required=False, help_text=_("e.g. 15.880123"))
    longitude = forms.CharField(label=_("Longitude"), max_length=20, required=False, help_text=_("e.g. 108.335678"))
    video_url = forms.CharField(
        label=_("Video link"), max_length=500, required=False, help_text=_("YouTube, Facebook, TikTok or Vimeo.")
    )
    unit = UnitCodeField(label=_("Managing unit"))

    marker_fields = ()

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.restrict(user, EDIT_SITES).filter(active_to__isnull=True)

    def site_data(self) -> dict:
        d = self.cleaned_data
        skip = {"unit", *self.marker_fields}
        return {k: v for k, v in d.items() if k not in skip}

    def marker_data(self) -> dict | None:
        return None


class MarkerSiteForm(SiteForm):
    number = forms.IntegerField(label=_("Marker number"), min_value=1, max_value=MAX_MARKER_NUMBER)
    sub_number = forms.IntegerField(
        label=_("Auxiliary index"),
        min_value=0,
        max_value=MAX_SUB_NUMBER,
        required=False,
        help_text=_("1 for marker 677/1; empty for a main marker."),
    )
    role = forms.ChoiceField(label=_("Type"), choices=MarkerRole.choices)
    form = forms.ChoiceField(label=_("Form"), choices=MarkerForm.choices)
    border_section = forms.CharField(label=_("Border section"), max_length=255, required=False)
    lao_province = forms.CharField(label=_("Neighbouring Lao province"), max_length=100, required=False)

    marker_fields = ("number", "sub_number", "role", "form", "border_section", "lao_province")
    field_order = [*marker_fields, "name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["kind"]
        del self.fields["rank"]

    def site_data(self) -> dict:
        return {**super().site_data(), "kind": SiteKind.BORDER_MARKER}

    def marker_data(self) -> dict:
        return {k: self.cleaned_data.get(k) for k in self.marker_fields}


class PhotoForm(forms.Form):
    # A FileField, not an ImageField: the service reads the image once and says precisely what is wrong.
    image = forms.FileField(label=_("Photo"), widget=forms.ClearableFileInput(attrs={"accept": PHOTO_ACCEPT}))
    alt = forms.CharField(label=_("Description (read aloud to blind visitors)"), max_length=255)
    alt_en = forms.CharField(label=_("Description in English"), max_length=255, required=False)


class MediaForm(forms.Form):
    kind = forms.ChoiceField(label=pgettext_lazy("site", "Kind"), choices=MediaKind.choices)
    title = forms.CharField(label=_("Title"), max_length=255)
    file = forms.FileField(label=pgettext_lazy("upload", "File"))


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": PHOTO_ACCEPT}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class AdoptForm(forms.Form):
    unit = UnitCodeField(label=_("Adopting unit"))
    since = forms.DateField(label=_("Since"), widget=DateInput())
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.restrict(user, ADOPT_SITES).filter(active_to__isnull=True)


class EndAdoptionForm(forms.Form):
    until = forms.DateField(label=_("Until"), widget=DateInput())


class ActivityForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=DateInput())
    kind = forms.ChoiceField(label=_("Activity"), choices=ActivityKind.choices)
    participants = forms.IntegerField(label=_("Participants"), min_value=0, max_value=100_000, initial=0)
    description = forms.CharField(
        label=_("What was done"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    photos = MultiplePhotoField(label=_("Photos"))


class ConditionForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=DateInput())
    condition = forms.ChoiceField(label=_("Condition"), choices=MarkerCondition.choices)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    photos = MultiplePhotoField(label=_("Photos"))


class AdminFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=pgettext_lazy("site", "Kind"), choices=[("", _("All kinds")), *SiteKind.choices], required=False
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            ("", _("All statuses")),
            ("draft", _("Draft")),
            ("submitted", _("Submitted")),
            ("published", _("Published")),
        ],
        required=False,
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label=pgettext_lazy("upload", "File"),
        help_text=_("Excel (.xlsx, .xls), OpenDocument (.ods), CSV, KML or GeoJSON; at most 20 MB."),
    )
    unit = UnitCodeField(label=_("Managing unit of the imported sites"))
    mode = forms.ChoiceField(
        label=_("What to do"),
        choices=[
            ("check", _("Check only (dry run): nothing is written")),
            ("all", _("Import, all or nothing")),
            ("valid", _("Import the valid rows, skip the rejected ones")),
        ],
        initial="check",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.restrict(user, EDIT_SITES).filter(active_to__isnull=True)
