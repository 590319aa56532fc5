"""The seller console (/console/) and the buyer's page (/buyer/). No identifier is ever part of a URL."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy

from console.admin_search import flag_search
from console.forms import SignInForm
from console.views import account, buyer, check, disputes, flags

auth_patterns = [
    path(
        "sign-in/",
        auth_views.LoginView.as_view(
            template_name="registration/sign_in.html", authentication_form=SignInForm, redirect_authenticated_user=True
        ),
        name="sign-in",
    ),
    path("sign-out/", auth_views.LogoutView.as_view(), name="sign-out"),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(success_url=reverse_lazy("console:password-reset-done")),
        name="password-reset",
    ),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password-reset-done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(success_url=reverse_lazy("console:password-reset-complete")),
        name="password-reset-confirm",
    ),
    path("password-reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password-reset-complete"),
]

console_patterns = [
    *auth_patterns,
    path("", check.check, name="check"),
    path("flag/", check.flag, name="flag"),
    path("flags/", flags.flag_list, name="flags"),
    path("flags/<uuid:flag_id>/retract/", flags.flag_retract_view, name="retract"),
    path("disputes/", disputes.dispute_list, name="disputes"),
    path("disputes/<uuid:dispute_id>/", disputes.dispute_detail, name="dispute"),
    path("policy/", account.policy, name="policy"),
    path("keys/", account.keys, name="keys"),
    path("keys/<int:key_id>/revoke/", account.key_revoke, name="key-revoke"),
    path("members/", account.members, name="members"),
    path("members/<int:membership_id>/remove/", account.member_remove_view, name="member-remove"),
]

buyer_patterns = [
    path("", buyer.start, name="start"),
    path("code/", buyer.code, name="code"),
    path("flags/", buyer.flags, name="flags"),
    path("flags/<uuid:flag_id>/contest/", buyer.contest, name="contest"),
    path("links/<int:identifier_id>/contest/", buyer.link_contest, name="link-contest"),
    path("sign-out/", buyer.sign_out, name="sign-out"),
]

urlpatterns = [
    # The admin flag list's search box (behind the admin's own sign-in and staff check).
    path("console/staff/flag-search/", admin.site.admin_view(flag_search), name="console-admin-flag-search"),
    path("console/", include((console_patterns, "console"))),
    path("buyer/", include((buyer_patterns, "buyer"))),
]
