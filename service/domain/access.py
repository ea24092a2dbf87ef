"""Who may do what: the one place that decides, from the caller and the image.

Images are public within the service, as on Instagram: any signed-in caller may read them, and
``public_read`` opens reads to anonymous callers too. Only the owner changes or deletes an
image; members of the admin group may too (moderation). Uploads belong to the caller.
"""

from __future__ import annotations

import msgspec

from service.domain.errors import Forbidden, InvalidInput, NotAuthenticated
from service.domain.model import Caller, Image


class AccessPolicy(msgspec.Struct, frozen=True):
    """Who may read and change which image."""

    admin_group: str = "admins"
    public_read: bool = False

    def check_read(self, caller: Caller) -> None:
        if not self.public_read:
            self.check_signed_in(caller, "see images")

    def check_signed_in(self, caller: Caller, to: str = "change images") -> None:
        """Writes need a caller: checked before anything is read, so that an anonymous write
        is a 401 whether the image exists or not."""
        if not caller.signed_in:
            raise NotAuthenticated(f"Sign in to {to}")

    def check_write(self, caller: Caller, image: Image) -> None:
        """PATCH, DELETE and batch writes: the owner, or a moderator."""
        self.check_signed_in(caller)
        if caller.unrestricted:
            return
        if caller.user_id != image.user_id and self.admin_group not in caller.groups:
            raise Forbidden(f"Image {image.image_id} belongs to another user")

    def may_write(self, caller: Caller, image: Image) -> bool:
        try:
            self.check_write(caller, image)
        except (NotAuthenticated, Forbidden):
            return False
        return True

    def owns(self, caller: Caller, user_id: str) -> bool:
        """Whether ``caller`` acts as ``user_id`` (an upload session is its owner's alone)."""
        return caller.unrestricted or caller.user_id == user_id

    def may_see_location(self, caller: Caller, image: Image) -> bool:
        """Where a photo was taken is the owner's to see: no one else, moderators included.
        Without sign-in (``AUTH_MODE=none``) the client names users freely: no one sees it."""
        return not caller.unrestricted and caller.user_id == image.user_id

    def owner_of_upload(self, caller: Caller, claimed_user_id: str | None) -> str:
        """The user an upload belongs to: the caller. Naming someone else is forbidden."""
        if caller.unrestricted:
            if claimed_user_id is None:
                raise InvalidInput(
                    "user_id is required", {"user_id": ["Missing data for required field."]}
                )
            return claimed_user_id
        self.check_signed_in(caller, "upload images")
        assert caller.user_id is not None
        if claimed_user_id is not None and claimed_user_id != caller.user_id:
            raise Forbidden("user_id names another user; uploads belong to the signed-in user")
        return caller.user_id
