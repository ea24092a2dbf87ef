"""Who may do what (service.domain.access), decided from the caller and the image alone."""

from __future__ import annotations

import pytest

from service.domain.access import AccessPolicy
from service.domain.errors import Forbidden, InvalidInput, NotAuthenticated
from service.domain.model import Caller
from tests.support.images import make_image

ALICE = Caller("alice")
BOB = Caller("bob")
MODERATOR = Caller("mod", frozenset({"admins"}))
ANONYMOUS = Caller(None)
UNRESTRICTED = Caller(None, unrestricted=True)
ALICES_IMAGE = make_image(0, user="alice")


@pytest.mark.parametrize("caller", [ALICE, BOB, MODERATOR, UNRESTRICTED])
def test_anyone_signed_in_reads(caller: Caller) -> None:
    AccessPolicy().check_read(caller)


def test_anonymous_callers_read_only_when_reads_are_public() -> None:
    with pytest.raises(NotAuthenticated):
        AccessPolicy().check_read(ANONYMOUS)
    AccessPolicy(public_read=True).check_read(ANONYMOUS)


@pytest.mark.parametrize("caller", [ALICE, MODERATOR, UNRESTRICTED])
def test_the_owner_a_moderator_or_the_unrestricted_contract_writes(caller: Caller) -> None:
    AccessPolicy().check_write(caller, ALICES_IMAGE)


def test_another_user_may_not_write() -> None:
    with pytest.raises(Forbidden):
        AccessPolicy().check_write(BOB, ALICES_IMAGE)


def test_the_admin_group_is_configurable() -> None:
    with pytest.raises(Forbidden):
        AccessPolicy(admin_group="moderators").check_write(MODERATOR, ALICES_IMAGE)
    AccessPolicy(admin_group="moderators").check_write(
        Caller("m", frozenset({"moderators"})), ALICES_IMAGE
    )


def test_anonymous_callers_never_write_even_when_reads_are_public() -> None:
    with pytest.raises(NotAuthenticated):
        AccessPolicy(public_read=True).check_write(ANONYMOUS, ALICES_IMAGE)


def test_an_upload_belongs_to_the_caller() -> None:
    policy = AccessPolicy()
    assert policy.owner_of_upload(ALICE, None) == "alice"
    assert policy.owner_of_upload(ALICE, "alice") == "alice"
    with pytest.raises(Forbidden):
        policy.owner_of_upload(ALICE, "bob")
    with pytest.raises(NotAuthenticated):
        policy.owner_of_upload(ANONYMOUS, "alice")


def test_without_sign_in_the_client_names_the_owner() -> None:
    policy = AccessPolicy()
    assert policy.owner_of_upload(UNRESTRICTED, "bob") == "bob"
    with pytest.raises(InvalidInput):
        policy.owner_of_upload(UNRESTRICTED, None)
