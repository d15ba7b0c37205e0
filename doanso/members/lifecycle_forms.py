"""Forms of the lifecycle pages. They only parse what was typed; every rule is checked by the services in
``services/lifecycle.py``, whose messages the views put back on these fields."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from doanso.accounts.roles import MANAGE_MEMBERS
from doanso.core.widgets import DateInput
from doanso.org.forms import UnitCodeField
from doanso.org.models import Unit

from .models import DisciplineLevel, Member, MemberKind, MemberStatus, RatingLevel, Sex
from .reference import ETHNICITY_CHOICES
from .services.lifecycle import BRANCH_KINDS

BLANK = [("", "—")]


def date_field(label, *, required=True, initial=timezone.localdate, help_text=None):
    return forms.DateField(
        label=label,
        required=required,
        initial=initial if required else None,
        widget=DateInput(),
        help_text=help_text or _("dd/mm/yyyy"),
    )


def province_units():
    """Any active unit of the province: a member may move anywhere, not only inside the sender's subtree."""
    return Unit.objects.filter(active_to__isnull=True)


# --- admission ------------------------------------------------------------------------------------------------


class AdmissionStartForm(forms.Form):
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=Unit.objects.none())
    family_name = forms.CharField(label=_("Family name"), max_length=50)
    middle_name = forms.CharField(label=_("Middle name"), max_length=80, required=False)
    given_name = forms.CharField(label=_("Given name"), max_length=50)
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=DateInput())
    sex = forms.ChoiceField(label=_("Sex"), choices=BLANK + Sex.choices)
    ethnicity = forms.ChoiceField(label=_("Ethnicity"), required=False, choices=BLANK + ETHNICITY_CHOICES)
    citizen_id = forms.CharField(
        label=_("Citizen ID"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone"), max_length=20, required=False, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )

    def __init__(self, *args, user, unit, **kwargs):
        super().__init__(*args, **kwargs)
        # The branches of this unit's subtree where the cadre may act (the unit itself when it is one).
        self.fields["branch"].queryset = (
            Unit.objects.restrict(user, MANAGE_MEMBERS)
            .subtree(unit)
            .filter(kind__in=BRANCH_KINDS, active_to__isnull=True)
            .order_by("search_name")
        )
        if unit.kind in BRANCH_KINDS:
            self.initial.setdefault("branch", unit)

    def applicant(self):
        from .services.lifecycle import ApplicantData

        data = self.cleaned_data
        return ApplicantData(
            family_name=data["family_name"],
            middle_name=data["middle_name"],
            given_name=data["given_name"],
            date_of_birth=data["date_of_birth"],
            sex=data["sex"],
            ethnicity=data["ethnicity"],
            citizen_id=data["citizen_id"],
            phone=data["phone"],
        )


class CourseForm(forms.Form):
    completed_on = date_field(_("Union course completed on"))


class IntroductionForm(forms.Form):
    introducer = forms.ModelChoiceField(
        label=_("Introducing member"),
        queryset=Member.objects.none(),
        required=False,
        empty_label="—",
        help_text=_("An active member of the branch."),
    )
    known_since = date_field(_("Has known the applicant since"), required=False)
    collective = forms.CharField(
        label=_("Or introduced collectively by"),
        max_length=255,
        required=False,
        help_text=_("The chi đội or chi hội, when a collective introduces the applicant."),
    )
    on = date_field(_("Date of the introduction"))

    def __init__(self, *args, branch, **kwargs):
        super().__init__(*args, **kwargs)
        # A branch has tens of members: a plain list is enough, and it offers only those who may introduce.
        self.fields["introducer"].queryset = Member.objects.filter(
            unit=branch, status=MemberStatus.ACTIVE, kind=MemberKind.UNION
        ).order_by("sort_name")


class VoteForm(forms.Form):
    vote_on = date_field(_("Branch meeting on"))
    votes_present = forms.IntegerField(label=_("Members present"), min_value=0, max_value=10000)
    votes_for = forms.IntegerField(label=_("Votes for"), min_value=0, max_value=10000)


class ApproveForm(forms.Form):
    approved_on = date_field(_("Confirmed on"), help_text=_("The date of the decision; it becomes the joining date."))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


# --- transfer -------------------------------------------------------------------------------------------------


class TransferSendForm(forms.Form):
    WITHIN, OUTSIDE = "within", "outside"
    where = forms.ChoiceField(
        label=_("Where to"),
        widget=forms.RadioSelect,
        initial=WITHIN,
        choices=[(WITHIN, _("A unit of the province")), (OUTSIDE, _("Outside the province (with a letter)"))],
    )
    to_unit = UnitCodeField(label=_("Receiving unit"), required=False)
    destination = forms.CharField(
        label=_("Destination outside the province"),
        max_length=255,
        required=False,
        help_text=_("e.g. Tỉnh đoàn Quảng Ngãi"),
    )
    sent_on = date_field(_("Sent on"))
    assessment = forms.CharField(
        label=_("Assessment by the branch"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    dues_paid_until = date_field(_("Dues paid until"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_unit"].queryset = province_units()

    def destination_kwargs(self) -> dict:
        """Only the side the cadre chose counts: a unit typed before switching to "outside" is ignored."""
        data = self.cleaned_data
        if data["where"] == self.OUTSIDE:
            return {"to_unit": None, "destination": data["destination"]}
        return {"to_unit": data["to_unit"], "destination": ""}


class TransferReceiveForm(forms.Form):
    place_in = UnitCodeField(
        label=_("Place the member in"), required=False, help_text=_("This unit, or a branch under it.")
    )
    received_on = date_field(_("Received on"))

    def __init__(self, *args, transfer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place_in"].queryset = Unit.objects.subtree(transfer.to_unit).filter(active_to__isnull=True)
        self.initial.setdefault("place_in", transfer.to_unit)


class TransferCancelForm(forms.Form):
    on = date_field(_("Date"))
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class TransferOutForm(forms.Form):
    received_on = date_field(_("Received there on"))
    note = forms.CharField(
        label=_("Confirmation"),
        max_length=500,
        required=False,
        help_text=_("e.g. the receiving union's letter or message."),
    )


# --- attachment, discipline, positions, end of membership ------------------------------------------------------


class AttachmentForm(forms.Form):
    unit = UnitCodeField(label=_("Host unit"))
    start = date_field(_("From"))
    end = date_field(_("Until"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False, help_text=_("e.g. studying in Huế"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = province_units()


class EndDateForm(forms.Form):
    end = date_field(_("Ended on"))


class DisciplineForm(forms.Form):
    level = forms.ChoiceField(label=_("Form of discipline"), choices=BLANK + DisciplineLevel.choices)
    decided_by = forms.ModelChoiceField(
        label=_("Decided by"),
        queryset=Unit.objects.none(),
        help_text=_("A warning or heavier is decided by the union directly above the member's unit."),
    )
    decided_on = date_field(_("Decided on"))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user, member, **kwargs):
        super().__init__(*args, **kwargs)
        # The member's unit and the unions above it, where this cadre may act.
        line = [*member.unit.ancestor_ids, member.unit_id]
        self.fields["decided_by"].queryset = (
            Unit.objects.restrict(user, MANAGE_MEMBERS).filter(pk__in=line).order_by("-depth")
        )


class PositionForm(forms.Form):
    title = forms.CharField(label=_("Position"), max_length=150, help_text=_("e.g. Bí thư Chi đoàn"))
    unit = UnitCodeField(label=_("At unit"))
    start = date_field(_("From"))
    keeps_membership = forms.BooleanField(
        label=_("Elected cadre or full-time staff: stays a member past the age limit while in office"),
        required=False,
    )

    def __init__(self, *args, user, member, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.restrict(user, MANAGE_MEMBERS).filter(active_to__isnull=True)
        self.initial.setdefault("unit", member.unit)


class EndMembershipForm(forms.Form):
    STRIKE_OFF, RESIGNATION, DEATH = "strike_off", "resignation", "death"
    kind = forms.ChoiceField(
        label=_("What happened"),
        widget=forms.RadioSelect,
        choices=[
            (STRIKE_OFF, _("Struck off (xóa tên)")),
            (RESIGNATION, _("Left the union at their own request")),
            (DEATH, _("Died")),
        ],
    )
    on = date_field(_("Date"))
    months_missed = forms.IntegerField(
        label=_("Months without attending or paying dues this year"),
        min_value=0,
        max_value=12,
        required=False,
        help_text=_("For a strike-off."),
    )
    reason = forms.CharField(label=_("Reason or note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class KeepForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the branch keeps the member"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


# --- rating and graduation ------------------------------------------------------------------------------------


class YearForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)


def year_choices(around: int) -> list[int]:
    """The years a cadre picks from: a few back (late ratings, corrections), one ahead (planning a ceremony)."""
    return list(range(around + 1, around - 6, -1))


class RatingTableForm(forms.Form):
    """One row per member: ``level_<id>``, ``participation_<id>``, ``note_<id>`` (the names the service's
    messages use, so each error lands in its row)."""

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.members = list(members)
        for member in self.members:
            self.fields[f"level_{member.pk}"] = forms.ChoiceField(
                label=member.full_name, choices=[("", _("— not rated —")), *RatingLevel.choices], required=False
            )
            self.fields[f"participation_{member.pk}"] = forms.IntegerField(
                label=_("Participation (%)"), min_value=0, max_value=100, required=False
            )
            self.fields[f"note_{member.pk}"] = forms.CharField(label=_("Note"), max_length=255, required=False)

    def rows(self):
        for member in self.members:
            yield (
                member,
                self[f"level_{member.pk}"],
                self[f"participation_{member.pk}"],
                self[f"note_{member.pk}"],
            )

    def entries(self) -> dict:
        from .services.lifecycle import RatingEntry

        data = self.cleaned_data
        return {
            member: RatingEntry(
                level=data[f"level_{member.pk}"],
                participation=data[f"participation_{member.pk}"],
                note=data[f"note_{member.pk}"],
            )
            for member in self.members
            if data.get(f"level_{member.pk}")
        }


class GraduateForm(forms.Form):
    members = forms.ModelMultipleChoiceField(
        label=_("Members who graduate"), queryset=Member.objects.none(), widget=forms.CheckboxSelectMultiple
    )
    ceremony_on = date_field(_("Ceremony on"))

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = Member.objects.filter(pk__in=[m.pk for m in choices]).select_related("unit")
