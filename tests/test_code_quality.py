"""House rules checked on the source itself."""
import re
import subprocess
import sys
from pathlib import Path

PORTAL = Path(__file__).resolve().parent.parent / "portal"


def test_bandit_finds_nothing_of_medium_severity_or_above():
    result = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", str(PORTAL), "-ll", "-q"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_templates_never_mark_data_as_safe():
    offenders = [
        str(path.relative_to(PORTAL))
        for path in PORTAL.rglob("*.html")
        if re.search(r"\|\s*safe\b|Markup\(", path.read_text(encoding="utf-8"))
    ]
    assert not offenders


def test_python_never_renders_templates_from_strings():
    offenders = [
        str(path.relative_to(PORTAL))
        for path in PORTAL.rglob("*.py")
        if re.search(r"render_template_string|Markup\(", path.read_text(encoding="utf-8"))
    ]
    assert not offenders
