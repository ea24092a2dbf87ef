"""Sign-in in the Terraform agrees with the service (issue 8).

The HTTP API's JWT authorizer and the service trust the same issuer and app client; every
route but the ones the service serves to anyone needs a token (reads too, unless public_read);
and Terraform never turns the service's own token verification off. The service's routes come
from its Flask URL map and its public blueprints (service/entrypoints/api/auth.py), not from a
copy here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from service.adapters.pillow_processor import PillowImageProcessor
from service.bootstrap import image_limits
from service.domain.cursors import CursorCodec
from service.entrypoints.api.auth import COOKIE_BLUEPRINTS, PUBLIC_BLUEPRINTS
from service.entrypoints.app import create_app
from service.settings import Settings
from service.usecases.images import ImageService
from tests.support.fakes import InMemoryImageRepository, InMemoryImageStore, InMemoryJobQueue

TERRAFORM_DIR = Path(__file__).resolve().parents[2] / "terraform"
INTEGRATION = "integrations/${aws_apigatewayv2_integration.lambda.id}"
AUTHORIZER = "aws_apigatewayv2_authorizer.jwt.id"
# Route keys of HTTP APIs: "$default", or a method (or ANY) and a path whose greedy variable,
# if any, is its last segment.
ROUTE_KEY = re.compile(
    r"\$default|(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY) "
    r"(/|(/([A-Za-z0-9._~-]+|\{[A-Za-z0-9_]+\}))*(/\{[A-Za-z0-9_]+\+\})?)"
)


def ref(expression: Any) -> str:
    """``${module.auth[0].issuer}`` -> ``module.auth[0].issuer``."""
    text = str(expression)
    match = re.fullmatch(r"\$\{(.*)\}", text, flags=re.DOTALL)
    return match.group(1).strip() if match else text


def when(expression: Any, public_read: bool) -> Any:
    """The value of a literal, a reference, or ``var.public_read ? a : b`` for one setting."""
    text = ref(expression)
    match = re.fullmatch(r"(!?)var\.public_read\s*\?\s*(.+?)\s*:\s*(.+)", text)
    if match:
        chosen = match.group(2) if public_read != bool(match.group(1)) else match.group(3)
        text = chosen.strip()
    if text == "null":
        return None
    return text[1:-1] if text.startswith('"') and text.endswith('"') else text


# --- The issuer and the client -----------------------------------------------------------


def root_environment(terraform: Any) -> dict[str, Any]:
    environment: dict[str, Any] = terraform.root.locals["service_environment"]
    return environment


def test_authorizer_trusts_the_issuer_and_client_the_service_trusts(terraform: Any) -> None:
    lambda_api = terraform.modules["lambda_api"]
    authorizer = lambda_api.resource("aws_apigatewayv2_authorizer", "jwt")
    assert authorizer["authorizer_type"] == "JWT"
    assert authorizer["identity_sources"] == ["$request.header.Authorization"]
    (jwt,) = authorizer["jwt_configuration"]
    assert ref(jwt["issuer"]) == "var.jwt_issuer"
    assert ref(jwt["audience"]) == "var.jwt_audience"

    # The root module passes the authorizer what it puts in the service's environment, which
    # both modes get (test_contract.py: module_environment).
    call = terraform.root.modules["lambda_api"]
    environment = root_environment(terraform)
    assert ref(call["jwt_issuer"]) == ref(environment["AUTH_ISSUER"])
    client_ids = ref(environment["AUTH_CLIENT_IDS"])
    joined = re.fullmatch(r'join\(",\s*",\s*(.+)\)', client_ids)
    if joined:  # AUTH_CLIENT_IDS = join(",", <list>) with the authorizer given the same list
        assert ref(call["jwt_audience"]) == joined.group(1).strip()
    else:  # one client: the audience is exactly that client
        assert isinstance(call["jwt_audience"], list), call["jwt_audience"]
        assert [ref(client) for client in call["jwt_audience"]] == [client_ids]


def test_issuer_and_client_are_the_user_pool_s(terraform: Any) -> None:
    root, auth = terraform.root, terraform.modules["auth"]
    environment = root_environment(terraform)
    locals_ = root.locals

    def module_output(expression: Any) -> str:
        """``local.x`` -> ``one(module.auth[*].name)`` -> ``name``."""
        local = re.fullmatch(r"local\.(\w+)", ref(expression))
        assert local, f"{expression!r}: read the user pool's settings through a local"
        output = re.fullmatch(r"one\(module\.auth\[\*\]\.(\w+)\)", ref(locals_[local.group(1)]))
        assert output, locals_[local.group(1)]
        return output.group(1)

    issuer = auth.outputs[module_output(environment["AUTH_ISSUER"])]["value"]
    client = auth.outputs[module_output(environment["AUTH_CLIENT_IDS"])]["value"]
    # Cognito's iss claim is https://cognito-idp.<region>.amazonaws.com/<pool id>, and the
    # pool's endpoint attribute is that without the scheme.
    pool = re.fullmatch(r"https://\$\{aws_cognito_user_pool\.(\w+)\.endpoint\}", issuer)
    assert pool, issuer
    client_id = re.fullmatch(r"aws_cognito_user_pool_client\.(\w+)\.id", ref(client))
    assert client_id, client
    client_body = auth.resource("aws_cognito_user_pool_client", client_id.group(1))
    assert ref(client_body["user_pool_id"]) == f"aws_cognito_user_pool.{pool.group(1)}.id"
    assert ref(root.modules["auth"]["count"]) == "local.deploy_service ? 1 : 0"


def test_user_pool_and_client_settings(terraform: Any) -> None:
    root, auth = terraform.root, terraform.modules["auth"]
    (pool_name,) = auth.of_type("aws_cognito_user_pool")
    pool = auth.resource("aws_cognito_user_pool", pool_name)
    (admin_config,) = pool["admin_create_user_config"]
    assert ref(admin_config["allow_admin_create_user_only"]) == "!var.allow_self_sign_up"
    assert ref(root.modules["auth"]["allow_self_sign_up"]) == "var.allow_self_sign_up"
    assert root.variables["allow_self_sign_up"]["default"] is False
    (policy,) = pool["password_policy"]
    assert ref(policy["minimum_length"]) == "var.password_minimum_length"
    assert root.variables["password_minimum_length"]["default"] >= 12
    assert ref(pool["deletion_protection"]) == 'var.deletion_protection ? "ACTIVE" : "INACTIVE"'
    assert root.variables["user_pool_deletion_protection"]["default"] is True

    (client_name,) = auth.of_type("aws_cognito_user_pool_client")
    client = auth.resource("aws_cognito_user_pool_client", client_name)
    assert client["generate_secret"] is False
    assert {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"} <= set(client["explicit_auth_flows"])
    assert client["prevent_user_existence_errors"] == "ENABLED"

    # The service's admin group is the pool's group, named by the one variable.
    group = auth.resource("aws_cognito_user_group", "admins")
    assert ref(group["name"]) == "var.admin_group"
    assert ref(auth.outputs["admin_group"]["value"]) == "aws_cognito_user_group.admins.name"
    assert ref(root.locals["auth_admin_group"]) == "one(module.auth[*].admin_group)"
    assert ref(root_environment(terraform)["ADMIN_GROUP"]) == "local.auth_admin_group"


# --- Token lifetimes ---------------------------------------------------------------------

LIFETIME_TERM = re.compile(r"var\.access_token_validity_minutes (>=|<=) (\d+)")


def lifetime_accepted(variable: dict[str, Any], minutes: int) -> bool:
    """Evaluates the variable's validations: ``&&``-joined bounds on the variable."""
    for validation in variable.get("validation", []):
        for term in ref(validation["condition"]).split("&&"):
            match = LIFETIME_TERM.fullmatch(term.strip())
            assert match, f"cannot evaluate {term!r}"
            bound = int(match.group(2))
            if not (minutes >= bound if match.group(1) == ">=" else minutes <= bound):
                return False
    return True


