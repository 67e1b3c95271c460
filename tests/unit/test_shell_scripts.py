"""Remote scripts are real shell files: shellcheck passes on each file and on every script as it is
rendered, and inputs are only ever quoted assignments (a hostile value stays one word)."""

from __future__ import annotations

import subprocess
from importlib import resources

import pytest

from renderers.shell import assignment, script
from tests.tools import require_tool
from tests.unit.test_generated_files import SCRIPTS as LAB_SCRIPTS
from tests.unit.test_vbmc_scripts import SCRIPTS as VBMC_SCRIPTS

FILES = sorted(p.name for p in resources.files("renderers").joinpath("files").iterdir() if p.name.endswith(".sh"))
RENDERED = {**LAB_SCRIPTS, **VBMC_SCRIPTS}


def shellcheck(*args: str, text: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_tool("shellcheck", "the Debian package shellcheck"), "-s", "sh", *args],
                          input=text, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("name", FILES)
def test_each_script_file_passes_shellcheck(name: str) -> None:
    result = shellcheck(str(resources.files("renderers").joinpath(f"files/{name}")))
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_each_rendered_script_passes_shellcheck(name: str) -> None:
    """As it runs: library, inputs and parts joined (an input a part does not read is fine: SC2034)."""
    result = shellcheck("-e", "SC2034", "-", text=RENDERED[name])
    assert result.returncode == 0, result.stdout


def test_a_hostile_value_stays_one_quoted_word() -> None:
    line = assignment("br", "br0; touch /tmp/owned\nreboot")
    result = subprocess.run(["sh", "-c", f"{line}\nprintf '%s' \"$br\""], capture_output=True, text=True, check=True)
    assert result.stdout == "br0; touch /tmp/owned\nreboot"


@pytest.mark.parametrize("word", ["a b", "*", "x'y", "$(id)", ""])
def test_list_words_that_would_split_or_glob_are_refused(word: str) -> None:
    with pytest.raises(ValueError, match="cannot be a word of a shell list"):
        assignment("entries", ["ipi1-master-0=6230", word])


def test_bad_variable_names_are_refused() -> None:
    with pytest.raises(ValueError, match="is not a shell variable name"):
        assignment("a-b", "x")


def test_parts_follow_the_library_and_the_inputs() -> None:
    text = script("vbmc-remove", cluster="ipi1")
    assert text.index("staged_path()") < text.index("cluster='ipi1'") < text.index('[ -f "$helper" ]')
    assert "#!/bin/sh" not in text
