"""The web process stays lean (issue 20: web ≤ 200 MiB RSS): serving the site and the admin never
loads the tagger, spaCy or scikit-learn. Those belong to the worker, which tags and trains.

Each check runs in a fresh interpreter, because the test process itself has loaded the tagger.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# What a web process does on start and on its first requests: the WSGI entry point (django.setup),
# the Celery app with its tasks (a view queues work by name), every view of every URL pattern, the
# public pages, the web form, the webhooks and the Wagtail admin with our hooks. Then it lists
# the heavy modules loaded.
WEB_PROCESS = """
import json, sys
import config.wsgi
from config.celery import app
app.loader.import_default_modules()
from django.urls import get_resolver, resolve
from wagtail import hooks

def walk(patterns):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            walk(pattern.url_patterns)
        else:
            pattern.callback

walk(get_resolver().url_patterns)
for path in ("/", "/zaak/abc/", "/melding/", "/anymail/mailgun/inbound/", "/beheer/", "/beheer/login/", "/beheer/pages/"):
    resolve(path)
for name in ("register_admin_urls", "register_admin_menu_item", "construct_main_menu", "register_admin_viewset"):
    for hook in hooks.get_hooks(name):
        hook if name != "register_admin_urls" else hook()
import cases.wagtail_hooks, cases.workspace, cases.tagging, cases.intake.classify
{extra}
heavy = sorted(name for name in sys.modules if name.split(".")[0] in ("spacy", "sklearn", "thinc") or name.startswith("nlp.core"))
print(json.dumps(heavy))
"""


def heavy_modules_after(extra: str = "") -> list[str]:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    code = WEB_PROCESS.replace("{extra}", extra)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_web_process_never_imports_spacy_sklearn_or_the_tagger():
    assert heavy_modules_after() == []


def test_the_check_sees_a_module_that_loads_spacy():
    """The measuring itself works: the tagger, imported as the worker does, shows up (and still no scikit-learn)."""
    found = heavy_modules_after("from nlp.core.tagger import Tagger")
    assert "spacy" in found and "nlp.core.tagger" in found
    assert "sklearn" not in found