def test_access_tokens_are_short_lived(terraform: Any) -> None:
    """Signing out revokes the refresh token, but an access token already issued is checked
    against the issuer's keys alone (by the service and the JWT authorizer): it stays valid
    until it expires, so it lives an hour at most."""
    root, auth = terraform.root, terraform.modules["auth"]
    for variable in (
        root.variables["access_token_validity_minutes"],
        auth.variables["access_token_validity_minutes"],
    ):
        assert 15 <= variable["default"] <= 60
        for minutes, accepted in ((4, False), (5, True), (60, True), (61, False), (1440, False)):
            assert lifetime_accepted(variable, minutes) == accepted, minutes
    call = root.modules["auth"]
    assert ref(call["access_token_validity_minutes"]) == "var.access_token_validity_minutes"
    client = auth.resource("aws_cognito_user_pool_client", "public")
    assert ref(client["access_token_validity"]) == "var.access_token_validity_minutes"
    assert ref(client["id_token_validity"]) == "var.access_token_validity_minutes"
    (units,) = client["token_validity_units"]
    assert (units["access_token"], units["id_token"]) == ("minutes", "minutes")
    # RevokeToken, which the gallery's sign-out calls, works only with revocation on.
    assert client["enable_token_revocation"] is True


# --- AUTH_MODE ---------------------------------------------------------------------------

