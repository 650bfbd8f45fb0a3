"""The Slack app manifests: manifest.json (Socket Mode, `briefbot run`) and manifest.http.json (HTTP, `briefbot
serve`). Both must pass Slack's published JSON Schema (checked offline against the copy in the shared corpus) and
ask for the same scopes, events and command; every event must come with a scope that lets Slack deliver it."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT7

import bot.slack.app
from tests.conftest import corpus_path

ROOT = Path(__file__).resolve().parents[1]
SOCKET = ROOT / "manifest.json"
HTTP = ROOT / "manifest.http.json"
HOST_URL = "https://YOUR-HOST/slack/events"
REDIRECT_URL = "https://YOUR-HOST/slack/oauth_redirect"

# The scopes the app asks for when it is installed through OAuth: the manifests must ask for the same.
BOT_SCOPES = set(bot.slack.app.BOT_SCOPES)
# Each event the app subscribes to, and the bot scopes of which Slack needs at least one to deliver it
# (the event reference pages on docs.slack.dev; empty: no scope needed).
EVENT_SCOPES: dict[str, set[str]] = {
    "app_home_opened": set(),
    "app_mention": {"app_mentions:read"},
    "message.im": {"im:history"},
    "channel_left": {"channels:read"},
    "group_left": {"groups:read"},
    "channel_archive": {"channels:read"},
    "group_archive": {"groups:read"},
    "channel_unarchive": {"channels:read"},
    "group_unarchive": {"groups:read"},
    "member_joined_channel": {"channels:read", "groups:read"},
    "app_uninstalled": set(),
    "tokens_revoked": set(),
}
USAGE_HINT = ("help | follow SPEC | import URL | unfollow SPEC | watch TERM | unwatch TERM | list | status | "
              "digest daily HH:MM | mute | unmute | ask QUESTION | alias \"NAME\" \"COMPANY\" | unalias NAME | "
              "company NAME")


def load(path: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(path.read_text())
    return manifest


def scopes(manifest: dict[str, Any]) -> list[str]:
    return list(manifest["oauth_config"]["scopes"]["bot"])


def events(manifest: dict[str, Any]) -> list[str]:
    return list(manifest["settings"]["event_subscriptions"]["bot_events"])


def urls(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (where, value) whose key is a URL setting, anywhere in the manifest."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in ("url", "request_url", "message_menu_options_url", "redirect_urls"):
                yield f"{path}.{key}", json.dumps(inner)
            yield from urls(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from urls(inner, f"{path}[{i}]")


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    """The top-level manifest.schema.json picks a versioned schema by `$ref` to raw.githubusercontent.com URLs;
    each is served from the local copy beside it, and any other reference fails instead of going online."""
    folder = corpus_path("slack", "manifest-schema")
    top = json.loads((folder / "manifest.schema.json").read_text())

    def offline(uri: str) -> Resource[Any]:
        raise NoSuchResource(ref=uri)

    registry: Registry[Any] = Registry(retrieve=offline)
    refs = {ref for ref in _refs(top) if not ref.startswith("#")}
    assert refs, "manifest.schema.json no longer refers to versioned schemas; this loader needs a look"
    for uri in refs:
        local = folder / uri.rsplit("/", 1)[-1]
        assert local.exists(), f"{uri} is referenced but {local} is not in the corpus"
        resource = Resource.from_contents(json.loads(local.read_text()), default_specification=DRAFT7)
        registry = registry.with_resource(uri, resource)
    Draft7Validator.check_schema(top)
    return Draft7Validator(top, registry=registry)


def _refs(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        if isinstance(schema.get("$ref"), str):
            yield schema["$ref"]
        for value in schema.values():
            yield from _refs(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _refs(value)


def schema_errors(validator: Draft7Validator, manifest: dict[str, Any]) -> list[str]:
    """The schema is a oneOf over `_metadata.major_version`: report the innermost failures of the branch the
    manifest selects, not the "major_version is not 2" of the others."""
    found: list[str] = []
    for error in validator.iter_errors(manifest):
        branches: dict[Any, list[ValidationError]] = {}
        for leaf in _leaves(error):
            branches.setdefault(leaf.relative_schema_path[0] if leaf is not error else None, []).append(leaf)
        for leaves in branches.values():
            if not any(leaf.validator in ("const", "not") for leaf in leaves):
                found.extend(f"{'/'.join(map(str, leaf.absolute_path))}: {leaf.message}" for leaf in leaves)
    return found


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    if not error.context:
        yield error
    for inner in error.context or []:
        yield from _leaves(inner)


@pytest.mark.parametrize("path", [SOCKET, HTTP], ids=["socket", "http"])
def test_manifest_passes_slacks_schema(validator: Draft7Validator, path: Path) -> None:
    manifest = load(path)
    assert manifest["_metadata"]["major_version"] == 1
    assert schema_errors(validator, manifest) == []


@pytest.mark.parametrize(("change", "where"), [
    (lambda m: m["features"]["agent_view"]["suggested_prompts"].append({"title": "5th", "message": "x"}),
     "suggested_prompts"),
    (lambda m: m["features"]["slash_commands"][0].update(command="brief"), "command"),
    (lambda m: m["features"]["app_home"].update(home_tab=True), "home_tab"),
    (lambda m: m["display_information"].update(description="x" * 141), "description"),
])
def test_the_schema_check_reaches_the_versioned_schema(validator: Draft7Validator, change: Any, where: str) -> None:
    """These mistakes are only visible to the versioned schema, so catching them proves its $ref was followed."""
    manifest = copy.deepcopy(load(SOCKET))
    change(manifest)
    errors = schema_errors(validator, manifest)
    assert errors and any(where in error for error in errors), errors


def test_both_manifests_describe_the_same_app() -> None:
    socket, http = load(SOCKET), load(HTTP)
    assert sorted(scopes(socket)) == sorted(scopes(http))
    assert sorted(events(socket)) == sorted(events(http))

    def command(manifest: dict[str, Any]) -> list[dict[str, Any]]:
        return [{k: v for k, v in c.items() if k != "url"} for c in manifest["features"]["slash_commands"]]

    assert command(socket) == command(http)
    for key in ("display_information", "_metadata"):
        assert socket[key] == http[key], key
    for key in ("app_home", "bot_user", "agent_view"):
        assert socket["features"].get(key) == http["features"].get(key), key
    for key in ("org_deploy_enabled", "token_rotation_enabled"):
        assert socket["settings"].get(key) == http["settings"].get(key), key
    assert socket["settings"]["interactivity"]["is_enabled"] and http["settings"]["interactivity"]["is_enabled"]


@pytest.mark.parametrize("path", [SOCKET, HTTP], ids=["socket", "http"])
def test_scopes_and_events_are_the_ones_the_app_handles(path: Path) -> None:
    manifest = load(path)
    assert len(scopes(manifest)) == len(set(scopes(manifest))) and set(scopes(manifest)) == BOT_SCOPES
    assert len(events(manifest)) == len(set(events(manifest))) and set(events(manifest)) == set(EVENT_SCOPES)
    for event, needs in EVENT_SCOPES.items():
        assert not needs or needs & BOT_SCOPES, f"{event} needs one of {sorted(needs)}"
    home = manifest["features"]["app_home"]
    assert home == {"home_tab_enabled": True, "messages_tab_enabled": True, "messages_tab_read_only_enabled": False}
    assert manifest["features"]["bot_user"] == {"display_name": "briefbot", "always_online": True}
    assert manifest["display_information"]["name"] == "briefbot"


@pytest.mark.parametrize("path", [SOCKET, HTTP], ids=["socket", "http"])
def test_the_brief_command(path: Path) -> None:
    [command] = load(path)["features"]["slash_commands"]
    assert command["command"] == "/brief"
    assert command["description"] == "Follow sources, watch companies, set digests, ask questions"
    assert command["usage_hint"] == USAGE_HINT
    assert command["should_escape"] is False


@pytest.mark.parametrize("path", [SOCKET, HTTP], ids=["socket", "http"])
def test_agent_view(path: Path) -> None:
    """The Messages tab is the agent surface (agent_view, not the legacy assistant_view): it needs the tab,
    assistant:write for status and prompts, and the events that carry the conversation."""
    manifest = load(path)
    agent = manifest["features"]["agent_view"]
    assert "assistant_view" not in manifest["features"]
    assert agent["agent_description"] and 1 <= len(agent["suggested_prompts"]) <= 4
    assert "What is TikTok hiring for in Seattle?" in [p["message"] for p in agent["suggested_prompts"]]
    assert {"assistant:write", "im:history"} <= set(scopes(manifest))
    assert {"app_home_opened", "message.im"} <= set(events(manifest))


def test_socket_mode_manifest_has_no_urls() -> None:
    manifest = load(SOCKET)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert list(urls(manifest)) == []


def test_http_manifest_points_at_the_web_app() -> None:
    manifest = load(HTTP)
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["event_subscriptions"]["request_url"] == HOST_URL
    assert manifest["settings"]["interactivity"]["request_url"] == HOST_URL
    assert [c["url"] for c in manifest["features"]["slash_commands"]] == [HOST_URL]
    assert manifest["oauth_config"]["redirect_urls"] == [REDIRECT_URL]
    assert sorted(where for where, _ in urls(manifest)) == [
        ".features.slash_commands[0].url", ".oauth_config.redirect_urls",
        ".settings.event_subscriptions.request_url", ".settings.interactivity.request_url"]
