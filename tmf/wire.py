"""Media types of the TMF APIs (kept apart from the views: DRF imports these from settings
while it is still loading its own views module)."""

import io
from typing import Any

from django.conf import settings
from rest_framework.exceptions import APIException, ParseError, UnsupportedMediaType
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer


class TmfJSONRenderer(JSONRenderer):
    charset = "utf-8"
    ensure_ascii = False


class BodyTooLarge(APIException):
    status_code = 413
    default_code = "PAYLOAD_TOO_LARGE"


class TmfJSONParser(JSONParser):
    media_type = "application/json"

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        # Django bounds the bodies it reads itself (DATA_UPLOAD_MAX_MEMORY_SIZE), not the stream
        # DRF hands a parser: bounded here, before anything is decoded.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and stream is not None:
            data = stream.read(limit + 1)
            if len(data) > limit:
                raise BodyTooLarge(f"The request body is over {limit} bytes.")
            stream = io.BytesIO(data)
        # JSON nested deeper than the decoder's recursion limit raises RecursionError, which
        # DRF's parser does not catch (a 500): it is a malformed body like any other.
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None


class MergePatchParser(TmfJSONParser):
    """RFC 7386 JSON merge patch, the PATCH format TMF v4 APIs take: a patch, so a body in
    this media type is refused (415) by any other method."""

    media_type = "application/merge-patch+json"

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        request = (parser_context or {}).get("request")
        method = getattr(request, "method", "PATCH")
        if method != "PATCH":
            raise UnsupportedMediaType(
                self.media_type,
                detail=f"{self.media_type} is a patch, taken only by PATCH: send a {method} "
                "body as application/json.",
            )
        return super().parse(stream, media_type, parser_context)
