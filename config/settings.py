"""Django settings for Handvest, read from the environment through ``config.env.env``.

Defaults are the embedded ones of ``make run``: SQLite, Celery eager, console mail.
Production and CI set ``DATABASE_URL`` and ``CELERY_BROKER_URL``.
"""

from pathlib import Path

import dj_database_url

from config.env import cache_settings, env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env("HANDVEST_VAR_DIR", str(BASE_DIR / "var"), "Folder for the SQLite file, uploads and the tagger's model cache."))
# On a fresh clone the folder does not exist yet; SQLite and the model cache need it.
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env(
    "DJANGO_SECRET_KEY",
    "dev-only-insecure-key-change-me-in-production-0123456789",
    "Django's secret key. Set a long random value in production.",
)
DEBUG = env("DJANGO_DEBUG", True, "Debug mode; serves static files in `make run`. Set to false in production.")
ALLOWED_HOSTS = env("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"], "Comma-separated host names the site answers to.")
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"
CSRF_TRUSTED_ORIGINS = env("DJANGO_CSRF_TRUSTED_ORIGINS", [], "Comma-separated origins (https://…) trusted for CSRF behind a proxy.")
BASE_URL = env("HANDVEST_BASE_URL", "http://127.0.0.1:8000", "Public base URL, used in links sent to citizens (private case links).")

