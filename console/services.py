"""Console writes: the users of a seller."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction

from console.models import Membership, Role
from riskhub.errors import ApplicationError, Conflict, NotFound


def member_create(*, seller, email, role=Role.MEMBER, password=None):
    """Create a user of `seller` signing in with `email`; returns (membership, password).

    Without `password`, a random one is set (and returned): the user chooses their own through
    the password-reset mail (`member_invite`), so no one else ever knows it.
    """
    email = email.strip().lower()
    User = get_user_model()
    if User.objects.filter(username__iexact=email).exists():
        raise Conflict("This address already has a riskhub account.", code="member_exists")
    password = password or secrets.token_urlsafe(12)
    with transaction.atomic():
        user = User.objects.create_user(username=email, email=email, password=password)
        membership = Membership.objects.create(user=user, seller=seller, role=role)
    return membership, password


def member_invite(*, seller, email, role, request):
    """Add a member and mail them a link to choose their password (Django's password reset)."""
    membership, _ = member_create(seller=seller, email=email, role=role)
    form = PasswordResetForm({"email": membership.user.email})
    if form.is_valid():
        form.save(
            request=request,
            use_https=request.is_secure(),
            subject_template_name="registration/invite_subject.txt",
            email_template_name="registration/invite_email.txt",
            extra_email_context={"seller": seller},
        )
    return membership


def member_remove(*, seller, membership_id, by):
    """Remove a user from `seller` (and their account). Nobody removes themselves, so a seller
    always keeps the owner doing the removing."""
    membership = Membership.objects.filter(pk=membership_id, seller=seller).select_related("user").first()
    if membership is None:
        raise NotFound("No such member.")
    if membership.user_id == by.pk:
        raise ApplicationError("You cannot remove yourself.", code="member_self")
    membership.user.delete()
