"""The sandbox's consent manager (HIE-CM, hiecm-m3.yaml and the HIP half of hiecm-m2.yaml): consent requests from
HIUs, the citizen's ABHA app (pages and a JSON API under /sandbox/v1/app/), artefacts notified to HIPs and HIUs,
the health-information request relay, and a built-in HIU that fetches and checks what an HIP sends."""
