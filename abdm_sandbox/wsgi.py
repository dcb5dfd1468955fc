import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "abdm_sandbox.settings"  # never the portal's, whatever the shell exported
application = get_wsgi_application()
