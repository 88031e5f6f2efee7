"""The scenario pack: a course as data.

These models are the single source of truth for the pack format: the JSON Schema in
``schemas/scenario-pack.schema.json`` is generated from them and every ``description`` here is
author documentation.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from .common import LocalizedText, Model

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
TRACKS: tuple[str, ...] = ("beginner", "advanced")
Track = Literal["beginner", "advanced"]
FEEDBACK_KINDS: tuple[str, ...] = ("success", "failure_logical", "failure_runtime", "timeout")
PLACEHOLDERS: frozenset[str] = frozenset({"USERNAME", "ERROR_MESSAGE"})


class Character(Model):
    """A member of the story's cast."""

    id: str = Field(pattern=ID_PATTERN, description="Stable id that scenes refer to.")
    name: LocalizedText = Field(description="Display name, e.g. `Alex`.")
    role: LocalizedText = Field(description="Role in the story, e.g. `Team lead`.")
    portrait: str | None = Field(
        None,
        description="Portrait image, a path relative to the pack folder (e.g. `assets/alex.svg`).",
    )


class Scene(Model):
    """One screen of the story: a character speaking."""

    character: str = Field(description="Id of the speaking character; must be in the cast.")
    title: LocalizedText = Field(description="Heading of the scene.")
    subtitle: LocalizedText = Field("", description="Line under the heading.")
    content: LocalizedText = Field(
        description="What the character says. Limited HTML (p, b, i, em, strong, code, pre, ul,"
        " ol, li, br, span, a[href]) is allowed and sanitised. Feedback scenes may use the"
        " placeholders `{{USERNAME}}` and `{{ERROR_MESSAGE}}`."
    )


class LectureSection(Model):
    """A section of a lecture note."""

    heading: LocalizedText = Field(description="Section heading.")
    text: LocalizedText = Field(description="Explanation (limited HTML).")
    code: str = Field("", description="A runnable example; must compile and run without error.")


class Lecture(Model):
    """The professor's lecture note for a cycle."""

    character: str | None = Field(
        None, description="Id of the lecturing character; defaults to the pack's lecturer."
    )
    title: LocalizedText = Field(description="Title of the note.")
    key_takeaway: LocalizedText = Field(description="The one idea to remember.")
    sandbox_code: str = Field("", description="Code the learner can play with; must run.")
    sections: list[LectureSection] = Field(description="The note's sections, in order.")


class WrongAnswer(Model):
    """A known wrong submission and how the tests must judge it (checked by `pack check`)."""

    code: str = Field(description="The wrong program.")
    expect: Literal["failed", "error"] = Field(
        description="`failed`: a test assertion must fail; `error`: the code itself must raise."
    )
    message_contains: LocalizedText | None = Field(
        None, description="A fragment the learner-facing message must contain."
    )


class Hint(Model):
    """A hint unlocked after some failed attempts."""

    after_failures: int = Field(
        ge=0, description="Failed attempts on this cycle and track before the hint appears."
    )
    text: LocalizedText = Field(description="The hint (limited HTML).")


class GraderRef(Model):
    """Which server-side grader judges a cycle, and its options."""

    name: str = Field("sandbox", description="Registered grader name.")
    options: dict[str, Any] = Field(
        default_factory=dict, description="Grader-specific options (e.g. limits)."
    )


class TrackContent(Model):
    """One difficulty track of a cycle."""

    task: Scene = Field(description="The task, usually given by the team lead.")
    briefing: Scene = Field(description="The briefing with hints, usually by a senior.")
    starter_code: str = Field(description="Code the editor starts with; must not pass the tests.")
    solution: str = Field(
        description="Reference solution; required and must pass the tests (`pack check`)."
    )
    test: str | None = Field(
        None, description="Test code for this track; overrides the cycle's shared `test`."
    )
    wrong_answers: list[WrongAnswer] = Field(
        default_factory=list, description="Known wrong answers with their expected outcome."
    )
    hints: list[Hint] = Field(
        default_factory=list,
        description="Progressive hints, ordered by `after_failures` (non-decreasing).",
    )


class Feedback(Model):
    """Feedback scenes shown after grading."""

    success: Scene = Field(description="Shown when the tests pass.")
    failure_logical: Scene = Field(description="Shown when a test assertion fails.")
    failure_runtime: Scene = Field(description="Shown when the learner's code raises.")
    timeout: Scene | None = Field(
        None, description="Shown on a timeout or limit; else `failure_runtime` is used."
    )


