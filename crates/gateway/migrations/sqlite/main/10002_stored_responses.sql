-- Responses API state: which channel created a stored response (so later
-- calls naming it are pinned there) and, for responses the gateway
-- converted from another protocol, the input and the answer it keeps itself.
CREATE TABLE IF NOT EXISTS stored_responses (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL,
    channel_id BIGINT NOT NULL,
    native BIGINT NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    input TEXT NOT NULL DEFAULT '',
    response TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_stored_responses_expires ON stored_responses (expires_at);
