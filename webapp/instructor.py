"""What instructors do: run classes, watch learners live, answer questions, read analytics and
export the records.

Every class endpoint is for the class's own instructor. The role is checked here (a student is
403); ownership by the services (``owned_classroom``): an unknown class is 404, another
instructor's class 403.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request, stream_with_context
from pydantic import BaseModel, ConfigDict, Field
from werkzeug.utils import secure_filename

from eduverse_core.models import ClassDetails, Classroom, Progress, Question, User
from eduverse_core.services.analytics import ClassAnalytics
from eduverse_core.services.classes import (
    ClassView,
    MemberActivity,
    MemberView,
    MonitorFeed,
    SubmissionExport,
)
from eduverse_core.services.progress import is_online

from .api import api
from .context import eduverse
from .models import Body, Ok

bp = Blueprint("instructor", __name__)


# -- request models -------------------------------------------------------------------------------
class CreateClassBody(ClassDetails, Body):
    """The class's details (their limits are the model's) and the pack it follows."""

    pack_id: str | None = Field(
        None, max_length=100, description="Pack id; the server's default pack when omitted."
    )


class MonitorQuery(Body):
    since: str | None = Field(
        None, max_length=64, description="The `cursor` of the previous response; omit at first."
    )


class InboxQuery(Body):
    unresolved: bool = Field(False, description="Only questions without an answer.")


class AnswerBody(Body):
    answer: str = Field(max_length=8000, description="The answer shown to the student.")


# -- response models ------------------------------------------------------------------------------
class ClassOut(BaseModel):
    """A class as its instructor sees it (with the invite code)."""

    id: str
    name: str = Field(description="Display name derived from the details.")
    details: ClassDetails
    invite_code: str
    pack_id: str
    created_at: datetime
    member_count: int
    unanswered_questions: int = Field(
        0, description="Questions of the class waiting for an answer."
    )

    @classmethod
    def of(cls, classroom: Classroom, member_count: int, unanswered: int = 0) -> ClassOut:
        return cls(
            id=classroom.id,
            name=classroom.name,
            details=classroom.details,
            invite_code=classroom.invite_code,
            pack_id=classroom.pack_id,
            created_at=classroom.created_at,
            member_count=member_count,
            unanswered_questions=unanswered,
        )


class ClassResponse(Ok):
    class_: ClassOut = Field(alias="class", serialization_alias="class")

    model_config = ConfigDict(populate_by_name=True)


class ClassesOut(Ok):
    classes: list[ClassOut] = Field(description="The caller's classes, oldest first.")


class MemberState(BaseModel):
    """A member's place in the course and whether they are active (shared by the member list
    and the monitor feed)."""

    id: str = Field(description="The student's user id.")
    joined_at: datetime
    week: int = Field(description="Current week number.")
    cycle: int = Field(description="Current cycle, 1-based position within the week.")
    completed: int = Field(description="How many cycles they have completed.")
    finished: bool = Field(description="Whether they completed the last cycle.")
    last_active: datetime | None
    online: bool = Field(description="Active in the last five minutes.")

    @staticmethod
    def fields_of(
        user_id: str, joined_at: datetime, progress: Progress | None, online: bool
    ) -> dict[str, Any]:
        p = progress or Progress(user_id=user_id, pack_id="")  # a fresh start
        return {
            "id": user_id,
            "joined_at": joined_at,
            "week": p.week,
            "cycle": p.cycle,
            "completed": len(p.completed),
            "finished": p.finished,
            "last_active": p.last_active,
            "online": online,
        }


class MemberOut(MemberState):
    name: str
    email: str

    @classmethod
    def of(cls, view: MemberView) -> MemberOut:
        fields = cls.fields_of(view.user.id, view.membership.joined_at, view.progress, view.online)
        return cls(**fields, name=view.user.name, email=view.user.email)


class ClassDetailOut(Ok):
    class_: ClassOut = Field(alias="class", serialization_alias="class")
    members: list[MemberOut] = Field(description="Earliest joined first.")

    model_config = ConfigDict(populate_by_name=True)


class MembersOut(Ok):
    members: list[MemberOut] = Field(description="Earliest joined first.")


class InviteCodeOut(Ok):
    class_id: str
    invite_code: str = Field(description="The new code; the old one no longer works.")


class MemberCodeOut(Ok):
    user_id: str
    code: str = Field(description="The latest editor text.")
    cycle: str | None = Field(description="Id of the cycle the code belongs to.")
    last_active: datetime | None
    online: bool


class PasswordResetOut(Ok):
    user_id: str
    temporary_password: str = Field(
        description="Shown once: give it to the learner, who should change it after logging in."
    )


class MemberActivityOut(MemberState):
    live_code: str = Field(description="The latest editor text.")
    live_code_cycle: str | None = Field(description="Id of the cycle the live code belongs to.")

    @classmethod
    def of(cls, activity: MemberActivity) -> MemberActivityOut:
        p = activity.progress
        return cls(
            **cls.fields_of(activity.user_id, activity.joined_at, p, activity.online),
            live_code=p.live_code if p else "",
            live_code_cycle=p.live_code_cycle if p else None,
        )


class MonitorOut(Ok):
    cursor: str = Field(description="Send as `since` in the next poll.")
    members: list[str] = Field(
        description="Ids of every current member, earliest joined first; a missing id has left."
    )
    online: list[str] = Field(description="Ids of the members active in the last five minutes.")
    changed: list[MemberActivityOut] = Field(
        description="Members who joined or whose progress, live code or activity changed since"
        " the cursor (all members without one). A row may repeat: replace rows by id."
    )
    unanswered_questions: int
    newest_question_at: datetime | None

    @classmethod
    def of(cls, feed: MonitorFeed) -> MonitorOut:
        return cls(
            cursor=feed.cursor,
            members=feed.member_ids,
            online=feed.online_ids,
            changed=[MemberActivityOut.of(a) for a in feed.changed],
            unanswered_questions=feed.unanswered_questions,
            newest_question_at=feed.newest_question_at,
        )


class InboxOut(Ok):
    questions: list[Question] = Field(description="Newest first.")


class AnswerOut(Ok):
    question: Question


class AnalyticsOut(Ok):
    analytics: ClassAnalytics


# -- classes --------------------------------------------------------------------------------------
@api.route(
    bp,
    "POST",
    "/api/classes",
    auth="instructor",
    summary="Create a class",
    body=CreateClassBody,
    response=ClassResponse,
    status=201,
    extra_statuses=(409,),
)
def create_class(actor: User, body: CreateClassBody) -> ClassResponse:
    """The class gets a fresh six-character invite code to hand out."""
    details = ClassDetails.model_validate(body.model_dump(exclude={"pack_id"}))
    classroom = eduverse().classes.create(actor, details, body.pack_id)
    return ClassResponse(class_=ClassOut.of(classroom, member_count=0))


@api.route(bp, "GET", "/api/classes", auth="instructor", summary="My classes", response=ClassesOut)
def list_classes(actor: User) -> ClassesOut:
    counted = eduverse().classes.list_mine_with_counts(actor)
    return ClassesOut(
        classes=[ClassOut.of(c.classroom, c.member_count, c.unanswered_questions) for c in counted]
    )


@api.route(
    bp,
    "GET",
    "/api/classes/<class_id>",
    auth="instructor",
    summary="A class with its members",
    response=ClassDetailOut,
)
def class_detail(actor: User, class_id: str) -> ClassDetailOut:
    view = eduverse().classes.detail(actor, class_id)
    return ClassDetailOut(
        class_=ClassOut.of(view.classroom, len(view.members)),
        members=[MemberOut.of(m) for m in view.members],
    )


@api.route(bp, "DELETE", "/api/classes/<class_id>", auth="instructor", summary="Delete a class")
def delete_class(actor: User, class_id: str) -> dict[str, bool]:
    """Members are detached in the same transaction; submission logs and reflections stay."""
    eduverse().classes.delete(actor, class_id)
    return {"ok": True}


@api.route(
    bp,
    "POST",
    "/api/classes/<class_id>/invite-code",
    auth="instructor",
    summary="Replace the invite code",
    response=InviteCodeOut,
    extra_statuses=(409,),
)
def regenerate_invite_code(actor: User, class_id: str) -> InviteCodeOut:
    """For a code that leaked: the old one stops working at once; members stay."""
    classroom = eduverse().classes.regenerate_invite_code(actor, class_id)
    return InviteCodeOut(class_id=classroom.id, invite_code=classroom.invite_code)


# -- watching learners ----------------------------------------------------------------------------
@api.route(
    bp,
    "GET",
    "/api/classes/<class_id>/members",
    auth="instructor",
    summary="Members with progress",
    response=MembersOut,
)
def list_members(actor: User, class_id: str) -> MembersOut:
    views = eduverse().classes.members(actor, class_id)
    return MembersOut(members=[MemberOut.of(m) for m in views])


@api.route(
    bp,
    "GET",
    "/api/classes/<class_id>/members/<user_id>/live-code",
    auth="instructor",
    summary="A member's editor, live",
    response=MemberCodeOut,
)
def live_code(actor: User, class_id: str, user_id: str) -> MemberCodeOut:
    """404 for anyone not in this class, so the class's page cannot probe other learners."""
    progress = eduverse().classes.member_progress(actor, class_id, user_id)
    return MemberCodeOut(
        user_id=user_id,
        code=progress.live_code,
        cycle=progress.live_code_cycle,
        last_active=progress.last_active,
        online=is_online(progress),
    )


