"""IAM policies read from HCL, made concrete, and compared with AWS's reference of actions.

The reference is policy_sentry's copy of the Service Authorization Reference: every action,
the ARN formats of the resources it acts on, its condition keys and access level. IAM accepts
a misspelt action or an ARN an action never acts on without a word; these helpers let the tests
catch both before a plan or an apply would (quietly) deny.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from policy_sentry.querying.actions import get_action_data
from policy_sentry.querying.arns import get_arn_types_for_service

PARTITION = "aws"
REGION = "us-east-1"
ACCOUNT = "123456789012"
DATA_SOURCES = {
    "data.aws_partition.current.partition": PARTITION,
    "data.aws_caller_identity.current.account_id": ACCOUNT,
    "data.aws_region.current.region": REGION,
}


@dataclass(frozen=True)
class Statement:
    sid: str
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...]  # (test, variable, values)

    def condition(self, variable: str) -> tuple[str, tuple[str, ...]] | None:
        found = [(test, values) for test, name, values in self.conditions if name == variable]
        assert len(found) <= 1, f"{self.sid}: {variable} tested twice"
        return found[0] if found else None


class Resolver:
    """Makes the interpolations of one module concrete: its locals, sample variables, and the
    data sources and resource attributes the tests name."""

    def __init__(
        self,
        local_values: Mapping[str, Any],
        variables: Mapping[str, Any],
        attributes: Mapping[str, str],
    ) -> None:
        self.locals = local_values
        self.variables = variables
        self.attributes = {**DATA_SOURCES, **attributes}

    def text(self, value: str) -> str:
        for _ in range(20):
            new = re.sub(r"\$\{local\.(\w+)\}", lambda m: self._local_text(m[1]), value)
            new = re.sub(r"\$\{var\.(\w+)\}", lambda m: str(self.variables[m[1]]), new)
            new = re.sub(
                r'\$\{coalesce\(var\.(\w+), "([^"$]*)"\)\}',
                lambda m: str(self.variables[m[1]] or m[2]),
                new,
            )
            new = re.sub(
                r'\$\{substr\("([^"$]*)", (\d+), (\d+)\)\}',
                lambda m: m[1][int(m[2]) : int(m[2]) + int(m[3])],
                new,
            )
            for reference, concrete in self.attributes.items():
                new = new.replace("${" + reference + "}", concrete)
            if new == value:
                break
            value = new
        assert "${" not in value, f"cannot resolve {value!r}"
        return value

    def values(self, value: Any) -> tuple[str, ...]:
        """A list attribute: a literal list, or one ``${local.x}`` naming a list."""
        if isinstance(value, str):
            match = re.fullmatch(r"\$\{local\.(\w+)\}", value)
            if match and isinstance(self.locals[match[1]], list):
                return self.values(self.locals[match[1]])
            return (self.text(value),)
        assert isinstance(value, list), value
        return tuple(item for element in value for item in self.values(element))

    def _local_text(self, name: str) -> str:
        value = self.locals[name]
        assert isinstance(value, str), f"local.{name} is not a string"
        return value

    def statements(self, document: Mapping[str, Any]) -> list[Statement]:
        return [
            Statement(
                sid=str(body.get("sid", "")),
                effect=str(body.get("effect", "Allow")),
                actions=self.values(body["actions"]),
                resources=self.values(body.get("resources", [])),
                conditions=tuple(
                    (c["test"], c["variable"], self.values(c["values"]))
                    for c in body.get("condition", [])
                ),
            )
            for body in document.get("statement", [])
        ]


# --- AWS's reference ----------------------------------------------------------------------


@functools.cache
def reference(action: str) -> list[dict[str, Any]]:
    """The reference's rows for one action (one per resource type, plus "*")."""
    service, name = action.split(":", 1)
    rows: list[dict[str, Any]] = get_action_data(service, name).get(service, [])
    return [row for row in rows if row["action"].lower() == action.lower()]


def exists(action: str) -> bool:
    return bool(reference(action))


# Resource types the reference defines for a service but attaches to none of the actions that
# act on them. API Gateway authorizes TagResource and UntagResource of HTTP APIs (POST and
# DELETE /v2/tags/{resource-arn}) as apigateway:POST and apigateway:DELETE on its Tags type.
UNATTACHED_RESOURCE_TYPES = {
    "apigateway:POST": ("Tags",),
    "apigateway:DELETE": ("Tags",),
}


def arn_formats(action: str) -> list[str]:
    """ARN formats of the resources the action acts on; empty if it takes only "*"."""
    formats = [
        row["resource_arn_format"] for row in reference(action) if row["resource_arn_format"] != "*"
    ]
    service = action.split(":", 1)[0]
    for resource_type in UNATTACHED_RESOURCE_TYPES.get(action, ()):
        formats.append(get_arn_types_for_service(service)[resource_type])
    return formats


def condition_keys(action: str) -> set[str]:
    return {key for row in reference(action) for key in row["condition_keys"]}


def access_level(action: str) -> str:
    levels = {str(row["access_level"]) for row in reference(action)}
    assert len(levels) == 1, (action, levels)
    return levels.pop()


def format_glob(arn_format: str) -> str:
    """``arn:${Partition}:s3:::${BucketName}`` -> ``arn:aws:s3:::*`` in the tests' partition,
    region and account."""
    known = {"${Partition}": PARTITION, "${Region}": REGION, "${Account}": ACCOUNT}
    return re.sub(r"\$\{[^}]+\}", lambda m: known.get(m[0], "*"), arn_format)


def overlap(left: str, right: str) -> bool:
    """Some string matches both patterns (``*`` only, as IAM resources use it)."""

    @functools.cache
    def from_(i: int, j: int) -> bool:
        if i == len(left) and j == len(right):
            return True
        if i < len(left) and left[i] == "*":
            return from_(i + 1, j) or (j < len(right) and from_(i, j + 1))
        if j < len(right) and right[j] == "*":
            return from_(i, j + 1) or (i < len(left) and from_(i + 1, j))
        return i < len(left) and j < len(right) and left[i] == right[j] and from_(i + 1, j + 1)

    return from_(0, 0)


def fits(action: str, pattern: str) -> bool:
    """The pattern can name a resource of the action (IAM ignores it otherwise)."""
    if pattern == "*":
        return True
    return any(overlap(pattern, format_glob(arn_format)) for arn_format in arn_formats(action))


def matches(pattern: str, arn: str) -> bool:
    """IAM's matching of a resource pattern: * spans any characters, / and : included."""
    return fnmatch.fnmatchcase(arn, pattern)


def allows(statements: list[Statement], action: str, arn: str) -> Iterator[Statement]:
    """The Allow statements that grant the action on the ARN (conditions aside)."""
    for statement in statements:
        if statement.effect != "Allow":
            continue
        if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in statement.actions):
            continue
        if any(matches(pattern, arn) for pattern in statement.resources):
            yield statement
