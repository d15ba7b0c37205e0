"""The Vietnamese translation is complete: no string of the UI falls back to English."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

PO = Path(settings.BASE_DIR) / "locale" / "vi" / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("option", ["--untranslated", "--only-fuzzy"])
def test_every_string_is_translated(option):
    msgattrib = shutil.which("msgattrib")
    assert msgattrib, "gettext is installed by scripts/setup"
    out = subprocess.run([msgattrib, option, "--no-wrap", str(PO)], capture_output=True, text=True, check=True)
    entries = [line for line in out.stdout.splitlines() if line.startswith("msgid ") and line != 'msgid ""']
    assert entries == []


def test_the_catalogue_compiles_cleanly():
    out = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(PO)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
