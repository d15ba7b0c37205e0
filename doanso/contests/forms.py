from django import forms
from django.utils.translation import gettext_lazy as _

from doanso.core.widgets import DateInput
from doanso.members.models import Occupation
from doanso.org.forms import UnitCodeField
from doanso.org.models import Unit

from .models import PRIZE_ORDER, Audience, Difficulty, PredictionKind, QuestionKind
from .permissions import MANAGE_CONTESTS


class DateTimeInput(forms.DateTimeInput):
    def __init__(self, attrs=None):
        defaults = {"placeholder": "dd/mm/yyyy hh:mm", "inputmode": "numeric", "autocomplete": "off"}
        super().__init__(attrs={**defaults, **(attrs or {})}, format="%d/%m/%Y %H:%M")


class ContestDateTimeField(forms.DateTimeField):
    """dd/mm/yyyy hh:mm, in this century: a year typed as 0001 or 9999 is a slip, and year 1 in Vietnam's time
    zone does not even exist in UTC."""

    def to_python(self, value):
        result = super().to_python(value)
        if result is not None and not 2000 <= result.year <= 2099:
            raise forms.ValidationError(_("Write a date of this century (dd/mm/yyyy hh:mm)."))
        return result


def date_time_field(label):
    return ContestDateTimeField(label=label, input_formats=["%d/%m/%Y %H:%M", "%d/%m/%Y"], widget=DateTimeInput())


