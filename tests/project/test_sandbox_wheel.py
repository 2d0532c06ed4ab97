"""The page's assets and the stand-ins' specs ship inside the package: a wheel built from
the source and installed non-editable has them, and the sandbox finds them there."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from tests.helpers.paths import REPO_ROOT

STATIC = ("index.html", "app.js", "blockkit.js", "mrkdwn.js", "sandbox.css", "favicon.ico")


def test_the_wheel_carries_the_page_and_the_specs_and_they_are_found_installed(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(wheels),
            str(REPO_ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = wheels.glob("copbot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in STATIC:
        assert f"sandbox/static/{name}" in names
    assert "sandbox/specs/slack_web_openapi_v2.json" in names
    assert "sandbox/specs/zoom_meetings_openapi.json" in names
    assert sum(n.startswith("sandbox/static/") for n in names) == len(STATIC)

    target = tmp_path / "installed"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    probe = (
        "import sandbox.page_api as p, sandbox.slack_standin as s;"
        "print(p.STATIC); print(s.SPEC_PATH);"
        f"print(all((p.STATIC / n).is_file() for n in {STATIC!r}) and s.SPEC_PATH.is_file())"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert shown[0].startswith(str(target)) and shown[1].startswith(str(target))
    assert shown[2] == "True"
