"""The dry-run behind `ems plan`: a fresh controller fed a snapshot of the site's state,
and everything it would send, shown but never sent.

- `snapshot`: the documented JSON snapshot of the live state, read with located errors;
- `scenario_state`: the same state taken from a replay scenario at one moment;
- `dry_run`: the snapshot as controller events, the controller's answer, the payloads;
- `horizon`: the multi-period schedule and the profiles carrying it;
- `document` and `tables`: the result as one JSON document or as rich tables.
"""
