-- Billing on every log row: the flattened price that was applied and the
-- amount broken down by component (both JSON; empty when free).
ALTER TABLE logs ADD COLUMN price TEXT NOT NULL DEFAULT '';
ALTER TABLE logs ADD COLUMN amount TEXT NOT NULL DEFAULT '';
