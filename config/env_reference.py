"""Print the configuration table (every environment variable, its default and meaning) as Markdown;
``--update-readme`` writes it into README.md.

    python -m config.env_reference [--update-readme]

A plain module of ``config``, not a management command of an app: the table is the composition
root's own (``config.env`` and the settings that register every variable), and no app imports ``config``.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

START, END = "<!-- env-reference:start -->", "<!-- env-reference:end -->"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings  # why here: reading the settings registers every variable in config.env

    from config.env import reference_markdown

    settings.INSTALLED_APPS  # noqa: B018 — the settings module runs, and with it every env() call
    # Defaults that contain this checkout's path are shown relative to it.
    table = reference_markdown().replace(str(settings.BASE_DIR) + "/", "./")
    if not args.update_readme:
        print(table)
        return 0
    readme = Path(settings.BASE_DIR) / "README.md"
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), flags=re.S)
    readme.write_text(pattern.sub(lambda _: f"{START}\n{table}\n{END}", text), encoding="utf-8")
    print("README.md configuration table updated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
