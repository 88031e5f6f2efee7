"""Use cases. The only callers of storage; typed errors, no HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .accounts import AccountService
from .analytics import AnalyticsService
from .catalog import CatalogService
from .classes import ClassService
from .progress import ProgressService
from .questions import QuestionService
from .reflections import ReflectionService
from .sessions import SessionService
from .submissions import SubmissionService

if TYPE_CHECKING:
    from ..engine import Eduverse


@dataclass(frozen=True)
class Services:
    accounts: AccountService
    progress: ProgressService
    classes: ClassService
    questions: QuestionService
    reflections: ReflectionService
    submissions: SubmissionService
    analytics: AnalyticsService
    catalog: CatalogService
    sessions: SessionService


def build_services(eduverse: Eduverse) -> Services:
    """One instance of each service, bound to ``eduverse``."""
    return Services(
        accounts=AccountService(eduverse),
        progress=ProgressService(eduverse),
        classes=ClassService(eduverse),
        questions=QuestionService(eduverse),
        reflections=ReflectionService(eduverse),
        submissions=SubmissionService(eduverse),
        analytics=AnalyticsService(eduverse),
        catalog=CatalogService(eduverse),
        sessions=SessionService(eduverse),
    )
