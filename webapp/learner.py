"""What a learner does with their own data: progress, submissions, runs, the scene-flow
markers, their class, questions, reflections and growth.

Every endpoint acts on the caller's own records (the actor comes from the token, never from a
body). A pack is optional wherever the caller may mean "mine": the services then pick the
pack of the caller's class, else the server's default pack. The services enforce the course
order — any cycle already reached may be revisited, none ahead of the learner opened.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from eduverse_core.grading.feedback import sanitise_html
from eduverse_core.models import (
    Hint,
    Outcome,
    PauseState,
    Progress,
    Question,
    Rating,
    Reflection,
    ReflectionFeedback,
    ScenarioPack,
    SceneContext,
    User,
    localize,
)
from eduverse_core.services.base import MAX_CODE_BYTES
from eduverse_core.services.progress import current_position
from eduverse_core.services.submissions import SubmissionResult

from .api import api
from .context import eduverse
from .models import Body, ClassSummary, Ok

bp = Blueprint("learner", __name__)

PackId = Annotated[str, Field(min_length=1, max_length=64, description="Pack id.")]
CycleRef = Annotated[
    Annotated[int, Field(strict=True, ge=1)] | Annotated[str, Field(min_length=1, max_length=64)],
    Field(description="Cycle id, or its 1-based position in the week."),
]
Track = Literal["beginner", "advanced"]
Code = Annotated[
    str,
    Field(
        description="Python source. At most 64 KiB of UTF-8: more is 400 `code_too_large` (a"
        " body over 256 KiB is 413).",
        json_schema_extra={"maxLength": MAX_CODE_BYTES},  # bytes ≥ characters: never too strict
    ),
]
Locale = Annotated[str, Field(max_length=16, description="e.g. `ko` or `en`.")]
OptionalPack = Annotated[
    str | None,
    Field(
        max_length=64, description="Pack id; default: the caller's class's pack, else the default."
    ),
]


# -- models ---------------------------------------------------------------------------------------
class PackQuery(Body):
    pack: OptionalPack = None


class HintsQuery(Body):
    pack: PackId
    week: int = Field(ge=1, le=1000)
    cycle: str = Field(min_length=1, max_length=64, description="Cycle id.")
    track: Track = "beginner"
    locale: Locale | None = None


class HintsOut(Ok):
    hints: list[str] = Field(description="Unlocked hints of this cycle and track (sanitised HTML).")


class PositionOut(BaseModel):
    week: int
    cycle_id: str
    position: int = Field(description="1-based position of the cycle in its week.")


class NextOut(BaseModel):
    week: int
    cycle_id: str


class PauseOut(BaseModel):
    week: int
    cycle: str = Field(description="Cycle id.")
    scene: str
    track: Track
    at: datetime


class ProgressOut(BaseModel):
    """The caller's own progress in one pack (never anyone's live code)."""

    pack_id: str
    week: int = Field(description="Current week.")
    cycle: int = Field(description="Current cycle's 1-based position in the week.")
    current: PositionOut = Field(description="The current cycle, resolved in the pack.")
    completed: list[str] = Field(description="Ids of completed cycles.")
    intros_seen: list[int] = Field(description="Weeks whose intro was shown.")
    coding_intro_seen: bool
    pause_state: PauseOut | None
    failed_attempts: dict[str, int] = Field(description="Failed gradings per `cycle_id:track`.")
    finished: bool
    last_active: datetime | None


class ProgressResponse(Ok):
    progress: ProgressOut


class SubmissionBody(Body):
    pack_id: PackId
    week: int = Field(ge=1, le=1000)
    cycle: CycleRef
    track: Track
    code: Code
    locale: Locale | None = None


class FeedbackOut(BaseModel):
    """The scene grading shows: plain-text titles, sanitised HTML content."""

    character: str = Field(description="Cast id of the speaker.")
    character_name: str
    title: str
    subtitle: str
    content: str = Field(description="Sanitised HTML.")


class SubmissionOut(Ok):
    outcome: Outcome
    message: str = Field(description="Safe to show: the assertion's or the error's message.")
    stdout: str
    duration_ms: int
    counted: bool = Field(description="False when the grader failed: not an attempt.")
    feedback: FeedbackOut
    hints: list[str] = Field(description="Unlocked hints of this cycle and track (sanitised HTML).")
    progress: ProgressOut
    next: NextOut | None = Field(
        description="Where to go now: this cycle until it passes, then the following one;"
        " null after the last cycle."
    )


class RunBody(Body):
    code: Code
    locale: Locale = "en"


class RunOut(Ok):
    outcome: Outcome
    message: str
    stdout: str
    duration_ms: int


class LiveCodeBody(Body):
    pack_id: OptionalPack = None
    code: Code
    cycle_id: str | None = Field(None, max_length=64, description="The cycle being edited.")


class LiveCodeOut(Ok):
    last_active: datetime


class PauseBody(Body):
    pack_id: OptionalPack = None
    week: int = Field(ge=1, le=1000)
    cycle: CycleRef
    scene: str = Field(max_length=40, description="Scene name, e.g. `task` or `coding`.")
    track: Track = "beginner"


class PackBody(Body):
    pack_id: OptionalPack = None


class IntroSeenBody(PackBody):
    week: int = Field(ge=1, le=1000)


class JoinBody(Body):
    invite_code: str = Field(max_length=32, description="Six characters; case, dashes ignored.")


class JoinOut(Ok):
    class_: ClassSummary = Field(alias="class", serialization_alias="class")

    model_config = ConfigDict(populate_by_name=True)


class ContextBody(Body):
    """Where the question was asked."""

    week: int = Field(ge=1, le=1000)
    cycle: str | None = Field(None, max_length=64)
    scene: str = Field("", max_length=40)
    character: str = Field("", max_length=40)
    excerpt: str = Field("", max_length=2000, description="Text on screen when asked.")


class AskBody(Body):
    text: str = Field(max_length=4000)
    context: ContextBody


class QuestionOut(BaseModel):
    """One of the caller's questions, with the answer once given."""

    id: str
    class_id: str
    text: str
    context: SceneContext
    created_at: datetime
    answer: str | None
    answered_at: datetime | None
    resolved: bool
    notified: bool = Field(description="Whether the asker has seen the answer.")

    @classmethod
    def of(cls, question: Question) -> QuestionOut:
        return cls.model_validate(question.model_dump(exclude={"student_id", "answered_by"}))


