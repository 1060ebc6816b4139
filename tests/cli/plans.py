"""Plan texts the CLI tests share."""

# two restores that depend on each other (RP204)
CYCLE = """\
version: 1
restores:
  db:
    server: 94eba8b2-acc9-4d82-badc-127144cc5526
    backup: a5200268-74a5-4806-acc6-95793ab0228b
    depends_on: [app]
  app:
    server: 94eba8b2-acc9-4d82-badc-127144cc5527
    backup: a5200268-74a5-4806-acc6-95793ab0228c
    depends_on: [db]
"""
