"""Scan & Share: a patient scans a counter's QR, shares their ABHA profile and gets an OPD token.

The one part of `facilities` that builds on `abha` (the patient is an ABHA account, sign-in reuses abha's services);
it imports abha, and abha never imports it.
"""
