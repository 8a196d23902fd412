"""The repository's layout: the parts at the top level, the arrows between them, the wheel.

The design card draws the parts as top-level packages (``lti_tool/``, ``connectors/``,
``matching/``, ...). These tests read every import of every part and check it against the
allowed arrows, and build the wheel to check that it installs exactly those packages and a
working ``tandem`` command.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Who may import whom (docs/architecture.md). A part not listed as a target is off limits.
ALLOWED: dict[str, set[str]] = {
    "lti_tool": {
        "platforms",
        "portals",
        "programmes",
        "checkins",
        "connectors",
        "members",
        "records",
        "outbound",
        "jobs",
    },
    "platforms": {"members", "records", "outbound", "jobs"},
    "portals": {"platforms", "members", "records", "outbound", "jobs"},
    "programmes": {"checkins", "matching", "members", "records", "jobs"},
    "checkins": {"members", "records", "outbound", "jobs"},
    "connectors": {"members", "records", "outbound", "jobs"},
    "members": {"records"},
    # The job queue: parts declare and defer jobs through it; it knows only records.
    "jobs": {"records"},
    "records": set(),
    "matching": set(),
    # The one URL check (docs/outbound-urls.md): a leaf, imports nothing of ours.
    "outbound": set(),
    # The message catalogues (docs/translations.md): a leaf every part may use.
    "translations": set(),
}
# Every part that writes to people may use the catalogues.
WRITERS = ("lti_tool", "platforms", "portals", "programmes", "checkins", "connectors", "members")
for _part in WRITERS:
    ALLOWED[_part].add("translations")
PARTS = set(ALLOWED)

# matching is a pure library: only these third-party packages (plus the standard library).
MATCHING_THIRD_PARTY = {"numpy", "scipy", "ortools", "threadpoolctl"}


def imports_of(part: str) -> dict[str, set[str]]:
    """Top-level module names each file of ``part`` imports (absolute imports only)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / part).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def test_the_parts_sit_at_the_top_level() -> None:
    for part in PARTS:
        assert (ROOT / part / "__init__.py").is_file(), part
    for source in ("moodle", "canvas", "generic_rest", "csvfile"):
        assert (ROOT / "connectors" / source / "__init__.py").is_file(), source
    assert not (ROOT / "tandem").exists()


@pytest.mark.parametrize("part", sorted(PARTS))
def test_imports_follow_the_arrows(part: str) -> None:
    wrong = {
        path: sorted(names & (PARTS - ALLOWED[part] - {part}))
        for path, names in imports_of(part).items()
        if names & (PARTS - ALLOWED[part] - {part})
    }
    assert wrong == {}, f"{part} may import only {sorted(ALLOWED[part])}"


def test_matching_imports_nothing_but_numerics() -> None:
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    extra = {
        path: sorted(names - stdlib - MATCHING_THIRD_PARTY - {"matching"})
        for path, names in imports_of("matching").items()
        if names - stdlib - MATCHING_THIRD_PARTY - {"matching"}
    }
    assert extra == {}


def test_the_arrow_check_sees_a_wrong_import(tmp_path: Path, monkeypatch) -> None:
    """The checker is not blind: a records module importing lti_tool is caught."""
    fake = tmp_path / "records"
    fake.mkdir()
    (fake / "bad.py").write_text("from lti_tool import create_app\nimport numpy\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert imports_of("records") == {"records/bad.py": {"lti_tool", "numpy"}}


# What a checkout holds beside the source: environments, caches, build output.
NOT_SOURCE = (".git", ".venv", "build", "*.egg-info", "__pycache__", "node_modules", "artifacts")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # setuptools builds in a build/ folder beside pyproject.toml: build from a copy, so
    # the checkout is left as it was (a stale build/ would also shadow later builds).
    source = tmp_path_factory.mktemp("source") / "tandem"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("tandem-*.whl")
    return built


def test_wheel_holds_exactly_the_parts(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if not name.startswith("tandem-")}
    assert tops == PARTS
    # Files that are not Python modules must come along too.
    assert "records/migrations/versions/0001_initial_schema.py" in names
    assert "records/migrations/script.py.mako" in names
    assert any(name.startswith("lti_tool/templates/") for name in names)
    # The message catalogues, compiled and their source (docs/translations.md).
    assert "translations/locales/fr/LC_MESSAGES/messages.mo" in names
    assert "translations/locales/fr/LC_MESSAGES/messages.po" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "tandem = lti_tool.cli:main" in text


def test_wheel_installs_a_working_tandem_command(wheel: Path, tmp_path: Path) -> None:
    """Install the wheel into a fresh virtual environment and run ``tandem --help``.

    The dependencies come from this environment's site-packages through a ``.pth`` line
    (no network); the editable install of the checkout is not visible there, because
    ``.pth`` files are read only in site directories, not in folders a ``.pth`` adds.
    """
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    fresh_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(fresh_site, "_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    subprocess.run(
        [*pip, "install", "--quiet", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    # Run from an empty folder so that the checkout's folders cannot be imported by accident.
    helped = subprocess.run(
        [str(venv / "bin" / "tandem"), "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert helped.returncode == 0, helped.stderr
    assert "platform" in helped.stdout and "demo" in helped.stdout
    where = subprocess.run(
        [str(python), "-c", "import lti_tool, records; print(lti_tool.__file__, records.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(ROOT) not in where and fresh_site in where
    # The installed catalogues work: French from the wheel's own .mo.
    french = subprocess.run(
        [str(python), "-c", "import translations; print(translations.for_locale('fr-CA')"
         ".gettext('Sign the agreement'), translations.available_languages())"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert french.strip() == "Signer l'accord ('en', 'fr')"
    for folder in ("tests", "benchmarks", "scripts"):
        assert not Path(fresh_site, folder).exists(), folder
