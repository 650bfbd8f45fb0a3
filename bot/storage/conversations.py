"""Conversation turns (questions and answers) and the feedback on answers. Every read is bound to a team."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.storage.models import AlertMessage, AnswerFeedback, Brief, ConversationTurn

HISTORY_LIMIT = 10


def earlier_turns(session: Session, *, team_id: str, channel_id: str, thread_ts: str,
                  limit: int = HISTORY_LIMIT) -> list[ConversationTurn]:
    """The conversation's last `limit` turns, oldest first."""
    rows = session.exec(select(ConversationTurn).where(
        ConversationTurn.team_id == team_id, ConversationTurn.channel_id == channel_id,
        ConversationTurn.thread_ts == thread_ts).order_by(col(ConversationTurn.id).desc()).limit(limit)).all()
    return list(reversed(rows))


def save_turn(session: Session, **fields: Any) -> int:
    turn = ConversationTurn(**fields)
    session.add(turn)
    session.flush()
    return turn.id or 0


def set_reply_ts(session: Session, *, team_id: str, turn_id: int, message_ts: str) -> None:
    turn = session.get(ConversationTurn, turn_id)
    if turn is not None and turn.team_id == team_id:
        turn.message_ts = message_ts
        session.add(turn)


def record_feedback(session: Session, *, team_id: str, turn_id: int, user_id: str, value: str,
                    now: datetime) -> bool:
    """A person's verdict on an answer of this team's; pressing again replaces it. False for a foreign turn."""
    turn = session.get(ConversationTurn, turn_id)
    if turn is None or turn.team_id != team_id:
        return False
    existing = session.exec(select(AnswerFeedback).where(AnswerFeedback.turn_id == turn_id,
                                                         AnswerFeedback.user_id == user_id)).first()
    if existing is not None:
        existing.value, existing.created_at = value, now
        session.add(existing)
        return True
    try:
        with session.begin_nested():
            session.add(AnswerFeedback(team_id=team_id, turn_id=turn_id, user_id=user_id, value=value,
                                       created_at=now))
    except IntegrityError:  # pressed twice at once: the first press stands
        pass
    return True


def alert_brief_id(session: Session, *, team_id: str, channel_id: str, ts: str) -> int | None:
    """The brief behind the alert posted at `ts` in the channel (its latest version), if that is an alert."""
    alert = session.exec(select(AlertMessage).where(AlertMessage.team_id == team_id,
                                                    AlertMessage.channel_id == channel_id,
                                                    AlertMessage.ts == ts)).first()
    return alert.brief_id if alert is not None else None


def latest_entities(session: Session, *, team_id: str, limit: int = 5) -> list[str]:
    """Names from the team's latest briefs, newest first, for suggested questions."""
    names: list[str] = []
    for brief in session.exec(select(Brief).where(Brief.team_id == team_id)
                              .order_by(col(Brief.id).desc()).limit(limit)):
        for name in brief.entities[:1]:
            if name not in names:
                names.append(name)
    return names