SETS_JWT = re.compile(r'^\s*"?AUTH_MODE"?\s*=\s*"jwt"\s*(#.*)?$')


def auth_mode_lines() -> list[tuple[str, int, str]]:
    """Every line of terraform/ that names AUTH_MODE, comments aside."""
    found = []
    for path in sorted(p for p in TERRAFORM_DIR.rglob("*") if p.is_file()):
        if ".terraform" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if line.lstrip().startswith(("#", "//")):
                continue
            if re.search(r"auth_mode", line, re.IGNORECASE):
                found.append((str(path.relative_to(TERRAFORM_DIR)), number, line))
    return found


def environment_values(value: Any, name: str) -> list[Any]:
    """Every value set for ``name`` anywhere in parsed HCL."""
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == name] + [
            found for v in value.values() for found in environment_values(v, name)
        ]
    if isinstance(value, list):
        return [found for v in value for found in environment_values(v, name)]
    return []


def test_terraform_never_turns_token_verification_off(terraform: Any) -> None:
    """AUTH_MODE=none serves without sign-in (local runs only): no file under terraform/
    may set it, or set AUTH_MODE from anything but the literal "jwt"."""
    lines = auth_mode_lines()
    assert lines, "the service's environment must set AUTH_MODE explicitly"
    for where, number, line in lines:
        assert SETS_JWT.match(line), f"{where}:{number}: {line.strip()}"

    values = [
        value
        for module in terraform.all_modules()
        for part in (module.locals, module.resources, module.modules, module.variables)
        for value in environment_values(part, "AUTH_MODE")
    ]
    assert values == ["jwt"], values
    assert root_environment(terraform)["AUTH_MODE"] == "jwt"


# --- Routes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str
    resource: str
    body: dict[str, Any]

    def authorization(self, public_read: bool) -> tuple[str, str | None]:
        """(authorization type, authorizer) with public_read set or not."""
        authorizer = when(self.body.get("authorizer_id", "null"), public_read)
        return when(self.body.get("authorization_type", "NONE"), public_read), authorizer

    def matches(self, method: str, path: str) -> bool:
        if self.key == "$default":
            return True
        route_method, route_path = self.key.split(" ", 1)
        pattern = "".join(
            ".+" if part.endswith("+}") else "[^/]+" if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{[^}]+\})", route_path)
        )
        return route_method in (method, "ANY") and re.fullmatch(pattern, path) is not None

    def specificity(self) -> tuple[int, int]:
        """API Gateway picks the most specific route: $default last, greedy paths after
        exact ones, longer literal paths first."""
        if self.key == "$default":
            return (0, 0)
        path = self.key.split(" ", 1)[1]
        literal = len(re.sub(r"\{[^}]+\}", "", path))
        return (1 if path.endswith("+}") else 2, literal)


def http_api_routes(terraform: Any) -> list[Route]:
    module = terraform.modules["lambda_api"]
    routes = []
    for name, body in module.of_type("aws_apigatewayv2_route").items():
        if "for_each" in body:
            local = re.fullmatch(r"toset\(local\.(\w+)\)", ref(body["for_each"]))
            assert local, f"{name}: for_each over a local list of route keys, please"
            assert ref(body["route_key"]) in ("each.value", "each.key"), name
            keys = module.locals[local.group(1)]
        else:
            keys = [body["route_key"]]
        for key in keys:
            assert ROUTE_KEY.fullmatch(key), f"{name}: {key!r} is not an HTTP API route key"
            assert body["target"] == INTEGRATION, name
            routes.append(Route(key, name, body))
    keys = [route.key for route in routes]
    assert len(keys) == len(set(keys)), f"duplicate route keys: {keys}"
    return routes


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # with a sample value for each path parameter
    public: bool  # served to anyone (service/entrypoints/api/auth.py)
    read: bool  # a read of images, open to anonymous callers with PUBLIC_READ
    cookie: bool = False  # the gallery: the service checks its session cookie itself


