"""Pydantic models, one module per aggregate."""

from .classroom import INVITE_ALPHABET, INVITE_CODE_LENGTH, ClassDetails, Classroom, Membership
from .common import LocalizedText, Model, localize, utcnow
from .pack import (
    FEEDBACK_KINDS,
    PLACEHOLDERS,
    TRACKS,
    Character,
    Cycle,
    Feedback,
    GraderRef,
    Hint,
    Lecture,
    LectureSection,
    ScenarioPack,
    Scene,
    SyntaxEntry,
    TrackContent,
    Week,
    WrongAnswer,
)
from .question import Question, SceneContext
from .reflection import Rating, Reflection, ReflectionFeedback
from .submission import Outcome, SubmissionLog
from .user import PauseState, Progress, Role, User

__all__ = [
    "FEEDBACK_KINDS",
    "INVITE_ALPHABET",
    "INVITE_CODE_LENGTH",
    "PLACEHOLDERS",
    "TRACKS",
    "Character",
    "ClassDetails",
    "Classroom",
    "Cycle",
    "Feedback",
    "GraderRef",
    "Hint",
    "Lecture",
    "LectureSection",
    "LocalizedText",
    "Membership",
    "Model",
    "Outcome",
    "PauseState",
    "Progress",
    "Question",
    "Rating",
    "Reflection",
    "ReflectionFeedback",
    "Role",
    "ScenarioPack",
    "Scene",
    "SceneContext",
    "SubmissionLog",
    "SyntaxEntry",
    "TrackContent",
    "User",
    "Week",
    "WrongAnswer",
    "localize",
    "utcnow",
]
