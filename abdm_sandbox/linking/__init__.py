"""The sandbox gateway's M2 (HIP) side: link tokens, care-context linking and notify, the ABHA app's side of
user-initiated linking (discover, link init, link confirm) and Scan & Share's patient share."""
