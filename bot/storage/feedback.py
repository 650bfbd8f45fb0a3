"""Feedback on alerts from their buttons ("Not useful"). Answers' feedback is `conversations.record_feedback`."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.storage.db import insert_if_absent
from bot.storage.models import Feedback


def record_brief_feedback(*, session: Session, team_id: str, channel_id: str, user_id: str, brief_id: int,
                          value: str, now: datetime) -> bool:
    """Record one person's `value` for a brief; a second press of the same button counts once (False)."""
    return insert_if_absent(session, Feedback, ["team_id", "user_id", "brief_id", "value"], team_id=team_id,
                            channel_id=channel_id, user_id=user_id, brief_id=brief_id, value=value, created_at=now)