@api.route(
    bp,
    "POST",
    "/api/classes/<class_id>/members/<user_id>/password-reset",
    auth="instructor",
    summary="Give a member a temporary password",
    response=PasswordResetOut,
)
def reset_member_password(actor: User, class_id: str, user_id: str) -> PasswordResetOut:
    """For a learner who forgot their password: a temporary one, once; their sessions end."""
    temporary = eduverse().classes.reset_member_password(actor, class_id, user_id)
    return PasswordResetOut(user_id=user_id, temporary_password=temporary)


@api.route(
    bp,
    "GET",
    "/api/classes/<class_id>/monitor",
    auth="instructor",
    summary="What changed since the last poll",
    query=MonitorQuery,
    response=MonitorOut,
    extra_statuses=(304,),
)
def monitor(actor: User, class_id: str, query: MonitorQuery) -> Response:
    """Poll with the previous `cursor` as `since` and the previous `ETag` as `If-None-Match`:
    while nothing changed the answer is `304 Not Modified` without a body. The ETag is the
    digest of the exact body, so it is strong."""
    feed = eduverse().classes.monitor(actor, class_id, query.since)
    response = jsonify(MonitorOut.of(feed).model_dump(mode="json"))
    response.set_etag(hashlib.sha256(response.get_data()).hexdigest()[:32])
    response.headers["Cache-Control"] = "private, no-cache"  # always revalidate
    response.make_conditional(request)  # turns itself into a 304 when the ETag matches
    return response


