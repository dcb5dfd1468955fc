"""Scan & Share: a patient scans a counter's QR, shares their ABHA profile and gets an OPD token.

Builds on facilities (the facility and its counters) and abha (the patient is an ABHA account, sign-in reuses
abha's services); neither of them imports it. records builds on it (a record prefilled from a token).
"""
