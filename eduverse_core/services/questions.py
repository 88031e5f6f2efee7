"""Questions asked from inside a scene, answered by the class's instructor."""

from __future__ import annotations

from .. import events
from ..errors import NotFound, PermissionDenied, ValidationFailed
from ..models import Question, SceneContext, User, utcnow
from .base import Service, new_id


def _text(value: str, field: str, limit: int) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise ValidationFailed(f"the {field} is empty", code=f"empty_{field}")
    if len(cleaned) > limit:
        raise ValidationFailed(f"the {field} is longer than {limit} characters", code="too_long")
    return cleaned


class QuestionService(Service):
    """Asking, answering and reading questions."""

    def ask(self, actor: User, text: str, context: SceneContext) -> Question:
        """A student asks their class's instructor (they must be in a class)."""
        self.require_role(actor, "student")
        membership = self.storage.get_membership(actor.id)
        if membership is None:
            raise PermissionDenied("join a class to ask its instructor", code="not_in_class")
        question = Question(
            id=new_id(),
            class_id=membership.class_id,
            student_id=actor.id,
            text=_text(text, "question", 4000),
            context=context,
        )
        self.storage.add_question(question)
        self.ev.track(events.QUESTION_ASKED, actor.id, class_id=question.class_id, id=question.id)
        return question

    def answer(self, actor: User, question_id: str, answer: str) -> Question:
        """Only the instructor of the question's class answers; answering again replaces."""
        self.require_role(actor, "instructor")
        question = self._get(question_id)
        self.owned_classroom(actor, question.class_id)
        answered = question.model_copy(
            update={
                "answer": _text(answer, "answer", 8000),
                "answered_at": utcnow(),
                "answered_by": actor.id,
                "resolved": True,
                "notified": False,
            }
        )
        self.storage.update_question(answered)
        self.ev.track(
            events.QUESTION_ANSWERED, actor.id, class_id=question.class_id, id=question.id
        )
        return answered

    def mine(self, actor: User) -> list[Question]:
        """The actor's own questions, newest first."""
        return self.storage.list_questions(student_id=actor.id)

    def inbox(self, actor: User, class_id: str, unresolved_only: bool = False) -> list[Question]:
        """A class's questions for its instructor, newest first."""
        self.require_role(actor, "instructor")
        self.owned_classroom(actor, class_id)
        questions = self.storage.list_questions(class_id=class_id)
        return [q for q in questions if not (unresolved_only and q.resolved)]

    def mark_answer_seen(self, actor: User, question_id: str) -> Question:
        """The asking student has read the answer."""
        question = self._get(question_id)
        if question.student_id != actor.id:
            # Not revealing that someone else's question exists.
            raise NotFound(f"question {question_id!r} not found", code="question_not_found")
        if not question.resolved:
            raise ValidationFailed("this question has no answer yet", code="not_answered")
        seen = question.model_copy(update={"notified": True})
        self.storage.update_question(seen)
        return seen

    def _get(self, question_id: str) -> Question:
        question = self.storage.get_question(question_id)
        if question is None:
            raise NotFound(f"question {question_id!r} not found", code="question_not_found")
        return question
