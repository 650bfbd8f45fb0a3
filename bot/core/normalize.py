"""Pure normalisation of what sources give us: canonical URLs, plain text, hashes."""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import lxml.html
from lxml import etree

# Query parameters that identify a campaign or a click, never the document.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
        "mc_cid", "mc_eid", "mkt_tok", "_hsenc", "_hsmi", "hsctatracking", "oly_anon_id",
        "oly_enc_id", "vero_conv", "vero_id", "wickedid", "ref_src", "ref_url", "cmpid",
        "ncid", "sr_share", "gh_src", "gh_jid_src", "lever-origin", "lever-source",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "__s", "_ga", "hmb_")
# Generic names such as "source" or "ref" are left alone: too many sites use them for identity.
_DEFAULT_PORTS = {"http": 80, "https": 443}


_REDIRECTORS = frozenset({"www.google.com", "google.com"})
_GOOGLE_NEWS = "news.google.com"
_TOKEN_MAX = 4000  # a Google News token longer than this is not read


def google_news_target(token: str) -> str | None:
    """The article address inside a Google News article token, when the token carries it: base64url of a
    small protobuf whose URL field holds it (tokens of the older kind, "CBMi…"). Newer tokens are opaque and
    only Google can read them: None."""
    if not token or len(token) > _TOKEN_MAX:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, binascii.Error):
        return None
    start = raw.find(b"http")
    if start < 1:
        return None
    if start >= 2 and raw[start - 2] >= 0x80 and raw[start - 1] < 0x80:  # a two-byte varint length
        length = (raw[start - 2] & 0x7F) | (raw[start - 1] << 7)
    elif raw[start - 1] < 0x80:
        length = raw[start - 1]
    else:
        return None
    try:
        target = raw[start:start + length].decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(target) != length or not re.fullmatch(r"https?://[^\s\x00-\x1f\x7f]+", target):
        return None
    return target


def canonical_url(url: str) -> str:
    """The URL without tracking parameters, fragment, default port or letter-case noise in the host; a
    Google redirect link (google.com/url?url=...) becomes the page it leads to, and so does a Google News
    article link whose token still carries the article's address (news.google.com/rss/articles/CBMi…), so
    one report read through a feed and through a news search is one item."""
    url = url.strip()
    parts = urlsplit(url)
    hostname = (parts.hostname or "").lower()
    if hostname in _REDIRECTORS and parts.path == "/url":
        params = dict(parse_qsl(parts.query))
        target = params.get("url") or params.get("q") or ""
        if target.startswith(("http://", "https://")):
            return canonical_url(target)
    if hostname == _GOOGLE_NEWS and "/articles/" in parts.path:
        article = google_news_target(parts.path.rsplit("/", 1)[-1])
        if article is not None:
            return canonical_url(article)
    scheme = parts.scheme.lower()
    host = hostname.rstrip(".")
    if not host:
        return url
    netloc = host if ":" not in host else f"[{host}]"
    port = parts.port
    if port and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def redact_url(url: str) -> str:
    """A URL fit for logs and error messages: no user info, query or fragment (feed URLs carry tokens)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:  # e.g. an unclosed IPv6 bracket: nothing of it is shown
        return "(an unreadable URL)"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a port out of range: shown as given, it is no secret
        port = ":" + parts.netloc.rsplit(":", 1)[-1]
    if ":" in host:  # an IPv6 address keeps its brackets: http://[::1]:8801/, not http://::1:8801/
        host = f"[{host}]"
    return urlunsplit((parts.scheme, host + port, parts.path, "…" if parts.query else "", ""))


def source_label(title: str | None, spec: str) -> str:
    """How a source is named to people: its title, or its spec with any credentials and query left out."""
    return title or redact_url(spec)


def url_key(url: str) -> str:
    """A fixed-width key for a canonical URL (URLs can be longer than an index allows)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def external_key(external_id: str) -> str:
    """Stable ids stay as they are; very long ones (whole URLs as guids) are hashed to fit the column."""
    external_id = scrub(external_id).strip()
    if len(external_id) <= 200:
        return external_id
    return "sha256:" + hashlib.sha256(external_id.encode("utf-8")).hexdigest()


_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
     "section", "article", "blockquote", "pre", "hr", "dd", "dt", "header", "footer"}
)
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "svg")
_DROP_OPEN = re.compile("<(?:" + "|".join(_DROP_TAGS) + ")", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")
_BLANK_LINES = re.compile(r"\n{3,}")


# NUL and the other C0/C1 controls (tab, line feed and carriage return kept) and lone UTF-16 surrogates: no
# database takes NUL in text (PostgreSQL refuses it), and no encoder takes a lone surrogate.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def scrub(value: str) -> str:
    """Text from outside without the characters no column can hold or no reader should see."""
    return _UNSTORABLE.sub("", value)


def fit(value: str, limit: int) -> str:
    """`value` scrubbed and cut to `limit` characters, for a column of that size (no ellipsis: for names and
    keys that must stay comparable)."""
    return scrub(value)[:limit]


def strip_html(value: str) -> str:
    """Plain text from an HTML fragment (or from text that merely has entities): no tags, no scripts,
    block elements as line breaks, whitespace collapsed, unstorable characters removed."""
    if not value:
        return ""
    value = scrub(value)
    if "<" not in value:
        return _tidy(html.unescape(value)) if "&" in value else _tidy(value, scrubbed=True)
    try:
        root = lxml.html.fragment_fromstring(value, create_parent="div")
    except (etree.ParserError, ValueError):
        return _tidy(html.unescape(re.sub(r"<[^>]*>", " ", value)))
    if _DROP_OPEN.search(value):  # an element only comes from a start tag: none of these, nothing to drop
        # Listed first: dropping an element while iterating ends the walk there, and a later one stayed.
        for el in list(root.iter(*_DROP_TAGS)):
            el.drop_tree()
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.lower() in _BLOCK_TAGS:
            el.tail = "\n" + (el.tail or "")
    return _tidy(root.text_content())


def _tidy(text: str, *, scrubbed: bool = False) -> str:
    # Entities and markup can decode to controls, so text is scrubbed unless it is `value` as scrubbed already;
    # the spaces never match a line break, so they are collapsed before the text is cut into lines.
    text = _SPACES.sub(" ", text if scrubbed else scrub(text))
    if "\n" not in text:
        return text.strip()
    return _BLANK_LINES.sub("\n\n", "\n".join(line.strip() for line in text.split("\n"))).strip()


def one_line(text: str) -> str:
    """Titles are one line."""
    return " ".join(scrub(text).split())


def first_line(exc: BaseException, limit: int | None = 300) -> str:
    """An exception's message as one line for a log or a status (drivers' messages run to several), at most
    `limit` characters; "" when it has none."""
    line = (str(exc).strip().splitlines() or [""])[0].strip()
    return line if limit is None else line[:limit]


def cap_text(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


CONTENT_HASH_VERSION = "v1"
# What json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str) builds on every call, built once.
_HASH_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str)


def content_hash(fields: dict[str, Any]) -> str:
    """A versioned hash of an item's meaningful content: bump the version when the fields change,
    so old hashes read as 'changed' once instead of silently comparing different things."""
    blob = _HASH_JSON.encode(fields)
    return f"{CONTENT_HASH_VERSION}:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()
