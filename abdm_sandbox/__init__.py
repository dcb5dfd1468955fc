"""A local ABDM: a separate Django project that plays ABDM's gateway, ABHA (M1) and HFR/HPR (M4) services.

It speaks NHA's published v3 contract (`nha-in/docs`, catalogue/openapi/hiecm/v3/) so the portal cannot tell it
from ABDM's own sandbox. Own process, own port (ABDM_SANDBOX_PORT, default 8001), own database
(ABDM_SANDBOX_DATABASE_URL). It never imports the portal's apps, and the portal never imports it (tests drive it
over HTTP). Start it with `python -m abdm_sandbox serve`; see README "The local ABDM sandbox".
"""
