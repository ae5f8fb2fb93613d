"""Test settings for a real uvicorn serving the browser tests (tests.plugins.asgi_server): the
test settings, with static files served as `make run` serves them (WhiteNoise, from the
source folders), since no live server of pytest-django's is there to serve them."""

from config.settings.test import *  # noqa: F403
from config.settings.test import MIDDLEWARE

MIDDLEWARE = [MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]
WHITENOISE_USE_FINDERS = True
