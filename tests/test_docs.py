"""The README is a short front door and the detail lives in docs/: the README stays under 150 lines
with the three commands near the top, every page has a title and an intro, and every relative link
in them (files and #anchors) resolves as GitHub renders it. The study's tables are checked against
their records in test_sweep.py."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

PROJECT = Path(__file__).resolve().parent.parent
README = PROJECT / "README.md"
DOCS = sorted((PROJECT / "docs").glob("*.md"))
PAGES = [README, *DOCS]

#: The commands a reader needs first: setup, the main job, the tests.
FRONT_DOOR_COMMANDS = ("bash scripts/setup.sh", "fer report", "python3 -m pytest")


def _ids(pages) -> list[str]:
    return [str(page.relative_to(PROJECT)) for page in pages]


def _prose(text: str) -> str:
    """The text without fenced code blocks and inline code, where a bracket is not a link."""
    text = re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.S | re.M)
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", text, flags=re.S)


def _links(text: str) -> list[str]:
    prose = _prose(text)
    inline = re.findall(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", prose)
    reference = re.findall(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", prose, flags=re.M)
    return inline + reference


def _anchors(page: Path) -> set[str]:
    """The ids GitHub gives a Markdown page's headings (and any explicit ``id``/``name``)."""
    text = page.read_text()
    text_without_code = re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.S | re.M)
    seen: dict[str, int] = {}
    ids = set(re.findall(r"""<a\s+(?:id|name)=["']([^"']+)["']""", text))
    for heading in re.findall(r"^#{1,6}\s+(.*?)\s*#*\s*$", text_without_code, flags=re.M):
        heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        ids.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return ids


def test_the_docs_folder_has_pages():
    assert DOCS, "docs/ holds no Markdown pages"


def test_the_readme_is_a_short_front_door():
    lines = README.read_text().splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines; move detail into a docs/ page (at most 150)"
    top = "\n".join(lines[:40])
    for command in FRONT_DOOR_COMMANDS:
        assert re.search(rf"^\s*{re.escape(command)}(\s|$)", top, flags=re.M), \
            f"README.md's first 40 lines lack the command `{command}`"


@pytest.mark.parametrize("page", DOCS, ids=_ids(DOCS))
def test_each_docs_page_has_a_title_and_an_intro(page):
    blocks = [b.strip() for b in page.read_text().split("\n\n") if b.strip()]
    assert blocks and re.fullmatch(r"# \S.*", blocks[0]), f"{page.name} must start with a `# Title` line"
    assert len(blocks) > 1 and not blocks[1].startswith(("#", "```", "|", "<")), \
        f"{page.name} needs a short intro paragraph under its title"


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_every_relative_link_points_at_something_that_exists(page):
    broken = []
    for target in _links(page.read_text()):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, flags=re.I) or target.startswith("//"):
            continue  # http(s), mailto: not checked here
        path, _, anchor = target.partition("#")
        resolved = (page.parent / unquote(path)).resolve() if path else page
        if path.startswith("/") or not resolved.exists():
            broken.append(f"{target} (no such file: {path})")
            continue
        try:
            resolved.relative_to(PROJECT)
        except ValueError:
            broken.append(f"{target} (outside the repository)")
            continue
        if anchor and resolved.suffix == ".md" and unquote(anchor) not in _anchors(resolved):
            broken.append(f"{target} (no heading #{anchor} in {resolved.relative_to(PROJECT)})")
    assert not broken, f"{page.relative_to(PROJECT)}: broken relative links: {broken}"


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_pages_speak_of_the_project_not_of_its_work_items(page):
    hits = [line.strip() for line in page.read_text().splitlines() if re.search(r"\bissues?\b", line, re.I)]
    assert not hits, f"{page.relative_to(PROJECT)} mentions issues: {hits}"


def test_the_link_checker_finds_links_and_anchors(tmp_path):
    """The checker itself: links in prose are found, links in code are not, anchors are GitHub's."""
    page = tmp_path / "page.md"
    page.write_text("# A title: `fer export` and `--engine`\n\nSee [x](other.md#part-two) and "
                    "![img](fig.png), not `[y](code.md)`.\n\n```bash\n[z](block.md)\n```\n\n"
                    "## Part two\n\n## Part two\n\n[ref]: ../README.md\n")
    assert _links(page.read_text()) == ["other.md#part-two", "fig.png", "../README.md"]
    assert _anchors(page) == {"a-title-fer-export-and---engine", "part-two", "part-two-1"}


def test_readme_headline_figures_are_the_shipped_models_records():
    """The README's headline accuracy, its interval and contempt's recall come from
    models/default/evaluation_test.json: a re-evaluated model with a stale README fails here."""
    import json

    from fer_helpers.metrics import proportion_interval

    result = json.loads((PROJECT / "models" / "default" / "evaluation_test.json").read_text())
    text = " ".join((PROJECT / "README.md").read_text().split())
    k, n = round(result["accuracy"] * result["n"]), result["n"]
    lo, hi = proportion_interval(k, n)
    assert (f"{100 * result['accuracy']:.2f}% ({k:,} of {n:,}; 95% Wilson interval "
            f"{100 * lo:.1f}-{100 * hi:.1f}%)") in text
    contempt = result["per_class"]["contempt"]
    hits, faces = round(contempt["recall"] * contempt["support"]), int(contempt["support"])
    c_lo, c_hi = proportion_interval(hits, faces)
    assert f"contempt {contempt['recall']:.2f} ({hits} of {faces} faces: its 95% interval runs from {c_lo:.2f} to {c_hi:.2f})" in text
    assert f"| **{result['macro_f1']:.3f}** |" in text  # the headline table's macro F1
