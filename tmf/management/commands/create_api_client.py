"""python manage.py create_api_client NAME --scopes read,create

Registers a client system and prints its bearer token as the last line of the output. The token
is shown only here: the database keeps its hash.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tmf.clients import ClientError, api_client_create, api_client_rotate
from tmf.models import Scope


class Command(BaseCommand):
    help = "Register an API client system and print its bearer token (last line)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="A short name for the system, e.g. crm or billing.")
        parser.add_argument(
            "--scopes",
            default="read",
            help=f"Comma-separated, any of: {', '.join(Scope.values)} (default: read).",
        )
        parser.add_argument(
            "--rotate",
            action="store_true",
            help="Give an existing client a new token (the old one stops working).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"]
        try:
            if options["rotate"]:
                client, token = api_client_rotate(name, [options["scopes"]])
            else:
                client, token = api_client_create(name, [options["scopes"]])
        except ClientError as exc:
            raise CommandError(str(exc)) from exc
        except ValidationError as exc:  # a name that is not a slug
            raise CommandError(f"Cannot register '{name}': {'; '.join(exc.messages)}") from exc
        self.stdout.write(
            f"API client '{client.name}' with scopes {', '.join(client.scopes)}. "
            "Keep the token below: it is not stored and cannot be shown again."
        )
        self.stdout.write(token)
