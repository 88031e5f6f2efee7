"""The browser app's server side: the page shell, built assets (hashed, pre-compressed,
cached for a year), pack images, and the security headers on every response."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from eduverse_core import Eduverse
from webapp import create_app, pages
from webapp.security import CONTENT_SECURITY_POLICY

from fakes import InProcessGrader, TestPlugin, test_settings

EXAMPLE_PACK = Path(__file__).parents[1] / "examples" / "minimal-pack.yaml"


@pytest.fixture
def build_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small fake build: what the esbuild step leaves behind, with compressed twins."""
    out = tmp_path / "build"
    (out / "pyodide-1.0").mkdir(parents=True)
    (out / "app-AAAA.js").write_text("console.log('app');")
    (out / "app-AAAA.js.gz").write_bytes(gzip.compress(b"console.log('app');"))
    (out / "app-style-BBBB.css").write_text("body{}")
    (out / "pyodide-1.0" / "pyodide.asm.wasm").write_bytes(b"\0asm")
    (out / "sw.js").write_text("self.addEventListener('fetch',()=>{});")
    (out / "manifest.json").write_text(
        '{"app.js": "app-AAAA.js", "app.css": "app-style-BBBB.css", "pyodide": "pyodide-1.0/",'
        ' "assets": ["app-AAAA.js"], "note": "</script><script>alert(1)</script>"}'
    )
    monkeypatch.setattr(pages, "BUILD_DIR", out)
    return out


@pytest.fixture
def pack_client(tmp_path: Path) -> Iterator[FlaskClient]:
    folder = tmp_path / "pack"
    (folder / "assets").mkdir(parents=True)
    shutil.copy(EXAMPLE_PACK, folder / "minimal.yaml")  # a one-file pack beside its assets
    (folder / "assets" / "alex.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (folder / "secret.txt").write_text("not an image")
    (tmp_path / "outside.svg").write_text("<svg/>")
    settings = test_settings(default_pack="minimal")
    with Eduverse(settings, plugins=[TestPlugin(InProcessGrader())]) as ev:
        ev.register_pack(folder / "minimal.yaml")
        yield create_app(eduverse=ev).test_client()


def test_shell_names_the_hashed_assets_and_escapes_the_manifest(
    client: FlaskClient, build_dir: Path
) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<script type="module" src="/static/build/app-AAAA.js">' in html
    assert '<link rel="stylesheet" href="/static/build/app-style-BBBB.css">' in html
    assert "</script><script>alert(1)" not in html  # "<" is escaped inside the JSON
    assert "\\u003c/script>" in html
    assert response.headers["Cache-Control"] == "no-cache"


def test_shell_without_a_build_says_how_to_build(
    client: FlaskClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "BUILD_DIR", tmp_path / "nothing")
    response = client.get("/")
    assert response.status_code == 503
    assert "make assets" in response.get_data(as_text=True)


def test_hashed_asset_is_immutable_and_sent_compressed_when_accepted(
    client: FlaskClient, build_dir: Path
) -> None:
    plain = client.get("/static/build/app-AAAA.js")
    assert plain.status_code == 200
    assert plain.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert plain.mimetype == "text/javascript"
    assert "Content-Encoding" not in plain.headers
    zipped = client.get("/static/build/app-AAAA.js", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"  # no .br twin for this one
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(zipped.data) == b"console.log('app');"
    refused = client.get("/static/build/app-AAAA.js", headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers


def test_wasm_has_its_type_and_unhashed_files_revalidate(
    client: FlaskClient, build_dir: Path
) -> None:
    wasm = client.get("/static/build/pyodide-1.0/pyodide.asm.wasm")
    assert wasm.status_code == 200 and wasm.mimetype == "application/wasm"
    assert client.get("/static/build/manifest.json").headers["Cache-Control"] == "no-cache"
    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["Service-Worker-Allowed"] == "/"
    assert worker.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "/static/build/missing.js",
        "/static/build/app-AAAA.js.gz",  # twins are an encoding, not a resource
        "/static/build/../pages.py",
        "/static/build/%2e%2e/pages.py",
        "/static/build/pyodide-1.0",
    ],
)
def test_unknown_or_escaping_asset_paths_are_404(
    client: FlaskClient, build_dir: Path, path: str
) -> None:
    assert client.get(path).status_code == 404


def test_pack_portrait_is_served_but_nothing_else(pack_client: FlaskClient) -> None:
    svg = pack_client.get("/packs/minimal/assets/assets/alex.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    for path in (
        "/packs/minimal/assets/secret.txt",
        "/packs/minimal/assets/../outside.svg",
        "/packs/minimal/assets/assets/none.svg",
        "/packs/nope/assets/assets/alex.svg",
    ):
        assert pack_client.get(path).status_code == 404, path


def test_every_response_carries_the_security_headers(client: FlaskClient) -> None:
    for response in (client.get("/healthz"), client.get("/api/me"), client.get("/nowhere")):
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_csp_allows_only_own_scripts_and_no_framing() -> None:
    directives = dict(
        ([*part.split(" ", 1), ""])[:2] for part in CONTENT_SECURITY_POLICY.split("; ")
    )
    assert directives["script-src"] == "'self' 'wasm-unsafe-eval'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "'unsafe-eval'" not in CONTENT_SECURITY_POLICY
