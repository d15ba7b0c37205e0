from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from doanso.accounts.roles import VIEW_AUDIT
from doanso.org.forms import UnitCodeField
from doanso.org.models import Unit

from .widgets import DateInput


class AuditFilterForm(forms.Form):
    unit = UnitCodeField(label=_("Unit (and its subtree)"), required=False)
    action = forms.CharField(label=_("Action"), required=False)
    actor = forms.CharField(label=_("Actor"), required=False)
    since = forms.DateField(label=_("From"), required=False, widget=DateInput())
    until = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.restrict(user, VIEW_AUDIT)

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end date cannot be before the start date."))
        return data

    def apply(self, qs):
        data = self.cleaned_data
        if data.get("unit"):
            qs = qs.filter(unit__path__startswith=data["unit"].path)
        if data.get("action"):
            qs = qs.filter(action__icontains=data["action"])
        if data.get("actor"):
            term = data["actor"]
            qs = qs.filter(
                Q(actor__full_name__icontains=term) | Q(actor__email__icontains=term) | Q(actor__phone__icontains=term)
            )
        if data.get("since"):
            qs = qs.filter(created_at__date__gte=data["since"])
        if data.get("until"):
            qs = qs.filter(created_at__date__lte=data["until"])
        return qs


def add_service_errors(form: forms.Form, error, field_map: dict[str, str] | None = None) -> None:
    """Show a service's ValidationError on the form, at the field it names when the form has that field."""
    field_map = field_map or {}
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            target = field_map.get(name, name)
            for message in messages:
                form.add_error(target if target in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


def preview_or_run(request, form, preview, run, field_map=None):
    """The two steps of every operation form: a POST without ``confirm`` validates and returns the lines of the
    preview; a POST with ``confirm`` runs the service and returns its redirect. Errors land on the form."""
    if request.method != "POST" or not form.is_valid():
        return None, None
    try:
        if "confirm" in request.POST:
            return run(), None
        return None, preview()
    except ValidationError as exc:
        add_service_errors(form, exc, field_map)
        return None, None
