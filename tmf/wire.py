"""Media types of the TMF APIs (kept apart from the views: DRF imports these from settings
while it is still loading its own views module)."""

from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer


class TmfJSONRenderer(JSONRenderer):
    charset = "utf-8"
    ensure_ascii = False


class TmfJSONParser(JSONParser):
    media_type = "application/json"


class MergePatchParser(JSONParser):
    """RFC 7386 JSON merge patch, the PATCH format TMF v4 APIs take."""

    media_type = "application/merge-patch+json"
