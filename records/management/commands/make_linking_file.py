"""Write a realistic record-linking batch (CSV) against the ABHA accounts in the database."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from facilities.models import Facility
from records.linking.synthetic import write_linking_file


class Command(BaseCommand):
    help = "Write a CSV batch for record linking: rows for existing ABHA accounts, some bad in known ways."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, required=True)
        parser.add_argument("--facility", required=True, help="The facility ID (IN...) the batch is for.")
        parser.add_argument("--bad-fraction", type=float, default=0.02)
        parser.add_argument(
            "--review-fraction",
            type=float,
            default=0.0,
            help="Rows matched on demographics without certainty (a person reviews them).",
        )
        parser.add_argument(
            "--reference-prefix",
            default=None,
            help="Care context references start with this "
            "(the same prefix makes overlapping files); random by default.",
        )
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--out", required=True, help="The file to write, or - for standard output.")

    def handle(self, *args, rows, facility, bad_fraction, review_fraction, reference_prefix, seed, out, **options):
        if rows < 1:
            raise CommandError("--rows must be at least 1.")
        if not 0 <= bad_fraction < 1 or not 0 <= review_fraction < 1:
            raise CommandError("--bad-fraction and --review-fraction must be between 0 and 1.")
        if not Facility.objects.filter(facility_id=facility.upper()).exists():
            raise CommandError(f"No facility has the ID {facility}.")
        options = {
            "rows": rows,
            "bad_fraction": bad_fraction,
            "review_fraction": review_fraction,
            "reference_prefix": reference_prefix,
            "seed": seed,
        }
        try:
            if out == "-":
                facts = write_linking_file(sys.stdout, **options)
            else:
                with open(out, "w", encoding="utf-8", newline="") as stream:
                    facts = write_linking_file(stream, **options)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stderr.write(json.dumps(facts.as_dict()))