class QuestionResponse(Ok):
    question: QuestionOut


class QuestionsOut(Ok):
    questions: list[QuestionOut] = Field(description="Newest first.")


class ReflectionBody(Body):
    pack_id: OptionalPack = None
    ratings: dict[Annotated[str, Field(max_length=64)], Rating] = Field(
        max_length=200, description="Self-ratings per cycle id of the week."
    )
    feedback: ReflectionFeedback = Field(default_factory=ReflectionFeedback)


class ReflectionOut(BaseModel):
    pack_id: str
    week: int
    ratings: dict[str, Rating]
    feedback: ReflectionFeedback
    at: datetime

    @classmethod
    def of(cls, reflection: Reflection) -> ReflectionOut:
        return cls.model_validate(reflection.model_dump(exclude={"student_id", "class_id"}))


class ReflectionResponse(Ok):
    reflection: ReflectionOut


class ReflectionsOut(Ok):
    reflections: list[ReflectionOut] = Field(description="By week.")


class GrowthWeekOut(BaseModel):
    week: int
    submissions: int
    passed: int
    success_rate: float | None = Field(description="In [0, 1]; null without submissions.")
    comprehension: float | None = Field(description="Mean self-rating (1-5) of the week.")
    application: float | None
    feedback: ReflectionFeedback | None


class GrowthReport(BaseModel):
    pack_id: str
    submissions: int
    passed: int
    completed: int = Field(description="Cycles completed.")
    weeks: list[GrowthWeekOut]


class GrowthOut(Ok):
    growth: GrowthReport


# -- rendering ------------------------------------------------------------------------------------
def progress_out(progress: Progress) -> ProgressOut:
    """The learner-facing summary; ``current`` resolves the position in the pack."""
    here = current_position(eduverse().pack(progress.pack_id), progress)
    data = progress.model_dump(exclude={"user_id", "live_code", "live_code_cycle"})
    return ProgressOut.model_validate({**data, "current": asdict(here)})


def hints_html(pack: ScenarioPack, hints: list[Hint], locale: str | None) -> list[str]:
    """Hints are pack text (limited HTML): localised, then sanitised like every scene."""
    lang = locale or pack.default_locale
    return [sanitise_html(localize(h.text, lang, pack.default_locale)) for h in hints]


