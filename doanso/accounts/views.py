import base64

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from doanso.core.forms import add_service_errors

from . import services
from .forms import (
    ApiTokenForm,
    InvitationAcceptForm,
    InviteForm,
    LoginForm,
    OTPTokenForm,
    RoleAssignForm,
    RoleFilterForm,
)
from .models import ApiToken, RoleAssignment, User
from .roles import MANAGE_ROLES
from .scope import can_anywhere, scope_q

PENDING_KEY = "doanso_2fa_pending"


class LoginView(auth_views.LoginView):
    """Password first; users with a confirmed TOTP device then give a code before the session starts."""

    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            return super().form_valid(form)
        self.request.session[PENDING_KEY] = {"user": user.pk, "backend": user.backend, "next": self.get_success_url()}
        return redirect("accounts:otp_verify")


def otp_verify(request):
    pending = request.session.get(PENDING_KEY)
    if not pending:
        return redirect("accounts:login")
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() if user else None
    if device is None:
        request.session.pop(PENDING_KEY, None)
        return redirect("accounts:login")
    form = OTPTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            request.session.pop(PENDING_KEY, None)
            login(request, user, backend=pending["backend"])
            otp_login(request, device)
            target = pending.get("next") or ""
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = reverse(settings.LOGIN_REDIRECT_URL)
            return redirect(target)
        form.add_error("token", _("The code is wrong or has expired. Codes change every 30 seconds."))
    return render(request, "accounts/otp_verify.html", {"form": form})


@login_required
def otp_setup(request):
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if device and request.user.is_verified():
        return render(request, "accounts/otp_setup.html", {"enabled": True})
    pending = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if pending is None:
        pending = TOTPDevice.objects.create(user=request.user, name=_("Authenticator app"), confirmed=False)
    form = OTPTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.confirm_totp_device(request.user, pending, form.cleaned_data["token"], actor=request.user):
            otp_login(request, pending)
            messages.success(request, _("Two-factor authentication is on."))
            return redirect("accounts:profile")
        form.add_error("token", _("The code is wrong or has expired. Codes change every 30 seconds."))
    secret = base64.b32encode(pending.bin_key).decode()
    qr = segno.make(pending.config_url, error="m")
    return render(
        request,
        "accounts/otp_setup.html",
        {
            "form": form,
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "qr_uri": qr.svg_data_uri(scale=5),
            "enabled": False,
            "required": request.user.is_superuser and settings.DOANSO_REQUIRE_2FA_FOR_ADMINS,
        },
    )


@login_required
@require_POST
def otp_disable(request):
    try:
        services.disable_totp(request.user, actor=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("Two-factor authentication is off."))
    return redirect("accounts:profile")


@login_required
def profile(request):
    new_token = None
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _token, new_token = services.create_api_token(request.user, actor=request.user, name=form.cleaned_data["name"])
        form = ApiTokenForm()
    context = {
        "assignments": request.user.role_assignments.select_related("unit"),
        "tokens": request.user.api_tokens.filter(revoked_at__isnull=True),
        "totp_enabled": TOTPDevice.objects.filter(user=request.user, confirmed=True).exists(),
        "form": form,
        "new_token": new_token,
    }
    return render(request, "accounts/profile.html", context)


@login_required
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user, revoked_at__isnull=True)
    services.revoke_api_token(token, actor=request.user)
    messages.success(request, _("The token was revoked."))
    return redirect("accounts:profile")


def invitation_accept(request, token):
    invitation = services.find_invitation(token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    form = InvitationAcceptForm(
        User(full_name=invitation.full_name, email=invitation.email or None), request.POST or None
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = services.accept_invitation(token, password=form.cleaned_data["new_password1"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            login(request, user, backend="doanso.accounts.backends.PhoneOrEmailBackend")
            messages.success(request, _("Welcome! Your account is ready."))
            from doanso.members.services.selfservice import activate_member_account

            # A member's invitation (no role) ties the account to their record and opens their own page.
            if activate_member_account(user) is not None:
                return redirect("members:my_home")
            return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation})


@login_required
def role_list(request):
    if not can_anywhere(request.user, MANAGE_ROLES):
        raise Http404
    filter_form = RoleFilterForm(request.GET or None, user=request.user)
    assignments = RoleAssignment.objects.filter(scope_q(request.user, MANAGE_ROLES, "unit")).select_related(
        "user", "unit", "granted_by"
    )
    if filter_form.is_valid() and filter_form.cleaned_data.get("unit"):
        assignments = assignments.filter(unit__path__startswith=filter_form.cleaned_data["unit"].path)
    page = Paginator(assignments.order_by("unit__path", "role"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/role_list.html",
        {
            "page": page,
            "filter_form": filter_form,
            "assign_form": RoleAssignForm(user=request.user),
            "invite_form": InviteForm(user=request.user),
        },
    )


@login_required
def role_assign(request):
    if not can_anywhere(request.user, MANAGE_ROLES):
        raise Http404
    form = RoleAssignForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.assign_role(d["contact"], d["role"], d["unit"], actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The role was granted."))
            return redirect("accounts:role_list")
    return render(request, "accounts/role_form.html", {"form": form, "title": _("Grant a role")})


@login_required
@require_POST
def role_revoke(request, pk):
    assignment = get_object_or_404(
        RoleAssignment.objects.filter(scope_q(request.user, MANAGE_ROLES, "unit")).select_related("unit"), pk=pk
    )
    try:
        services.revoke_role(assignment, actor=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("The role was removed."))
    return redirect("accounts:role_list")


@login_required
def invite(request):
    if not can_anywhere(request.user, MANAGE_ROLES):
        raise Http404
    form = InviteForm(request.POST or None, user=request.user)
    link = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            invitation, raw = services.invite_user(
                actor=request.user,
                full_name=d["full_name"],
                unit=d["unit"],
                role=d["role"],
                email=d["email"],
                phone=d["phone"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            link = request.build_absolute_uri(reverse("accounts:invitation_accept", args=[raw]))
            if invitation.email:
                from django.core.mail import send_mail

                send_mail(
                    _("Your Đoàn Số account"),
                    _(
                        "Hello {name},\n\nYou are invited to Đoàn Số. Open this link within {days} days to choose "
                        "your password:\n{link}\n"
                    ).format(name=invitation.full_name, days=settings.DOANSO_INVITATION_DAYS, link=link),
                    None,
                    [invitation.email],
                )
            form = InviteForm(user=request.user)
    return render(
        request,
        "accounts/invite.html",
        {"form": form, "link": link, "invitation_days": settings.DOANSO_INVITATION_DAYS},
    )


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