# -- questions ------------------------------------------------------------------------------------
@api.route(
    bp,
    "GET",
    "/api/classes/<class_id>/questions",
    auth="instructor",
    summary="The class's questions",
    query=InboxQuery,
    response=InboxOut,
)
def inbox(actor: User, class_id: str, query: InboxQuery) -> InboxOut:
    questions = eduverse().questions.inbox(actor, class_id, query.unresolved)
    return InboxOut(questions=questions)


@api.route(
    bp,
    "POST",
    "/api/questions/<question_id>/answer",
    auth="instructor",
    summary="Answer a question",
    body=AnswerBody,
    response=AnswerOut,
)
def answer_question(actor: User, question_id: str, body: AnswerBody) -> AnswerOut:
    """Only the instructor of the question's class; answering again replaces the answer and
    shows it to the student as new."""
    return AnswerOut(question=eduverse().questions.answer(actor, question_id, body.answer))


# -- analytics and exports ------------------------------------------------------------------------
@api.route(
    bp,
    "GET",
    "/api/classes/<class_id>/analytics",
    auth="instructor",
    summary="The class's figures",
    response=AnalyticsOut,
)
def analytics(actor: User, class_id: str) -> AnalyticsOut:
    """Success rates overall and per week, the five most-failed cycles, each student's
    progress, reflection averages per cycle and the feedback texts per week."""
    return AnalyticsOut(analytics=eduverse().analytics.class_report(actor, class_id))


