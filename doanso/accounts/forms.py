from django import forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

from doanso.org.forms import UnitCodeField
from doanso.org.models import Unit

from .roles import MANAGE_ROLES, role_choices


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Phone number or e-mail"),
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username", "inputmode": "email"}),
    )
    error_messages = {
        "invalid_login": _("The phone number, e-mail or password is not right. Check them and try again."),
        "inactive": _("This account is disabled."),
    }


class OTPTokenForm(forms.Form):
    token = forms.CharField(
        label=_("6-digit code from your authenticator app"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True, "pattern": "[0-9]{6}"}
        ),
    )

    def clean_token(self):
        token = self.cleaned_data["token"].strip()
        if not (token.isascii() and token.isdigit()):
            raise forms.ValidationError(_("The code has 6 digits."))
        return token


class InvitationAcceptForm(SetPasswordForm):
    """Choose a password for the account an invitation creates."""


class RoleFilterForm(forms.Form):
    unit = UnitCodeField(label=_("Unit"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.restrict(user, MANAGE_ROLES)


class RoleAssignForm(forms.Form):
    contact = forms.CharField(label=_("Phone number or e-mail of the user"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=role_choices)
    unit = UnitCodeField(label=_("At unit (covers all units below it)"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.restrict(user, MANAGE_ROLES).filter(active_to__isnull=True)

    def clean_contact(self):
        from .backends import find_user

        user = find_user(self.cleaned_data["contact"])
        if user is None:
            raise forms.ValidationError(_("No account uses this phone number or e-mail. Send an invitation instead."))
        return user


class InviteForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(label=_("Phone number"), max_length=20, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=[("", _("No role")), *role_choices()], required=False)
    unit = UnitCodeField(label=_("Unit"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.restrict(user, MANAGE_ROLES).filter(active_to__isnull=True)


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("What the token is for"), max_length=100, required=False)
