-- Limits and budgets beyond AI Proxy: per-token RPM/TPM, a per-group
-- concurrency cap and a group-level spending budget.
ALTER TABLE tokens ADD COLUMN rpm BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN tpm BIGINT NOT NULL DEFAULT 0;
ALTER TABLE "groups" ADD COLUMN max_concurrency BIGINT NOT NULL DEFAULT 0;
ALTER TABLE "groups" ADD COLUMN budget REAL NOT NULL DEFAULT 0;