@api.route(
    bp,
    "GET",
    "/api/classes/<class_id>/export/progress.csv",
    auth="instructor",
    summary="Members' progress as CSV",
    produces="text/csv",
)
def export_progress(actor: User, class_id: str) -> Response:
    view = eduverse().classes.detail(actor, class_id)
    return csv_response(progress_rows(view), export_filename(view.classroom, "progress"))


@api.route(
    bp,
    "GET",
    "/api/classes/<class_id>/export/submissions.csv",
    auth="instructor",
    summary="Submission logs as CSV",
    produces="text/csv",
)
def export_submissions(actor: User, class_id: str) -> Response:
    """Streamed: the logs are read page by page while the file is sent."""
    export = eduverse().classes.submission_export(actor, class_id)
    return csv_response(submission_rows(export), export_filename(export.classroom, "submissions"))


# -- CSV ------------------------------------------------------------------------------------------
PROGRESS_COLUMNS = (
    "student_id",
    "name",
    "email",
    "joined_at",
    "week",
    "cycle",
    "completed",
    "completed_cycles",
    "finished",
    "last_active",
)
SUBMISSION_COLUMNS = (
    "at",
    "submission_id",
    "student_id",
    "name",
    "email",
    "week",
    "cycle",
    "track",
    "outcome",
    "duration_ms",
    "message",
    "code",
)


def progress_rows(view: ClassView) -> Iterator[Sequence[object]]:
    """The header, then one row per member (a fresh start for one without progress)."""
    yield PROGRESS_COLUMNS
    for m in view.members:
        p = m.progress or Progress(user_id=m.user.id, pack_id=view.classroom.pack_id)
        yield (
            m.user.id,
            m.user.name,
            m.user.email,
            m.membership.joined_at.isoformat(),
            p.week,
            p.cycle,
            len(p.completed),
            " ".join(p.completed),
            p.finished,
            p.last_active.isoformat() if p.last_active else "",
        )


def submission_rows(export: SubmissionExport) -> Iterator[Sequence[object]]:
    """The header, then one row per log as the service reads them, page by page."""
    yield SUBMISSION_COLUMNS
    for log, author in export.rows:
        yield (
            log.at.isoformat(),
            log.id,
            log.student_id,
            author.name if author else "",
            author.email if author else "",
            log.week,
            log.cycle,
            log.track,
            log.outcome.value,
            log.duration_ms,
            log.message,
            log.code,
        )


# Spreadsheets evaluate a cell that starts like a formula (=HYPERLINK(…), +cmd|…, -1+1, @SUM);
# a learner controls names, messages and code, so every such text cell is made plain text.
# Tab and carriage return also start formulas in some spreadsheets (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """``value`` with a leading ``'`` when it is text that a spreadsheet would evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_response(rows: Iterable[Iterable[object]], filename: str) -> Response:
    """A streamed CSV download. It starts with a UTF-8 byte-order mark: without it Excel reads
    the file in the legacy code page and garbles Korean names."""

    def chunks() -> Iterator[str]:
        buffer = io.StringIO()
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        for row in rows:
            writer.writerow([csv_cell(value) for value in row])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    response = Response(stream_with_context(chunks()), mimetype="text/csv")
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.headers["Cache-Control"] = "private, no-store"  # learners' personal data
    return response


def export_filename(classroom: Classroom, what: str) -> str:
    """E.g. ``2026-1_Python_A_progress.csv`` (ASCII only: safe in every browser)."""
    return secure_filename(f"{classroom.name} {what}.csv") or f"{what}.csv"