INSTALLED_APPS = [
    "cms",
    "cases",
    "nlp",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "anymail",
    "django_fsm",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # A municipality overrides any template (letters included) by putting a file with
        # the same path in HANDVEST_TEMPLATE_DIR; it is searched before ours.
        "DIRS": [
            *env(
                "HANDVEST_TEMPLATE_DIRS",
                [],
                "Comma-separated folders searched before the shipped templates (override letters and pages without touching code).",
            ),
            BASE_DIR / "templates",
        ],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

CACHES = cache_settings(
    env("CACHE_URL", "", "Shared cache for the web form's rate limit (Redis: `redis://127.0.0.1:6379/1`). Empty: each process's own memory.")
)
DATABASES = {
    "default": dj_database_url.parse(
        env(
            "DATABASE_URL",
            f"sqlite:///{VAR_DIR / 'handvest.sqlite3'}",
            "Database URL; PostgreSQL in production and CI (`postgres://user@host:5432/name`).",
        ),
        conn_max_age=60,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "nl"
# Citizens and officers are served in Dutch, whatever their browser asks for (dates, month names, forms).
LANGUAGES = [("nl", "Nederlands")]
WAGTAIL_I18N_ENABLED = False
WAGTAILADMIN_PERMITTED_LANGUAGES = [("nl", "Nederlands")]
TIME_ZONE = env("HANDVEST_TIME_ZONE", "Europe/Amsterdam", "Time zone of the municipality; dates of receipt are taken in it.")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
# Uploads stay out of the public media URL unless an officer view serves them with a permission check.
PRIVATE_MEDIA_ROOT = VAR_DIR / "private"

WAGTAIL_SITE_NAME = env("HANDVEST_SITE_NAME", "Handvest", "Name shown in the Wagtail admin.")
WAGTAILADMIN_BASE_URL = BASE_URL
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}

# --- mail -------------------------------------------------------------------------------
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend",
    "Outgoing mail backend; an anymail ESP backend in production, e.g. `anymail.backends.mailgun.EmailBackend`.",
)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "info@harlingen.nl", "Sender of letters to citizens.")
HANDVEST_MAIL_DOMAIN = env("HANDVEST_MAIL_DOMAIN", "handvest.harlingen.nl", "Domain of our own Message-IDs; mail carrying it is ours (loop detection).")
ANYMAIL = {
    "MAILGUN_API_KEY": env("MAILGUN_API_KEY", "", "Mailgun API key (outgoing mail through Mailgun)."),
    "MAILGUN_WEBHOOK_SIGNING_KEY": env("MAILGUN_WEBHOOK_SIGNING_KEY", "", "Mailgun webhook signing key; inbound posts without a valid signature are rejected."),
    "POSTMARK_SERVER_TOKEN": env("POSTMARK_SERVER_TOKEN", "", "Postmark server token (outgoing mail through Postmark)."),
    "SENDGRID_API_KEY": env("SENDGRID_API_KEY", "", "SendGrid API key (outgoing mail through SendGrid)."),
    "WEBHOOK_SECRET": env("ANYMAIL_WEBHOOK_SECRET", "", "`user:password` basic-auth secret that Postmark, SendGrid and SES inbound webhooks must send."),
    "AMAZON_SES_INBOUND_S3_BUCKET": None,
}
# --- incoming mail (cases.intake.email) ------------------------------------------------
_MB = 1024 * 1024
HANDVEST_MAIL_MAX_MESSAGE_BYTES = (
    env("HANDVEST_MAIL_MAX_MESSAGE_MB", 50, "Largest incoming e-mail (MB) that is processed; a larger one is stored raw and listed for an officer.") * _MB
)
HANDVEST_MAIL_MAX_ATTACHMENT_BYTES = (
    env("HANDVEST_MAIL_MAX_ATTACHMENT_MB", 10, "Largest e-mail attachment (MB) kept; larger ones are dropped with a note, the mail is still registered.") * _MB
)
HANDVEST_MAIL_MAX_ATTACHMENTS_BYTES = (
    env("HANDVEST_MAIL_MAX_ATTACHMENTS_MB", 25, "Total size (MB) of the attachments kept of one e-mail; the ones beyond it are dropped with a note.") * _MB
)
HANDVEST_WEBHOOK_MAX_AGE_SECONDS = env(
    "HANDVEST_WEBHOOK_MAX_AGE_SECONDS", 900, "A signed inbound webhook post (Mailgun) older than this is refused as a replay; each token is accepted once."
)
HANDVEST_MAIL_MAX_ATTACHMENT_COUNT = env(
    "HANDVEST_MAIL_MAX_ATTACHMENT_COUNT", 50, "Most attachments kept of one e-mail; the ones beyond are dropped with a note, the mail is still registered."
)
HANDVEST_MAIL_MAX_DEPTH = env(
    "HANDVEST_MAIL_MAX_DEPTH", 20, "Deepest nesting of MIME parts processed; a deeper message is stored raw and put in quarantine for a person."
)
HANDVEST_MAIL_MAX_PARTS = env("HANDVEST_MAIL_MAX_PARTS", 500, "Most MIME parts processed in one e-mail; one with more is stored raw and put in quarantine.")
HANDVEST_MAIL_MAX_HEADER_KB = env(
    "HANDVEST_MAIL_MAX_HEADER_KB", 256, "Largest header block (KB) processed; a message with a larger one is stored raw and put in quarantine."
)
# Inbound webhooks post the whole message as form data or JSON; Django's 2.5 MB default would refuse big mail.
DATA_UPLOAD_MAX_MEMORY_SIZE = (
    env("HANDVEST_MAX_POST_MB", 60, "Largest request body (MB) Django accepts outside file uploads; inbound mail webhooks post whole messages.") * _MB
)

# --- Celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "", "Celery broker (Redis: `redis://127.0.0.1:6379/0`). Empty: tasks run eagerly in the web process.")
CELERY_TASK_ALWAYS_EAGER = env(
    "CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL, "Run tasks in-process instead of on a worker; defaults to true when no broker is set."
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True  # a crashed worker's task is redelivered; tasks are idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Citizen mail on its own queue ("mail"), housekeeping on the default one ("celery"): cases.dispatch.ROUTES.
CELERY_TASK_ROUTES = {
    "cases.send_letter": {"queue": "mail"},
    "cases.outbox_relay": {"queue": "mail"},
    "cases.deadline_digest": {"queue": "mail"},
}
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A task whose worker died unacknowledged is delivered again after this many seconds (Redis).
    "visibility_timeout": env(
        "HANDVEST_BROKER_VISIBILITY_TIMEOUT",
        3600,
        "Seconds after which a task taken by a worker that died is delivered again (Redis broker); longer than the longest task.",
    ),
}
CELERY_TIMEZONE = TIME_ZONE