def service_operations(image_service: ImageService) -> list[Operation]:
    app = create_app(Settings(auth_mode="none"), image_service=image_service)
    operations = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        blueprint = rule.endpoint.split(".", 1)[0]
        path = re.sub(r"<[^>]+>", "sample-id", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operations.append(
                Operation(
                    method,
                    path,
                    public=blueprint in PUBLIC_BLUEPRINTS,
                    read=blueprint == "images" and method == "GET",
                    cookie=blueprint in COOKIE_BLUEPRINTS,
                )
            )
    return operations


@pytest.fixture(scope="module")
def operations() -> list[Operation]:
    service = ImageService(
        store=InMemoryImageStore(),
        repository=InMemoryImageRepository(),
        processor=PillowImageProcessor(max_pixels=1_000, max_frames=1),
        cursors=CursorCodec("x" * 32),
        limits=image_limits(Settings(max_file_size=1_024, allowed_content_types=("image/png",))),
        jobs=InMemoryJobQueue(),
    )
    found = service_operations(service)
    # What the Terraform must keep public or open: if these go, the test proves little.
    assert {(o.method, o.path) for o in found if o.public} >= {
        ("GET", "/health"),
        ("GET", "/health/ready"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
    }
    assert {(o.method, o.path) for o in found if o.read} >= {
        ("GET", "/images"),
        ("GET", "/images/sample-id"),
        ("GET", "/images/sample-id/download"),
        ("GET", "/images/sample-id/thumbnail"),
    }
    assert {(o.method, o.path) for o in found if o.cookie} >= {
        ("GET", "/"),
        ("POST", "/sign-in"),
        ("GET", "/photos/sample-id"),
        ("POST", "/photo-uploads/sample-id/complete"),
    }
    assert any(not o.public and not o.read and not o.cookie for o in found)
    return found


def chosen_route(routes: list[Route], method: str, path: str) -> Route:
    matching = [route for route in routes if route.matches(method, path)]
    assert matching, f"{method} {path}: no route (the $default route catches the rest)"
    best = max(route.specificity() for route in matching)
    (route,) = [r for r in matching if r.specificity() == best]
    return route


@pytest.mark.parametrize("public_read", [False, True], ids=["private", "public_read"])
def test_every_route_but_the_public_ones_needs_a_token(
    terraform: Any, operations: list[Operation], public_read: bool
) -> None:
    routes = http_api_routes(terraform)
    (default,) = [route for route in routes if route.key == "$default"]
    # Requests that no other route matches (other paths, methods, HEAD) need a token.
    assert default.authorization(public_read) == ("JWT", AUTHORIZER)
    for operation in operations:
        route = chosen_route(routes, operation.method, operation.path)
        where = f"{operation.method} {operation.path} -> {route.key}"
        if operation.public or operation.cookie or (operation.read and public_read):
            assert route.authorization(public_read) == ("NONE", None), where
        else:
            assert route.authorization(public_read) == ("JWT", AUTHORIZER), where


def test_every_route_serves_something(terraform: Any, operations: list[Operation]) -> None:
    """A misspelt route key would leave its operation on $default, behind the authorizer."""
    for route in http_api_routes(terraform):
        method, _, path = route.key.partition(" ")
        # HEAD is GET without the body; a CORS preflight (OPTIONS) may precede any method.
        methods = {"HEAD": {"GET"}, "OPTIONS": {o.method for o in operations}}.get(method)
        stand_ins = [Route(f"{m} {path}", route.resource, route.body) for m in methods or ()]
        assert any(
            candidate.matches(o.method, o.path)
            for candidate in stand_ins or [route]
            for o in operations
        ), route.key


def test_public_read_is_one_setting_for_the_api_and_the_service(terraform: Any) -> None:
    root = terraform.root
    assert root.variables["public_read"]["type"] == "bool"
    assert root.variables["public_read"]["default"] is False
    assert ref(root.modules["lambda_api"]["public_read"]) == "var.public_read"
    assert ref(root_environment(terraform)["PUBLIC_READ"]) == "tostring(var.public_read)"