class ContestForm(forms.Form):
    organiser = UnitCodeField(label=_("Organiser"))
    title = forms.CharField(label=_("Title"), max_length=255)
    rules = forms.CharField(label=_("Rules"), widget=forms.Textarea(attrs={"rows": 6}), required=False)
    audience = forms.ChoiceField(label=_("Who takes part"), choices=Audience.choices)
    audience_unit = UnitCodeField(
        label=_("Units taking part"), required=False, help_text=_("Empty: the organiser's whole subtree.")
    )
    is_published = forms.BooleanField(label=_("Published (visible to the public)"), required=False)
    challenge_enabled = forms.BooleanField(
        label=_("Ask a small sum at registration (against scripted registrations)"), required=False
    )
    min_seconds_per_question = forms.IntegerField(
        label=_("Fastest plausible seconds per question"), min_value=0, max_value=120, initial=2
    )
    rate_weight = forms.DecimalField(
        label=_("Weight of the participation rate in the collective score"),
        min_value=0,
        max_digits=5,
        decimal_places=2,
        initial=1,
    )

    def __init__(self, *args, user, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        units = Unit.objects.restrict(user, MANAGE_CONTESTS)
        self.fields["organiser"].queryset = units
        self.fields["audience_unit"].queryset = Unit.objects.all()
        for prize in PRIZE_ORDER:
            self.fields[f"points_{prize.value}"] = forms.IntegerField(
                label=_("Points for a {prize}").format(prize=prize.label.lower()),
                min_value=0,
                max_value=1000,
                initial={"first": 10, "second": 8, "third": 6, "consolation": 4}[prize.value],
            )
        if editing:
            self.fields["organiser"].disabled = True

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["prize_points"] = {p.value: data.pop(f"points_{p.value}") for p in PRIZE_ORDER}
        if not data.get("audience_unit"):
            data["audience_unit"] = data["organiser"]
        return data

    @staticmethod
    def initial_for(contest) -> dict:
        initial = {
            name: getattr(contest, name)
            for name in (
                "organiser",
                "title",
                "rules",
                "audience",
                "audience_unit",
                "is_published",
                "challenge_enabled",
                "min_seconds_per_question",
                "rate_weight",
            )
        }
        for key, value in contest.prize_points.items():
            initial[f"points_{key}"] = value
        return initial


class RoundForm(forms.Form):
    number = forms.IntegerField(label=_("Round number"), min_value=1, max_value=1000, required=False)
    title = forms.CharField(label=_("Title"), max_length=255, required=False)
    opens_at = date_time_field(_("Opens at"))
    closes_at = date_time_field(_("Closes at"))
    question_count = forms.IntegerField(label=_("Questions per attempt"), min_value=1, max_value=100, initial=20)
    topic_quotas = forms.CharField(
        label=_("Questions per topic"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One line per topic: “Topic: number”. The rest are drawn from any topic."),
    )
    time_limit_minutes = forms.DecimalField(
        label=_("Time limit (minutes)"), min_value=0.5, max_value=240, decimal_places=1, initial=10
    )
    attempt_cap = forms.IntegerField(label=_("Attempts per person in the round"), min_value=1, max_value=50, initial=1)
    prediction_kind = forms.ChoiceField(label=_("Prediction question"), choices=PredictionKind.choices)
    prediction_text = forms.CharField(label=_("Prediction question text"), max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for prize in PRIZE_ORDER:
            self.fields[f"prize_{prize.value}"] = forms.IntegerField(
                label=_("Number of {prize}s").format(prize=prize.label.lower()),
                min_value=0,
                max_value=10000,
                initial=0,
            )

    def clean_topic_quotas(self):
        quotas = {}
        for i, line in enumerate(self.cleaned_data["topic_quotas"].splitlines(), 1):
            if not line.strip():
                continue
            topic, sep, count = line.rpartition(":")
            count = count.strip()
            # ASCII digits, at most four: "²" passes str.isdigit() but not int().
            if not sep or not topic.strip() or not (count.isascii() and count.isdigit() and len(count) <= 4):
                raise forms.ValidationError(_("Line {line}: write “Topic: number”.").format(line=i))
            if topic.strip() in quotas:
                raise forms.ValidationError(
                    _("Line {line}: the topic “{topic}” is already on an earlier line.").format(
                        line=i, topic=topic.strip()
                    )
                )
            quotas[topic.strip()] = int(count)
        return quotas

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["prizes"] = {p.value: data.pop(f"prize_{p.value}") for p in PRIZE_ORDER if data.get(f"prize_{p.value}")}
        for p in PRIZE_ORDER:
            data.pop(f"prize_{p.value}", None)
        data["time_limit"] = int(data.pop("time_limit_minutes") * 60)
        return data

    @staticmethod
    def initial_for(round_) -> dict:
        initial = {
            name: getattr(round_, name)
            for name in (
                "number",
                "title",
                "opens_at",
                "closes_at",
                "question_count",
                "attempt_cap",
                "prediction_kind",
                "prediction_text",
            )
        }
        initial["time_limit_minutes"] = round(round_.time_limit / 60, 1)
        initial["topic_quotas"] = "\n".join(f"{t}: {n}" for t, n in round_.topic_quotas.items())
        for key, value in round_.prizes.items():
            initial[f"prize_{key}"] = value
        return initial


class QuestionForm(forms.Form):
    text = forms.CharField(label=_("Question"), widget=forms.Textarea(attrs={"rows": 3}))
    topic = forms.CharField(label=_("Topic"), max_length=100, required=False)
    difficulty = forms.ChoiceField(label=_("Difficulty"), choices=Difficulty.choices, initial=Difficulty.MEDIUM)
    kind = forms.ChoiceField(label=_("Kind"), choices=QuestionKind.choices)
    explanation = forms.CharField(label=_("Explanation"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    correct = forms.CharField(
        label=_("Correct answer"), max_length=20, help_text=_("The letter, or several letters such as “A, C”.")
    )

    LETTERS = "ABCDEF"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for letter in self.LETTERS:
            self.fields[f"option_{letter}"] = forms.CharField(
                label=_("Option {letter}").format(letter=letter), max_length=1000, required=letter in "AB"
            )

    def clean_correct(self):
        letters = [c for c in self.cleaned_data["correct"].upper() if c.isalpha()]
        if not letters or any(c not in self.LETTERS for c in letters):
            raise forms.ValidationError(_("Write the letter of the correct option (A–F)."))
        return [self.LETTERS.index(c) for c in letters]

    def service_data(self) -> dict:
        d = self.cleaned_data
        return {
            "text": d["text"],
            "topic": d["topic"],
            "difficulty": d["difficulty"],
            "kind": d["kind"],
            "explanation": d["explanation"],
            "correct": d["correct"],
            "options": [d.get(f"option_{letter}", "") for letter in self.LETTERS],
        }

    @classmethod
    def initial_for(cls, question) -> dict:
        v = question.current
        initial = {
            "text": v.text,
            "topic": question.topic,
            "difficulty": question.difficulty,
            "kind": v.kind,
            "explanation": v.explanation,
            "correct": ", ".join(cls.LETTERS[i - 1] for i in v.correct),
        }
        for i, option in enumerate(v.options):
            initial[f"option_{cls.LETTERS[i]}"] = option["text"]
        return initial


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Excel file of questions (.xlsx, .xls, .ods, .csv)"))


class QuotaForm(forms.Form):
    unit = UnitCodeField(label=_("Unit"))
    quota = forms.IntegerField(label=_("Quota (participants)"), min_value=0, max_value=100_000_000, required=False)

    def __init__(self, *args, contest, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(path__startswith=contest.audience_unit.path)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("cleared", _("Clear")), ("disqualified", _("Disqualify"))]
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class RegistrationForm(forms.Form):
    full_name = forms.CharField(
        label=_("Full name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=DateInput())
    phone = forms.CharField(
        label=_("Phone"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"})
    )
    citizen_id = forms.CharField(
        label=_("Citizen ID (optional)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    unit = forms.CharField(
        label=_("Your unit"),
        max_length=300,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "data-contest-unit": "1", "placeholder": _("Type the name of your unit")}
        ),
    )
    occupation = forms.ChoiceField(label=_("Occupation"), choices=[("", "—"), *Occupation.choices], required=False)

    def __init__(self, *args, contest, challenge=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.contest = contest
        self.challenge = challenge
        if challenge is not None:
            a, b = challenge
            self.fields["challenge"] = forms.IntegerField(
                label=_("How much is {a} + {b}?").format(a=a, b=b),
                widget=forms.TextInput(attrs={"inputmode": "numeric"}),
            )

    def clean_unit(self):
        value = self.cleaned_data["unit"].strip()
        code = value.rsplit("—", 1)[-1].strip()[:32]
        unit = Unit.objects.filter(path__startswith=self.contest.audience_unit.path, code__iexact=code).first()
        if unit is None:
            raise forms.ValidationError(_("Choose your unit from the suggestions (a unit of this contest)."))
        return unit

    def clean_challenge(self):
        value = self.cleaned_data["challenge"]
        if value != sum(self.challenge):
            raise forms.ValidationError(_("That is not the right sum."))
        return value
