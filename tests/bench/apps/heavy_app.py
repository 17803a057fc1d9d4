"""A heavy WSGI app for the preload benchmark (tests/bench/preload.py): Django with
django.contrib.admin, auth, sessions and messages, plus what large projects import from
Debian's packages (numpy, pandas, SQLAlchemy with a few mapped models) and the in-memory
tables such apps keep (a pandas frame and a lookup dict), so that one worker holds well over
100 MB after import. /pid answers the serving process's pid; everything else goes to Django
(the admin at /admin/)."""
import os

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-only-not-secret",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.admin", "django.contrib.auth",
                    "django.contrib.contenttypes", "django.contrib.sessions",
                    "django.contrib.messages", "django.contrib.staticfiles"],
    MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware",
                "django.middleware.common.CommonMiddleware",
                "django.middleware.csrf.CsrfViewMiddleware",
                "django.contrib.auth.middleware.AuthenticationMiddleware",
                "django.contrib.messages.middleware.MessageMiddleware"],
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {"context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages"]}}],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    STATIC_URL="/static/",
    USE_TZ=True,
)
django.setup()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from django.contrib import admin  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.urls import path  # noqa: E402
from sqlalchemy.orm import declarative_base  # noqa: E402

Base = declarative_base()


class Customer(Base):
    __tablename__ = "customer"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(80))


class Order(Base):
    __tablename__ = "orders"
    id = sa.Column(sa.Integer, primary_key=True)
    customer_id = sa.Column(sa.ForeignKey("customer.id"))
    total = sa.Column(sa.Numeric(10, 2))


ENGINE = sa.create_engine("sqlite://")
Base.metadata.create_all(ENGINE)

# The reference data a large app loads at start: 40 MB of floats and 200k Python strings.
rng = np.random.default_rng(16)
PRICES = pd.DataFrame(rng.random((1_700_000, 3)), columns=["open", "close", "volume"])
LOOKUP = {"sku-%06d" % i: ("product %d" % i, i * 3) for i in range(200_000)}

urlpatterns = [path("admin/", admin.site.urls)]
django_app = get_wsgi_application()


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/pid":
        body = str(os.getpid()).encode()
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    return django_app(environ, start_response)
