"""WSGI entry point: `wsgid --chdir examples/django_site examplesite.wsgi:application`."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examplesite.settings")

application = get_wsgi_application()
