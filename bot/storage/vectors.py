"""Item vectors: saved when story clustering embeds news items, and searched for questions by cosine
similarity (the vectors are unit length, so a dot product). The search reads the asking team's most recent
vectors inside the question's time window, at most `window` of them, and scores them with numpy: exact, and
bounded in cost. (pgvector or sqlite-vec would index them; neither is on every machine briefbot runs on.)"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
from sqlmodel import Session, col, select

from bot.storage.models import ItemVector

DEFAULT_WINDOW = 5_000  # vectors read per question: 30 MB at 1,536 dimensions; older items still match by words


def pack(vector: Sequence[float]) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def save_vectors(*, session: Session, team_id: str,
                 vectors: Sequence[tuple[int, datetime, Sequence[float]]]) -> int:
    """Keep (item id, item time, vector) for items that have none yet; the number saved."""
    ids = [item_id for item_id, _, _ in vectors]
    if not ids:
        return 0
    have = set(session.exec(select(ItemVector.item_id).where(col(ItemVector.item_id).in_(ids))))
    fresh = [ItemVector(item_id=item_id, team_id=team_id, dims=len(vector), vector=pack(vector), at=at)
             for item_id, at, vector in vectors if item_id not in have]
    session.add_all(fresh)
    return len(fresh)


def nearest(*, session: Session, team_id: str, query: Sequence[float], since: datetime | None = None,
            until: datetime | None = None, limit: int = 30, window: int = DEFAULT_WINDOW) -> list[tuple[int, float]]:
    """(item id, cosine) of the team's items closest to `query`, best first, among its `window` most recent
    vectors of the same dimension inside the time window."""
    statement = select(ItemVector.item_id, ItemVector.vector).where(
        ItemVector.team_id == team_id, ItemVector.dims == len(query))
    if since is not None:
        statement = statement.where(col(ItemVector.at) >= since)
    if until is not None:
        statement = statement.where(col(ItemVector.at) < until)
    rows = session.exec(statement.order_by(col(ItemVector.at).desc()).limit(window)).all()
    if not rows:
        return []
    matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(len(rows), len(query))
    q = np.asarray(query, dtype="<f4")
    norm = float(np.linalg.norm(q)) or 1.0
    scores = matrix @ (q / norm)
    top = np.argsort(-scores)[:limit]
    return [(int(rows[i][0]), float(scores[i])) for i in top]
