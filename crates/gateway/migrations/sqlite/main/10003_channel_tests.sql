-- The last test result of each (channel, model) pair: manual tests from the
-- admin API and the background re-tests of banned pairs write here.
CREATE TABLE IF NOT EXISTS channel_tests (
    channel_id BIGINT NOT NULL,
    model TEXT NOT NULL,
    actual_model TEXT NOT NULL DEFAULT '',
    channel_name TEXT NOT NULL DEFAULT '',
    channel_type BIGINT NOT NULL DEFAULT 0,
    mode BIGINT NOT NULL DEFAULT 0,
    test_at BIGINT NOT NULL,
    took REAL NOT NULL DEFAULT 0,
    success BIGINT NOT NULL DEFAULT 0,
    code BIGINT NOT NULL DEFAULT 0,
    response TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (channel_id, model)
);
