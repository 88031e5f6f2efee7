"""Packs as learners see them: localised, without solutions, wrong answers or hidden tests."""

from __future__ import annotations

from typing import Any

from ..grading.feedback import render_scene, sanitise_html
from ..models import Character, Cycle, Lecture, ScenarioPack, Scene, TrackContent, localize
from .base import Service
from .progress import locate_week


class Localizer:
    """Renders pack texts in one locale, falling back to the pack's default. Plain texts stay
    plain (the client escapes them); HTML texts go through the allow-list sanitiser."""

    def __init__(self, pack: ScenarioPack, locale: str | None, username: str = "") -> None:
        self.pack = pack
        self.locale = locale if locale in pack.locales else pack.default_locale
        self.username = username

    def text(self, value: str | dict[str, str]) -> str:
        return localize(value, self.locale, self.pack.default_locale)

    def html(self, value: str | dict[str, str]) -> str:
        return sanitise_html(self.text(value))

    def character(self, character_id: str | None) -> dict[str, Any]:
        found: Character | None = self.pack.character(character_id or "")
        if found is None:
            return {"id": character_id, "name": character_id or "", "role": "", "portrait": None}
        return {
            "id": found.id,
            "name": self.text(found.name),
            "role": self.text(found.role),
            "portrait": found.portrait,
        }

    def scene(self, scene: Scene) -> dict[str, Any]:
        rendered = render_scene(self.pack, scene, self.locale, {"USERNAME": self.username})
        return {
            "character": self.character(scene.character),
            "title": rendered.title,
            "subtitle": rendered.subtitle,
            "content": rendered.content,
        }

    def lecture(self, lecture: Lecture) -> dict[str, Any]:
        return {
            "character": self.character(lecture.character or self.pack.lecturer),
            "title": self.text(lecture.title),
            "key_takeaway": self.html(lecture.key_takeaway),
            "sandbox_code": lecture.sandbox_code,
            "sections": [
                {"heading": self.text(s.heading), "text": self.html(s.text), "code": s.code}
                for s in lecture.sections
            ],
        }

    def track(self, cycle: Cycle, name: str, content: TrackContent) -> dict[str, Any]:
        view: dict[str, Any] = {
            "task": self.scene(content.task),
            "briefing": self.scene(content.briefing),
            "starter_code": content.starter_code,
            "hint_thresholds": [h.after_failures for h in content.hints],
        }
        if cycle.test_visible:
            view["test"] = cycle.test_for(name)
        return view

    def cycle(self, cycle: Cycle, position: int) -> dict[str, Any]:
        return {
            "id": cycle.id,
            "position": position,
            "title": self.text(cycle.title),
            "filename": cycle.filename,
            "syntax": [
                {
                    "key": key,
                    "title": self.text(entry.title),
                    "description": self.html(entry.description),
                    "example": entry.example,
                }
                for key in cycle.syntax_keys
                if (entry := self.pack.syntax.get(key)) is not None
            ],
            "lecture": self.lecture(cycle.lecture),
            "tracks": {n: self.track(cycle, n, t) for n, t in cycle.tracks().items()},
        }


class CatalogService(Service):
    """What packs and weeks look like to a learner."""

    def list_packs(self, locale: str | None = None) -> list[dict[str, Any]]:
        """Every registered pack, summarised."""
        return [self.outline(pack_id, locale) for pack_id in self.ev.packs.names()]

    def outline(
        self, pack_id: str, locale: str | None = None, username: str = ""
    ) -> dict[str, Any]:
        """A pack's header and the titles of its weeks and cycles."""
        pack = self.pack(pack_id)
        tr = Localizer(pack, locale, username)
        return {
            "id": pack.id,
            "version": pack.version,
            "title": tr.text(pack.title),
            "description": tr.html(pack.description),
            "locale": tr.locale,
            "locales": pack.locales,
            "cast": [tr.character(c.id) for c in pack.cast],
            "coding_intro": tr.scene(pack.coding_intro) if pack.coding_intro else None,
            "finale": tr.scene(pack.finale) if pack.finale else None,
            "weeks": [
                {
                    "number": w.number,
                    "title": tr.text(w.title),
                    "cycles": [
                        {"id": c.id, "position": i, "title": tr.text(c.title)}
                        for i, c in enumerate(w.cycles, start=1)
                    ],
                }
                for w in pack.weeks
            ],
        }

    def week(
        self, pack_id: str, week: int, locale: str | None = None, username: str = ""
    ) -> dict[str, Any]:
        """One week with everything a learner needs to play it (nothing that gives it away)."""
        pack = self.pack(pack_id)
        found = locate_week(pack, week)
        tr = Localizer(pack, locale, username)
        return {
            "pack_id": pack.id,
            "number": found.number,
            "title": tr.text(found.title),
            "locale": tr.locale,
            "intro": tr.scene(found.intro),
            "cycles": [tr.cycle(c, i) for i, c in enumerate(found.cycles, start=1)],
        }