# --- Handvest ---------------------------------------------------------------------------
HANDVEST_CLOSING_DAYS = env(
    "HANDVEST_CLOSING_DAYS", [], "Comma-separated ISO dates the municipality is closed (e.g. the Friday after Ascension); they are no working days."
)
HANDVEST_MODEL_DIR = Path(env("HANDVEST_MODEL_DIR", str(VAR_DIR / "models"), "Where trained tagger models are cached."))
HANDVEST_CORPUS_DIR = Path(
    env("HANDVEST_CORPUS_DIR", str(BASE_DIR / "nlp" / "corpus"), "Training corpus of the tagger (`train-*.jsonl`) and its held-out split (`heldout.jsonl`).")
)
HANDVEST_TAG_ON_REGISTRATION = env("HANDVEST_TAG_ON_REGISTRATION", True, "Tag every new case with the tagger (a Celery task after registration).")
HANDVEST_SMALL_CELL = env("HANDVEST_SMALL_CELL", 3, "Aggregates below this count are shown as '<N' so nobody can be recognised.")

# --- correspondence (cases.correspondence) ----------------------------------------
HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES = env(
    "HANDVEST_ACKNOWLEDGEMENT_HOLD_MINUTES",
    60,
    "Minutes the automatic acknowledgement waits before it goes, so a question answered at once gets none (charter); "
    "beat's outbox relay releases it. 0: sent at once (as `make run` does).",
)
HANDVEST_SEND_CLAIM_TIMEOUT_MINUTES = env(
    "HANDVEST_SEND_CLAIM_TIMEOUT_MINUTES",
    10,
    "A letter still 'sending' after this many minutes lost its worker mid-send: it is shown as 'verzonden? onbekend', never sent again blindly.",
)
HANDVEST_AUTO_REPLY_LIMIT_PER_HOUR = env(
    "HANDVEST_AUTO_REPLY_LIMIT_PER_HOUR", 3, "At most this many automatic letters per hour to one e-mail address; more are not sent (mail-loop guard)."
)

HANDVEST_AGGREGATES_REFRESH_SECONDS = env(
    "HANDVEST_AGGREGATES_REFRESH_SECONDS",
    60,
    "With a worker, the editors' figures of a month are refreshed at most once per this many seconds, however many cases change in it.",
)

# --- web form ---------------------------------------------------------------------------
HANDVEST_FORM_RATE_LIMIT = env(
    "HANDVEST_FORM_RATE_LIMIT",
    30,
    "Web form submissions accepted per IP address per window (generous: a library or town-hall PC is shared); more get a Dutch page with the phone number.",
)
HANDVEST_FORM_RATE_LIMIT_EMAIL = env(
    "HANDVEST_FORM_RATE_LIMIT_EMAIL", 5, "Web form submissions accepted per e-mail address per window; 0 turns this limit off."
)
HANDVEST_FORM_RATE_WINDOW = env("HANDVEST_FORM_RATE_WINDOW", 3600, "Length in seconds of the web form's rate-limit window.")
HANDVEST_CLIENT_IP_HEADER = env(
    "HANDVEST_CLIENT_IP_HEADER",
    "",
    "Header your reverse proxy sets to the client's IP (e.g. `X-Real-IP`; of a list the last entry is used); empty: the connection's address. "
    "Used by the web form's rate limit.",
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("HANDVEST_LOG_LEVEL", "INFO", "Log level of the root logger.")},
    "loggers": {name: {"level": "WARNING"} for name in ("django.db.backends", "django_tasks", "wagtail", "modelsearch", "weasyprint", "fontTools")},
}
