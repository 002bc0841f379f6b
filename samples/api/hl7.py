"""``POST /api/v1/hl7/``: HL7 v2 ORU^R01 result messages from instrument middleware, answered
with an HL7 ACK. The body is taken here as the bytes received and handed to
``samples.services.hl7_intake`` (the same intake as the MLLP listener's), which keeps it, reads
it and answers. Refusals of the caller (401, 403, 415, 429) stay DRF's JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from samples.api.permissions import IsInstrument
from samples.services.hl7 import MAX_MESSAGE_BYTES, oru_ack
from samples.services.hl7_intake import hl7_receive

ACK_MEDIA_TYPE = "x-application/hl7-v2+er7"


def max_bytes() -> int:
    return int(getattr(settings, "HL7_MAX_BYTES", MAX_MESSAGE_BYTES))


class BodyTooLarge(ParseError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


@dataclass(frozen=True)
class Received:
    """The body as received, and the charset its Content-Type named (if any)."""

    raw: bytes
    charset: str | None


class Hl7Parser(BaseParser):
    """The body, kept as the bytes received: reading it is the intake's."""

    media_type = ACK_MEDIA_TYPE

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Received:
        limit = max_bytes()
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise BodyTooLarge(f"The message is over {limit} bytes.")
        declared = _declared_charset(media_type or "")
        return Received(body, declared)


def _declared_charset(media_type: str) -> str | None:
    """The ``charset`` parameter of a Content-Type, if it names one."""
    for parameter in media_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"'):
            return value.strip().strip('"')
    return None


class Hl7ApplicationParser(Hl7Parser):
    media_type = "application/hl7-v2"


class Hl7TextParser(Hl7Parser):
    media_type = "text/plain"


class AckRenderer(BaseRenderer):
    media_type = ACK_MEDIA_TYPE
    format = "hl7"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> bytes:
        return str(data).encode(self.charset)


class AckWhateverIsAccepted(DefaultContentNegotiation):
    """Middleware rarely sends a useful Accept header: the answer is an ACK all the same."""

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


EXAMPLE_ORU = "\r".join(
    [
        "MSH|^~\\&|MW-CHEM|LAB|LABTRACK|LAB|20261125100500||ORU^R01^ORU_R01|MW-000123|P|2.5.1",
        "PID|1||SUBJ-S-000123",
        "OBR|1||S-000123|CHEM^Chemistry panel|||20261125095500",
        "OBX|1|NM|GLU^Glucose||6.1|mmol/L|3.9-5.6|H|||F|||20261125100200+0000",
        "",
    ]
)
EXAMPLE_ACKS = {
    "All recorded (AA)": "MSA|AA|MW-000123|Recorded 1 result.",
    "Kept in the unmatched inbox (AA with a warning)": (
        "MSA|AA|MW-000123|Recorded 0 results. 1 kept in the unmatched inbox for a person (not "
        "waited for, or not readable as a result): see the ERR segments.\rERR||OBR^1^3|204^"
        "Unknown key identifier^HL70357|W||||Unknown barcode S-000123: no sample is registered "
        "under it."
    ),
    "A control id reused with other content (AR)": (
        "MSA|AR|MW-000123|Control id MW-000123 reused with different content: the first message "
        "with it was received 2026-11-25 10:05:00 UTC. This one is kept for a person and nothing "
        "of it was recorded; send it under a new control id.\rERR||MSH^1^10|205^Duplicate key "
        "identifier^HL70357|E||||Control id MW-000123 reused with different content."
    ),
    "Message rejected (AR)": (
        "MSA|AR|MW-000123|Only ORU^R01 result messages are taken here, not ADT.\r"
        "ERR||MSH^1^9|200^Unsupported message type^HL70357|E||||Only ORU^R01 result "
        "messages are taken here, not ADT."
    ),
}
EXAMPLE_HEADER = "MSH|^~\\&|LABTRACK|LAB|MW-CHEM|LAB|20261125100501||ACK^R01^ACK|4K2Q9X|P|2.5.1\r"


class Hl7View(APIView):
    """``POST /api/v1/hl7/``: one ORU^R01 message; the answer is an ACK (HTTP 200) whose MSA-1
    says AA (taken: each OBX recorded, or kept in the unmatched inbox and named in an ERR
    warning) or AR (the message rejected, or its control id reused with other content; kept,
    nothing recorded). A message over ``HL7_MAX_BYTES``: 413 with an AR."""

    permission_classes = [IsInstrument]
    parser_classes = [Hl7Parser, Hl7ApplicationParser, Hl7TextParser]
    renderer_classes = [AckRenderer, JSONRenderer]
    content_negotiation_class = AckWhateverIsAccepted

    @extend_schema(
        operation_id="hl7_oru_create",
        summary="Post an HL7 v2 ORU^R01 result message",
        request={
            media_type: OpenApiTypes.STR
            for media_type in (ACK_MEDIA_TYPE, "application/hl7-v2", "text/plain")
        },
        responses={
            (200, ACK_MEDIA_TYPE): OpenApiResponse(
                OpenApiTypes.STR,
                description="An HL7 ACK: MSA-1 is AA or AR; MSA-2 echoes MSH-10.",
                examples=[
                    OpenApiExample(name, value=EXAMPLE_HEADER + msa + "\r")
                    for name, msa in EXAMPLE_ACKS.items()
                ],
            ),
            (401, "application/json"): OpenApiResponse(
                description="No token, or an unknown or revoked one."
            ),
            (403, "application/json"): OpenApiResponse(
                description="The token is not an active instrument's."
            ),
            (413, ACK_MEDIA_TYPE): OpenApiResponse(
                OpenApiTypes.STR, description="An AR: the message is over HL7_MAX_BYTES."
            ),
            (415, "application/json"): OpenApiResponse(
                description="A Content-Type other than the HL7 or plain text ones."
            ),
        },
        examples=[
            OpenApiExample(
                "A chemistry analyzer's result",
                value=EXAMPLE_ORU,
                request_only=True,
                media_type=ACK_MEDIA_TYPE,
            )
        ],
    )
    def post(self, request: Request) -> HttpResponse:
        try:
            body = request.data
        except BodyTooLarge as refused:
            too_large = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
            return _ack(oru_ack(None, "AR", str(refused.detail), []), too_large)
        except ParseError as refused:
            return _ack(oru_ack(None, "AR", str(refused.detail), []))
        # No body at all: DRF gives an empty dict.
        received = body if isinstance(body, Received) else Received(b"", None)
        answer = hl7_receive(
            client=request.user,
            raw=received.raw,
            door="http",
            charset=received.charset,
            content_type=request.content_type or "",
        )
        # Sent in the charset the message was read in (its MSH-18, which the ACK repeats).
        media_type = f"{ACK_MEDIA_TYPE}; charset={answer.charset}"
        return HttpResponse(answer.encoded(), status=answer.status, content_type=media_type)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        # An ACK is text; DRF's own refusals (401, 403, 415, 429...) are JSON like elsewhere.
        if isinstance(response, Response):
            renderer = AckRenderer() if isinstance(response.data, str) else JSONRenderer()
            request.accepted_renderer, request.accepted_media_type = renderer, renderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


def _ack(text: str, code: int = status.HTTP_200_OK) -> Response:
    return Response(text, status=code)
