"""Django settings for Handvest, read from the environment through ``config.env.env``.

Defaults are the embedded ones of ``make run``: SQLite, Celery eager, console mail.
Production and CI set ``DATABASE_URL`` and ``CELERY_BROKER_URL``.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config import log_masking
from config.env import cache_settings, env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env("HANDVEST_VAR_DIR", str(BASE_DIR / "var"), "Folder for the SQLite file, uploads and the tagger's model cache."))
# On a fresh clone the folder does not exist yet; SQLite and the model cache need it.
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEV_SECRET_KEY = "dev-only-insecure-key-change-me-in-production-0123456789"
SECRET_KEY = env(
    "DJANGO_SECRET_KEY",
    DEV_SECRET_KEY,
    "Django's secret key. Set a long random value in production.",
)
DEBUG = env("DJANGO_DEBUG", True, "Debug mode; serves static files in `make run`. Set to false in production.")
if not DEBUG and (SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is the development key (or shorter than 50 characters) while DJANGO_DEBUG is off. "
        'Set a long random value, e.g. python -c "import secrets; print(secrets.token_urlsafe(64))".'
    )
ALLOWED_HOSTS = env("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"], "Comma-separated host names the site answers to.")
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"
CSRF_TRUSTED_ORIGINS = env("DJANGO_CSRF_TRUSTED_ORIGINS", [], "Comma-separated origins (https://…) trusted for CSRF behind a proxy.")
BASE_URL = env("HANDVEST_BASE_URL", "http://127.0.0.1:8000", "Public base URL, used in links sent to citizens (private case links).")

INSTALLED_APPS = [
    "cms",
    "cases",
    "nlp",
    "accounts",
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
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "axes",
    "auditlog",
    "mozilla_django_oidc",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from the web process (gunicorn in production); compressed and cached for a year.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.tracing.TraceMiddleware",
    # A request's tasks go after its response is sent: onto the broker, or (Celery eager, `make run`) run.
    "cases.dispatch.AfterResponseMiddleware",
    "config.csp.HandvestCSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecondFactorRequiredMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into our Dutch lockout page.
    "axes.middleware.AxesMiddleware",
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
                "accounts.context_processors.login_options",
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
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise looks here at start-up; empty until collectstatic (`make serve`) fills it
# Without DEBUG the file names carry their hash (collectstatic, as `make serve` runs it), so browsers may cache them forever.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
# Uploads stay out of the public media URL unless an officer view serves them with a permission check.
PRIVATE_MEDIA_ROOT = VAR_DIR / "private"

WAGTAIL_SITE_NAME = env("HANDVEST_SITE_NAME", "Handvest", "Name shown in the Wagtail admin.")
WAGTAILADMIN_BASE_URL = BASE_URL
# No staff e-mail hashes to gravatar.com: avatars are Wagtail's own (and the CSP allows no other origin).
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ENABLE_UPDATE_CHECK = False  # no call to releases.wagtail.org from officers' browsers; upgrades go through requirements.lock
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
# A measurement file uploaded in the admin is imported within the request: about 1.3 million lines (50 MB) take
# some 40 s on a small server (README, bench_measurements), inside gunicorn's 60 s. Larger files: the command.
HANDVEST_MEASUREMENT_UPLOAD_MB = env(
    "HANDVEST_MEASUREMENT_UPLOAD_MB",
    25,
    "Largest measurement file (MB) the admin's upload takes; a larger one is refused with the way to import it (`manage.py import_measurements`).",
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
    "cases.register_web": {"queue": "mail"},
    "cases.acknowledge": {"queue": "mail"},
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
HANDVEST_TAGGER_TRAIN_ON_DEMAND = env(
    "HANDVEST_TAGGER_TRAIN_ON_DEMAND",
    True,
    "A tag task trains the tagger first when there is none. `make run` turns this off and trains in the background; "
    "cases that arrive meanwhile are tagged when it is ready.",
)
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
    "With a worker, changed cases are counted into the editors' figures by one task per this many seconds, however many change.",
)

# --- records: mail that never became part of a case (cases.records.loose_mail) -------
HANDVEST_NOISE_MAIL_DAYS = env(
    "HANDVEST_NOISE_MAIL_DAYS",
    30,
    "Days an e-mail without a case or registration (automatic reply, bounce, advertising, duplicate, parked and then handled) is kept before it is wiped.",
)
HANDVEST_OTHER_MAIL_DAYS = env(
    "HANDVEST_OTHER_MAIL_DAYS",
    365,
    "Days after receipt an item without a case (overig), once triaged (forwarded or done), is kept before its personal data are wiped.",
)

# --- the conversation with the citizen (cases.conversation) ------------------------
HANDVEST_SATISFACTION_DELAY_WORKING_DAYS = env(
    "HANDVEST_SATISFACTION_DELAY_WORKING_DAYS",
    5,
    "Working days after a case closes before the citizen is asked, once, how satisfied they were (beat's satisfaction-survey). 0: never asked.",
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

# --- staff login, hardening and the audit trail (accounts/, config/csp.py, cases.records) ----
_PRODUCTION = not DEBUG
SECURE_SSL_REDIRECT = env("DJANGO_SECURE_SSL_REDIRECT", _PRODUCTION, "Redirect http to https; on by default when DJANGO_DEBUG is off.")
SECURE_HSTS_SECONDS = env(
    "DJANGO_SECURE_HSTS_SECONDS", 31536000 if _PRODUCTION else 0, "Strict-Transport-Security max-age; one year by default when DJANGO_DEBUG is off."
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", _PRODUCTION, "HSTS for subdomains too; on when DJANGO_DEBUG is off.")
SECURE_HSTS_PRELOAD = env("DJANGO_SECURE_HSTS_PRELOAD", _PRODUCTION, "Mark HSTS as preloadable; on when DJANGO_DEBUG is off.")
SESSION_COOKIE_SECURE = env("DJANGO_SESSION_COOKIE_SECURE", _PRODUCTION, "Session cookie only over https; on when DJANGO_DEBUG is off.")
CSRF_COOKIE_SECURE = env("DJANGO_CSRF_COOKIE_SECURE", _PRODUCTION, "CSRF cookie only over https; on when DJANGO_DEBUG is off.")
if env("DJANGO_BEHIND_TLS_PROXY", False, "The reverse proxy terminates TLS and sets X-Forwarded-Proto: trust it for request.is_secure()."):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env("HANDVEST_SESSION_HOURS", 10, "Hours a staff session lasts (one working day by default).") * 3600

# Content-Security-Policy (django-csp) on every page; the Wagtail admin needs inline script and style (config/csp.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
}

AUTHENTICATION_BACKENDS = [
    # First, as django-axes asks: it refuses a locked-out username/IP before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env("HANDVEST_LOGIN_FAILURE_LIMIT", 5, "Failed staff logins from one IP address for one username before both are locked out for a while.")
AXES_COOLOFF_TIME = env("HANDVEST_LOGIN_COOLOFF_MINUTES", 15, "Minutes a locked-out login waits before it may try again.") / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "cases.intake.rate_limit.client_ip_or_none"
AXES_VERBOSE = False

# Two factors for every staff account: TOTP (django-otp), passkeys (django-otp-webauthn), recovery codes.
HANDVEST_TWO_FACTOR_REQUIRED = env(
    "HANDVEST_TWO_FACTOR_REQUIRED", True, "Staff need a second factor (app code or passkey). False only for local demo users, and only with DJANGO_DEBUG on."
)
if not HANDVEST_TWO_FACTOR_REQUIRED and not DEBUG:
    raise ImproperlyConfigured("HANDVEST_TWO_FACTOR_REQUIRED=false is for local demo users only and is refused while DJANGO_DEBUG is off.")
OTP_TOTP_ISSUER = WAGTAIL_SITE_NAME
OTP_WEBAUTHN_RP_ID = env("HANDVEST_PASSKEY_DOMAIN", "localhost", "Domain passkeys are bound to (the admin's host name, e.g. `handvest.harlingen.nl`).")
OTP_WEBAUTHN_RP_NAME = OTP_TOTP_ISSUER
OTP_WEBAUTHN_ALLOWED_ORIGINS = env(
    "HANDVEST_PASSKEY_ORIGINS", ["http://localhost:8000"], "Comma-separated origins (https://…) that may use the passkeys of HANDVEST_PASSKEY_DOMAIN."
)
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False  # a passkey is the second factor, after the password

# Optional single sign-on with the municipality's own OpenID Connect provider (mozilla-django-oidc).
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID", "", "OpenID Connect client id; set it (with the other OIDC_ variables) to offer single sign-on on the login page.")
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET", "", "OpenID Connect client secret.")
OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT", "", "The provider's authorization endpoint.")
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT", "", "The provider's token endpoint.")
OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT", "", "The provider's userinfo endpoint.")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", "", "The provider's JWKS endpoint (keys for RS256 tokens).")
OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", "RS256", "Algorithm the provider signs ID tokens with.")
OIDC_CREATE_USER = False  # the municipality creates staff accounts and gives them a role; SSO only signs them in
HANDVEST_OIDC_LABEL = env("HANDVEST_OIDC_LABEL", "Inloggen met uw gemeenteaccount", "Text of the single sign-on button on the login page.")
HANDVEST_OIDC_TRUSTS_PROVIDER_MFA = env(
    "HANDVEST_OIDC_TRUSTS_PROVIDER_MFA",
    True,
    "A single sign-on counts as two-factor (the provider enforces it); false: staff also give Handvest's own second factor.",
)
if OIDC_RP_CLIENT_ID:
    AUTHENTICATION_BACKENDS.append("accounts.oidc.StaffOIDCBackend")
LOGIN_URL = "wagtailadmin_login"
LOGIN_REDIRECT_URL = "wagtailadmin_home"
LOGOUT_REDIRECT_URL = "wagtailadmin_login"

# Audit trail (BIO 8.15): django-auditlog records every change; cases.records.audit registers the models
# and hides the values of personal fields, cases.records.read_log adds every read of a case by staff.
AUDITLOG_CID_GETTER = "config.tracing.current_trace_id"
AUDITLOG_MASK_CALLABLE = "cases.records.audit.hide_value"
AUDITLOG_DISABLE_REMOTE_ADDR = False

log_masking.install()  # no log line carries a private link (config/log_masking.py)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"refused_webhook": {"()": "config.log_filters.RefusedWebhook"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("HANDVEST_LOG_LEVEL", "INFO", "Log level of the root logger.")},
    "loggers": {
        **{name: {"level": "WARNING"} for name in ("django.db.backends", "django_tasks", "wagtail", "modelsearch", "weasyprint", "fontTools", "axes")},
        "django.security.AnymailWebhookValidationFailure": {"filters": ["refused_webhook"]},
    },
}
