-- Client IPs blocked by the abuse check (an IP used by too many groups).
CREATE TABLE ip_blocks (
    ip TEXT PRIMARY KEY,
    until_ms BIGINT NOT NULL,
    group_ids TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL
);
