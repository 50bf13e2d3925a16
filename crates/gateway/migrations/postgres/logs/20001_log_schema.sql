-- Switchyard log schema: request logs, bodies and failed attempts.
CREATE TABLE logs (
    id BIGSERIAL PRIMARY KEY,
    request_id TEXT NOT NULL,
    request_at BIGINT NOT NULL,
    retry_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    ttfb_milliseconds BIGINT NOT NULL DEFAULT 0,
    group_id TEXT NOT NULL DEFAULT '',
    token_id BIGINT NOT NULL DEFAULT 0,
    token_name TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    actual_model TEXT NOT NULL DEFAULT '',
    channel_id BIGINT NOT NULL DEFAULT 0,
    mode BIGINT NOT NULL DEFAULT 0,
    endpoint TEXT NOT NULL DEFAULT '',
    code BIGINT NOT NULL DEFAULT 0,
    content TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    retry_times BIGINT NOT NULL DEFAULT 0,
    end_user TEXT NOT NULL DEFAULT '',
    metadata TEXT NOT NULL DEFAULT '',
    upstream_id TEXT NOT NULL DEFAULT '',
    stream BIGINT NOT NULL DEFAULT 0,
    input_tokens BIGINT NOT NULL DEFAULT 0,
    image_input_tokens BIGINT NOT NULL DEFAULT 0,
    audio_input_tokens BIGINT NOT NULL DEFAULT 0,
    video_input_tokens BIGINT NOT NULL DEFAULT 0,
    output_tokens BIGINT NOT NULL DEFAULT 0,
    image_output_tokens BIGINT NOT NULL DEFAULT 0,
    audio_output_tokens BIGINT NOT NULL DEFAULT 0,
    cached_tokens BIGINT NOT NULL DEFAULT 0,
    cache_creation_tokens BIGINT NOT NULL DEFAULT 0,
    reasoning_tokens BIGINT NOT NULL DEFAULT 0,
    total_tokens BIGINT NOT NULL DEFAULT 0,
    web_search_count BIGINT NOT NULL DEFAULT 0,
    usage_estimated BIGINT NOT NULL DEFAULT 0,
    used_amount DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE INDEX idx_logs_created_at ON logs (created_at);
CREATE INDEX idx_logs_request_id ON logs (request_id);
CREATE INDEX idx_logs_group_created ON logs (group_id, created_at);
CREATE INDEX idx_logs_model_created ON logs (model, created_at);
CREATE INDEX idx_logs_channel_created ON logs (channel_id, created_at);

CREATE TABLE request_details (
    id BIGSERIAL PRIMARY KEY,
    log_id BIGINT NOT NULL,
    request_body TEXT NOT NULL DEFAULT '',
    response_body TEXT NOT NULL DEFAULT '',
    request_body_truncated BIGINT NOT NULL DEFAULT 0,
    response_body_truncated BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX idx_request_details_log_id ON request_details (log_id);
CREATE INDEX idx_request_details_created_at ON request_details (created_at);

CREATE TABLE retry_logs (
    id BIGSERIAL PRIMARY KEY,
    request_id TEXT NOT NULL,
    request_at BIGINT NOT NULL,
    retry_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    ttfb_milliseconds BIGINT NOT NULL DEFAULT 0,
    group_id TEXT NOT NULL DEFAULT '',
    token_name TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    actual_model TEXT NOT NULL DEFAULT '',
    channel_id BIGINT NOT NULL DEFAULT 0,
    mode BIGINT NOT NULL DEFAULT 0,
    code BIGINT NOT NULL DEFAULT 0,
    attempt BIGINT NOT NULL DEFAULT 0,
    content TEXT NOT NULL DEFAULT '',
    request_body TEXT NOT NULL DEFAULT '',
    response_body TEXT NOT NULL DEFAULT '',
    request_body_truncated BIGINT NOT NULL DEFAULT 0,
    response_body_truncated BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX idx_retry_logs_request_id ON retry_logs (request_id);
CREATE INDEX idx_retry_logs_created_at ON retry_logs (created_at);