class Cycle(Model):
    """One task: story, lecture, code, tests, feedback."""

    id: str = Field(pattern=ID_PATTERN, description="Stable id, unique in the pack.")
    title: LocalizedText = Field(description="Short title.")
    syntax_keys: list[str] = Field(
        default_factory=list, description="Keys into the pack's syntax reference."
    )
    filename: str = Field("main.py", description="File name shown in the editor.")
    test: str | None = Field(
        None,
        description="Assert-based test code shared by both tracks. It runs after the learner's"
        " code in the same namespace with `source_code`, `stdout` and the helpers of"
        " docs/grading.md defined.",
    )
    test_visible: bool = Field(False, description="Whether learners may see the test code.")
    grader: GraderRef = Field(
        default_factory=GraderRef, description="The grader that judges this cycle."
    )
    lecture: Lecture = Field(description="The lecture note.")
    feedback: Feedback = Field(description="Feedback scenes.")
    beginner: TrackContent | None = Field(None, description="The beginner track.")
    advanced: TrackContent | None = Field(None, description="The advanced track.")

    @model_validator(mode="after")
    def _at_least_one_track(self) -> Cycle:
        if self.beginner is None and self.advanced is None:
            raise ValueError("a cycle needs at least one track (beginner or advanced)")
        return self

    def track(self, name: str) -> TrackContent | None:
        """The content of track ``name`` (None when the cycle lacks it)."""
        if name == "beginner":
            return self.beginner
        if name == "advanced":
            return self.advanced
        return None

    def tracks(self) -> dict[str, TrackContent]:
        """The tracks this cycle has, by name."""
        return {n: t for n in TRACKS if (t := self.track(n)) is not None}

    def test_for(self, track: str) -> str | None:
        """Test code for ``track``: the track's own, else the shared one."""
        content = self.track(track)
        if content is not None and content.test is not None:
            return content.test
        return self.test


class Week(Model):
    """A week of the course."""

    number: int = Field(ge=1, description="Week number; weeks are numbered 1..N without gaps.")
    title: LocalizedText = Field(description="Week title.")
    intro: Scene = Field(description="Scene shown once when the learner enters the week.")
    cycles: list[Cycle] = Field(min_length=1, description="The week's cycles, in order.")


class SyntaxEntry(Model):
    """An entry of the syntax reference shown beside the editor."""

    title: LocalizedText = Field(description="Name of the construct.")
    description: LocalizedText = Field(description="What it does (limited HTML).")
    example: str = Field("", description="A short example.")


class ScenarioPack(Model):
    """A scenario pack: a whole course."""

    schema_: str | None = Field(
        None, alias="$schema", description="Optional URL/path of this schema, for editors."
    )
    id: str = Field(pattern=ID_PATTERN, description="Pack id, e.g. `logicore`.")
    version: str = Field(description="Pack version, e.g. `1.0.0`.")
    title: LocalizedText = Field(description="Course title.")
    description: LocalizedText = Field("", description="What the course is about.")
    locales: list[str] = Field(min_length=1, description="Locales every text is written in.")
    default_locale: str = Field(description="Locale used when a text lacks the requested one.")
    cast: list[Character] = Field(min_length=1, description="The story's characters.")
    lecturer: str | None = Field(
        None, description="Id of the character who gives lectures unless a lecture names one."
    )
    coding_intro: Scene | None = Field(
        None, description="Shown before the learner's first coding screen."
    )
    finale: Scene | None = Field(None, description="Shown when the last cycle is completed.")
    syntax: dict[str, SyntaxEntry] = Field(
        default_factory=dict, description="Syntax reference, keyed by `syntax_keys`."
    )
    weeks: list[Week] = Field(min_length=1, description="The weeks, in order.")

    def week(self, number: int) -> Week | None:
        """Week ``number`` (1-based), or None."""
        for week in self.weeks:
            if week.number == number:
                return week
        return None

    def find_cycle(self, cycle_id: str) -> tuple[Week, int, Cycle] | None:
        """Locate a cycle by id: (week, 1-based position, cycle)."""
        for week in self.weeks:
            for position, cycle in enumerate(week.cycles, start=1):
                if cycle.id == cycle_id:
                    return week, position, cycle
        return None

    def character(self, character_id: str) -> Character | None:
        """The cast member ``character_id``, or None."""
        return next((c for c in self.cast if c.id == character_id), None)

    def cycle_order(self) -> list[tuple[int, str]]:
        """Every (week number, cycle id) in course order."""
        return [
            (w.number, c.id) for w in sorted(self.weeks, key=lambda w: w.number) for c in w.cycles
        ]
