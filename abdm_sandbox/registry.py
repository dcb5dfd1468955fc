"""HFR and HPR (hiecm-m4.yaml, server https://apihspsbx.abdm.gov.in/v4/int), mounted at /v4/int/."""

urlpatterns_m4 = []
urlpatterns_helpers = []
