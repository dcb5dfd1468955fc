from django.apps import AppConfig


class FacilitiesConfig(AppConfig):
    name = "facilities"

    def ready(self):
        from abdm import bridge_services, outbox

        from . import access_rules  # noqa: F401 - registers the facility models' access rules
        from .services import hip

        # ABDM's answer to a facility's registration as an HIP service of the state's bridge.
        outbox.register_handler(
            bridge_services.HIP_SERVICE_KIND, on_success=hip.hip_service_confirmed, on_failure=hip.hip_service_failed
        )
