"""The web app's first routes: health, readiness and the learner's view of packs."""

from __future__ import annotations

from flask.testing import FlaskClient
from web_support import auth

from eduverse_core import Eduverse
from eduverse_core.models import User


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"ok": True}
    assert client.get("/healthz").json == {"ok": True}


def test_readyz_reports_storage_and_packs(client: FlaskClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"ok": True, "packs": ["tiny"]}


def test_pack_list_and_outline_are_localised(client: FlaskClient) -> None:
    packs = client.get("/api/packs?locale=en").json["packs"]
    assert [p["id"] for p in packs] == ["tiny"]
    assert packs[0]["title"] == "Tiny pack"
    outline = client.get("/api/packs/tiny").json["pack"]
    assert outline["title"] == "작은 팩"
    assert [w["number"] for w in outline["weeks"]] == [1, 2]


def test_week_view_needs_a_login(client: FlaskClient) -> None:
    response = client.get("/api/packs/tiny/weeks/1")
    assert response.status_code == 401 and response.json["code"] == "not_authenticated"


def test_week_view_never_reveals_solutions_wrong_answers_or_tests(
    ev: Eduverse, student: User, client: FlaskClient
) -> None:
    response = client.get("/api/packs/tiny/weeks/1?locale=en", headers=auth(ev, student))
    assert response.status_code == 200
    week = response.json["week"]
    body = response.get_data(as_text=True)
    assert "answer = 1" not in body and "answer = -1" not in body
    assert "assert" not in body
    track = week["cycles"][0]["tracks"]["beginner"]
    assert set(track) == {"task", "briefing", "starter_code", "hint_thresholds", "test"}
    assert track["test"] is None
    assert track["starter_code"] == "answer = 0\n"
    assert week["intro"]["character"]["name"] == "Alex"


def test_unknown_pack_or_week_is_a_json_404(
    ev: Eduverse, student: User, client: FlaskClient
) -> None:
    for url in ("/api/packs/nope", "/api/packs/tiny/weeks/9", "/api/nothing-here"):
        response = client.get(url, headers=auth(ev, student))
        assert response.status_code == 404
        assert response.json is not None and response.json["ok"] is False
        assert response.json["code"]


def test_readyz_is_503_when_storage_is_down(ev: Eduverse, client: FlaskClient) -> None:
    from eduverse_core import StorageError

    def broken() -> None:
        raise StorageError("database is unreachable")

    ev.storage.ping = broken  # type: ignore[method-assign]
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json["code"] == "storage_error"


def test_pack_html_is_sanitised_in_the_learner_view(ev: Eduverse) -> None:
    from eduverse_core.services.catalog import Localizer

    from fakes import make_pack

    pack = make_pack()
    hostile = "<p onclick='x()'>Hi {{USERNAME}}</p><script>alert(1)</script>"
    scene = pack.weeks[0].intro.model_copy(update={"content": hostile})
    view = Localizer(pack, "en", username="<i>Ann</i>").scene(scene)
    assert "<script" not in view["content"] and "onclick" not in view["content"]
    assert "&lt;i&gt;Ann&lt;/i&gt;" in view["content"]
    assert view["content"].startswith("<p>")
