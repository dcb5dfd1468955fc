"""The sandbox's ABHA service (M1, https://abhasbx.abdm.gov.in/abha/api): mounted at /abha/api/."""
