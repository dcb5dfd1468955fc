"""Recompute the dashboard counters from the source tables and report any drift."""

from django.core.management.base import BaseCommand

from core import counters


class Command(BaseCommand):
    help = "Compare dashboard counters with the source tables; --fix rewrites them from the sources."

    def add_arguments(self, parser):
        parser.add_argument("--metric", action="append", help="only this metric (repeatable)")
        parser.add_argument("--fix", action="store_true", help="rewrite the counters from the source tables")

    def handle(self, *args, metric=None, fix=False, **options):
        unknown = set(metric or []) - set(counters.registered_metrics())
        if unknown:
            self.stderr.write(
                f"Unknown metrics: {', '.join(sorted(unknown))}. Known: {', '.join(counters.registered_metrics())}"
            )
            raise SystemExit(2)
        drift = counters.rebuild(metric, fix=fix)
        for row in drift:
            facility = f" facility {row['facility_key']}" if "facility_key" in row else ""
            days = (
                f"; last day counted {row['counted_last_day']}, source {row['source_last_day']}"
                if "counted_last_day" in row
                else ""
            )
            self.stdout.write(
                f"drift {row['metric']} district {row['district_lgd']}{facility}: counted {row['counted']}, "
                f"source {row['source']}{days}"
            )
        checked = ", ".join(metric or counters.registered_metrics())
        if not drift:
            self.stdout.write(self.style.SUCCESS(f"No drift ({checked})."))
        elif fix:
            self.stdout.write(self.style.WARNING(f"{len(drift)} drifting rows rewritten from the sources."))
        else:
            self.stdout.write(self.style.WARNING(f"{len(drift)} drifting rows; run with --fix to rewrite."))
