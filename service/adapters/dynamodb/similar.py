"""Near-duplicates on the image table: the images of a user whose perceptual hash is within
``MAX_DISTANCE`` of a hash, from its band partitions (``keys.py``): one Query per band, each
reading at most ``BAND_READ_LIMIT`` items, newest first. No item but the band items is read:
each holds its image's hash."""

from __future__ import annotations

from typing import TYPE_CHECKING

from service.adapters.aws_errors import translate_errors
from service.adapters.dynamodb import keys
from service.domain.similarity import MAX_DISTANCE, bands, distance

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# How many images of one band partition are compared: the newest of more than that are not.
BAND_READ_LIMIT = 100


class SimilarImages:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def near(self, user_id: str, phash: str) -> list[tuple[str, int]]:
        """The ids of the user's images within MAX_DISTANCE of ``phash``, with their distance,
        nearest first, then newest."""
        found: dict[str, int] = {}
        for band in bands(phash):
            with translate_errors("find similar images"):
                page = self._client.query(
                    TableName=self._table,
                    KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": {"S": keys.similar_partition(user_id, band)}},
                    ScanIndexForward=False,
                    Limit=BAND_READ_LIMIT,
                )
            for item in page.get("Items", []):
                apart = distance(phash, item["phash"]["S"])
                if apart <= MAX_DISTANCE:
                    found[item["sk"]["S"]] = apart
        newest_first = sorted(found, reverse=True)
        return sorted(
            ((image_id, found[image_id]) for image_id in newest_first), key=lambda f: f[1]
        )
