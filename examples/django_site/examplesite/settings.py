"""Settings of the example site: production-like (DEBUG off), no database."""
import os

BASE_DIR = os.path.dirname(os.path.abspath(__file__))

# An example key for a site that only ever runs on loopback; a real site reads it from
# its environment.
SECRET_KEY = os.environ.get("EXAMPLE_SECRET_KEY",
                            "wsgid-example-only-not-secret-4b1f0c9e8d7a6b5c4d3e2f1a0b9c8d7e")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

# The project package is its own app so that its templates/ directory is found.
INSTALLED_APPS = ["examplesite"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]

ROOT_URLCONF = "examplesite.urls"
WSGI_APPLICATION = "examplesite.wsgi.application"

TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
}]

# No database at all: the signed-cookie session backend keeps the session client side.
DATABASES = {}
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# With DEBUG off Django only mails request errors to ADMINS; send them to stderr instead,
# which the server writes to its error log (as with Gunicorn).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s [%(levelname)s] %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
    },
}
