"""Bodies of the atomic list edits on a run: each names the one item to add."""

from procflow.api.schemas.base import HexId, Input, UserId


class TagToAdd(Input):
    """`POST /runs/{id}/tags`: a tag of the organization."""

    tag_id: HexId


class FolderToAdd(Input):
    """`POST /runs/{id}/folders`: a folder of the organization."""

    folder_id: HexId


class UserToAdd(Input):
    """`POST /runs/{id}/users`: an active member of the organization."""

    user_id: UserId


class GroupToAdd(Input):
    """`POST /runs/{id}/groups`: a group of the organization."""

    group_id: HexId