def submission_out(result: SubmissionResult, locale: str | None) -> SubmissionOut:
    pack, grade, target = result.pack, result.grade, result.next_cycle
    return SubmissionOut(
        outcome=grade.outcome,
        message=grade.message,
        stdout=grade.stdout,
        duration_ms=grade.duration_ms,
        counted=result.counted,
        feedback=FeedbackOut.model_validate(result.feedback.to_dict()),
        hints=hints_html(pack, result.hints, locale),
        progress=progress_out(result.progress),
        next=NextOut(week=target[0], cycle_id=target[1]) if target else None,
    )


# -- progress and code ----------------------------------------------------------------------------
@api.route(
    bp,
    "GET",
    "/api/progress",
    auth="user",
    summary="My progress in a pack",
    query=PackQuery,
    response=ProgressResponse,
)
def my_progress(actor: User, query: PackQuery) -> ProgressResponse:
    return ProgressResponse(progress=progress_out(eduverse().progress.get(actor, query.pack)))


@api.route(
    bp,
    "GET",
    "/api/hints",
    auth="user",
    summary="The hints I have unlocked on a cycle",
    query=HintsQuery,
    response=HintsOut,
    extra_statuses=(403,),
)
def my_hints(actor: User, query: HintsQuery) -> HintsOut:
    """Hints unlock with failed gradings; this shows them again after a reload. A cycle ahead
    of the learner is 403 `cycle_locked`."""
    pack, hints = eduverse().submissions.hints(
        actor, query.pack, query.week, query.cycle, query.track
    )
    return HintsOut(hints=hints_html(pack, hints, query.locale))


@api.route(
    bp,
    "POST",
    "/api/submissions",
    auth="user",
    summary="Submit code for grading",
    body=SubmissionBody,
    response=SubmissionOut,
    extra_statuses=(403,),
)
def submit(actor: User, body: SubmissionBody) -> SubmissionOut:
    """The server grades with the cycle's registered grader, records the attempt and advances
    on a pass; the browser's opinion of the code is never asked. A cycle ahead of the
    learner is 403 `cycle_locked`."""
    result = eduverse().submissions.submit(
        actor, body.pack_id, body.week, body.cycle, body.track, body.code, body.locale
    )
    return submission_out(result, body.locale)


@api.route(
    bp,
    "POST",
    "/api/run",
    auth="user",
    summary="Run code without tests",
    body=RunBody,
    response=RunOut,
)
def run(actor: User, body: RunBody) -> RunOut:
    """For browsers without Pyodide: runs in the server's sandbox; nothing is recorded."""
    grade = eduverse().submissions.run(actor, body.code, body.locale)
    return RunOut(
        outcome=grade.outcome,
        message=grade.message,
        stdout=grade.stdout,
        duration_ms=grade.duration_ms,
    )


@api.route(
    bp,
    "PUT",
    "/api/progress/live-code",
    auth="user",
    summary="Save my editor's text",
    body=LiveCodeBody,
    response=LiveCodeOut,
)
def save_live_code(actor: User, body: LiveCodeBody) -> LiveCodeOut:
    """So the class's instructor can watch it; a later save replaces it."""
    progress = eduverse().progress.save_live_code(actor, body.pack_id, body.code, body.cycle_id)
    assert progress.last_active is not None  # every update stamps it
    return LiveCodeOut(last_active=progress.last_active)


# -- scene-flow markers ---------------------------------------------------------------------------
@api.route(
    bp,
    "PUT",
    "/api/progress/pause",
    auth="user",
    summary="Remember where I paused",
    body=PauseBody,
    response=ProgressResponse,
    extra_statuses=(403,),
)
def set_pause(actor: User, body: PauseBody) -> ProgressResponse:
    """Only a cycle already reached (403 `cycle_locked` otherwise); a position is stored as
    the cycle's id."""
    state = PauseState(week=body.week, cycle=str(body.cycle), scene=body.scene, track=body.track)
    progress = eduverse().progress.set_pause(actor, body.pack_id, state)
    return ProgressResponse(progress=progress_out(progress))


@api.route(
    bp,
    "DELETE",
    "/api/progress/pause",
    auth="user",
    summary="Forget where I paused",
    query=PackQuery,
    response=ProgressResponse,
)
def clear_pause(actor: User, query: PackQuery) -> ProgressResponse:
    """The pack comes from the query: a DELETE carries no body."""
    progress = eduverse().progress.clear_pause(actor, query.pack)
    return ProgressResponse(progress=progress_out(progress))


