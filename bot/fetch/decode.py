"""Content-Encoding undone a piece at a time, so a byte cap holds while decompressing: a 64 KB gzip chunk of
zeros would otherwise expand to 64 MB in one call before anything could count it."""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from bot.sources.base import SourceError

PIECE = 64 * 1024  # the most one decompression call may produce
MAX_LAYERS = 3  # "gzip, gzip, gzip, …" past this is an attack, not a server
GZIP_WBITS = zlib.MAX_WBITS | 16
GZIP_MAGIC = b"\x1f\x8b"  # how every gzip member begins
# Encodings we never ask for (Accept-Encoding says gzip, deflate) and cannot undo under a cap.
REFUSED = frozenset({"br", "zstd", "compress", "x-compress"})
ALIASES = {"x-gzip": "gzip"}


class Inflater:
    """gzip or deflate with every call's output bounded by PIECE. gzip members that follow one another are one
    body (RFC 1952 allows it); zero padding, and anything after the last member that is not another member, is
    ignored."""

    def __init__(self, encoding: str):
        self.encoding = encoding
        self._wbits = GZIP_WBITS if encoding == "gzip" else zlib.MAX_WBITS
        self._inflate = zlib.decompressobj(self._wbits)
        self._produced = False
        self._seen = b""  # deflate's first input, kept until it decodes, to replay as raw deflate if it does not
        self._after = b""  # after a gzip member: a lone first byte of the next one's magic, until the next chunk
        self._ended = False  # what followed the last member was not another member: the rest is ignored

    def decode(self, data: bytes) -> Iterator[bytes]:
        pending = data
        while True:
            if self._inflate.eof:  # a member ended: what follows is the next member, zero padding, or trailing junk
                if self._ended or self.encoding != "gzip":
                    return  # deflate ends once; anything after it is ignored, as browsers do
                rest = (self._after + pending).lstrip(b"\0")
                self._after = b""
                if not rest.startswith(GZIP_MAGIC):
                    if rest and GZIP_MAGIC.startswith(rest):  # the magic is split across chunks: wait for the rest
                        self._after = rest
                    elif rest:  # e.g. a newline a PHP script or CDN printed after the gzip output: ignored, as
                        self._ended = True  # httpx and browsers do, rather than failing the whole response
                    return
                pending, self._inflate = rest, zlib.decompressobj(self._wbits)
            # (a wrong guess fails within the first bytes: the zlib header or the first block)
            deciding = self.encoding == "deflate" and not self._produced and self._wbits > 0 and len(self._seen) < PIECE
            if deciding:
                self._seen += pending
            try:
                out = self._inflate.decompress(pending, PIECE)
            except zlib.error as exc:
                if deciding:
                    # Many servers send raw deflate without the zlib wrapper the standard asks for.
                    self._wbits, self._inflate = -zlib.MAX_WBITS, zlib.decompressobj(-zlib.MAX_WBITS)
                    pending, self._seen = self._seen, b""
                    continue
                raise SourceError("encoding", f"response could not be decompressed ({self.encoding}): {exc}") from exc
            # At the end of a member zlib leaves the rest in unused_data (and, when output was capped, a stale copy
            # in unconsumed_tail that must not be read twice).
            pending = self._inflate.unused_data if self._inflate.eof else self._inflate.unconsumed_tail
            if out:
                self._produced, self._seen = True, b""
                yield out
            # A full piece may leave output inside zlib even with no input left: ask again until it runs dry.
            if not pending and len(out) < PIECE and not self._inflate.eof:
                return


class BodyDecoder:
    """Undoes a response's Content-Encoding layers (last applied first), yielding pieces of at most PIECE bytes."""

    def __init__(self, content_encoding: str):
        names = [ALIASES.get(n, n) for n in (p.strip().lower() for p in content_encoding.split(",")) if n]
        refused = [n for n in names if n in REFUSED]
        if refused:
            raise SourceError("encoding", f"the response is compressed with {refused[0]}, which briefbot did not ask "
                                          "for and does not read (it accepts gzip and deflate)")
        # Unknown tokens (servers send "utf-8", "none", "binary") are ignored, as browsers and httpx do.
        layers = [n for n in names if n in ("gzip", "deflate")]
        if len(layers) > MAX_LAYERS:
            raise SourceError("encoding", f"the response is compressed {len(layers)} times over; briefbot undoes at "
                                          f"most {MAX_LAYERS} layers")
        self._layers = [Inflater(n) for n in reversed(layers)]

    @property
    def compressed(self) -> bool:
        return bool(self._layers)

    def decode(self, chunk: bytes) -> Iterator[bytes]:
        yield from self._through(chunk, 0)

    def finish(self) -> Iterator[bytes]:
        """What the layers still hold once the body has ended."""
        yield from self._through(b"", 0)

    def _through(self, data: bytes, layer: int) -> Iterator[bytes]:
        if layer == len(self._layers):
            if data:
                yield data
            return
        for piece in self._layers[layer].decode(data):
            yield from self._through(piece, layer + 1)
        if not data:  # at the end, flush the layers below too
            yield from self._through(b"", layer + 1)