@api.route(
    bp,
    "POST",
    "/api/progress/intro-seen",
    auth="user",
    summary="Mark a week's intro as shown",
    body=IntroSeenBody,
    response=ProgressResponse,
)
def intro_seen(actor: User, body: IntroSeenBody) -> ProgressResponse:
    progress = eduverse().progress.mark_intro_seen(actor, body.pack_id, body.week)
    return ProgressResponse(progress=progress_out(progress))


@api.route(
    bp,
    "POST",
    "/api/progress/coding-intro-seen",
    auth="user",
    summary="Mark the coding intro as shown",
    body=PackBody,
    response=ProgressResponse,
)
def coding_intro_seen(actor: User, body: PackBody) -> ProgressResponse:
    progress = eduverse().progress.mark_coding_intro_seen(actor, body.pack_id)
    return ProgressResponse(progress=progress_out(progress))


# -- my class -------------------------------------------------------------------------------------
@api.route(
    bp,
    "POST",
    "/api/classes/join",
    auth="student",
    summary="Join a class by invite code",
    body=JoinBody,
    response=JoinOut,
)
def join_class(actor: User, body: JoinBody) -> JoinOut:
    """A student is in one class at most: joining another leaves the previous one."""
    classroom = eduverse().classes.join(actor, body.invite_code)
    return JoinOut(class_=ClassSummary.of(classroom))


@api.route(bp, "POST", "/api/classes/leave", auth="student", summary="Leave my class")
def leave_class(actor: User) -> dict[str, Any]:
    """404 `not_in_class` when in none."""
    eduverse().classes.leave(actor)
    return {"ok": True}


# -- questions ------------------------------------------------------------------------------------
@api.route(
    bp,
    "POST",
    "/api/questions",
    auth="student",
    summary="Ask my class's instructor",
    body=AskBody,
    response=QuestionResponse,
    status=201,
)
def ask(actor: User, body: AskBody) -> QuestionResponse:
    """The question goes to the instructor of the asker's class (403 `not_in_class`
    without one); the class is never taken from the body."""
    context = SceneContext.model_validate(body.context.model_dump())
    question = eduverse().questions.ask(actor, body.text, context)
    return QuestionResponse(question=QuestionOut.of(question))


@api.route(
    bp, "GET", "/api/questions/mine", auth="user", summary="My questions", response=QuestionsOut
)
def my_questions(actor: User) -> QuestionsOut:
    """Only the caller's own (an instructor has none: an empty list)."""
    questions = eduverse().questions.mine(actor)
    return QuestionsOut(questions=[QuestionOut.of(q) for q in questions])


@api.route(
    bp,
    "POST",
    "/api/questions/<question_id>/seen",
    auth="user",
    summary="Mark an answer as seen",
    response=QuestionResponse,
)
def answer_seen(actor: User, question_id: str) -> QuestionResponse:
    """Only the asker; to anyone else the question does not exist (404), so ids cannot be
    probed. 400 `not_answered` before there is an answer."""
    question = eduverse().questions.mark_answer_seen(actor, question_id)
    return QuestionResponse(question=QuestionOut.of(question))


# -- reflections and growth -----------------------------------------------------------------------
@api.route(
    bp,
    "PUT",
    "/api/reflections/<int:week>",
    auth="user",
    summary="Submit my reflection on a week",
    body=ReflectionBody,
    response=ReflectionResponse,
)
def put_reflection(actor: User, week: int, body: ReflectionBody) -> ReflectionResponse:
    """One reflection per learner, pack and week: a resubmission replaces it (and its share of
    the class averages)."""
    reflection = eduverse().reflections.submit(
        actor, body.pack_id, week, body.ratings, body.feedback
    )
    return ReflectionResponse(reflection=ReflectionOut.of(reflection))


@api.route(
    bp,
    "GET",
    "/api/reflections/mine",
    auth="user",
    summary="My reflections",
    query=PackQuery,
    response=ReflectionsOut,
)
def my_reflections(actor: User, query: PackQuery) -> ReflectionsOut:
    reflections = eduverse().reflections.mine(actor, query.pack)
    return ReflectionsOut(reflections=[ReflectionOut.of(r) for r in reflections])


@api.route(
    bp,
    "GET",
    "/api/growth",
    auth="user",
    summary="My growth over the weeks",
    query=PackQuery,
    response=GrowthOut,
)
def my_growth(actor: User, query: PackQuery) -> GrowthOut:
    """Per week: submissions, success rate, self-ratings and the reflection's free texts."""
    growth = eduverse().analytics.growth(actor, query.pack)
    return GrowthOut.model_validate({"growth": asdict(growth)})
