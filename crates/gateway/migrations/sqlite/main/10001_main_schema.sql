-- Switchyard main schema: configuration owned by the admin API.
CREATE TABLE channels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type BIGINT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    key TEXT NOT NULL DEFAULT '',
    base_url TEXT NOT NULL DEFAULT '',
    proxy_url TEXT NOT NULL DEFAULT '',
    models TEXT NOT NULL DEFAULT '[]',
    model_mapping TEXT NOT NULL DEFAULT '{}',
    priority BIGINT NOT NULL DEFAULT 0,
    status BIGINT NOT NULL DEFAULT 1,
    sets TEXT NOT NULL DEFAULT '[]',
    configs TEXT NOT NULL DEFAULT '{}',
    balance REAL NOT NULL DEFAULT 0,
    balance_updated_at BIGINT NOT NULL DEFAULT 0,
    balance_threshold REAL NOT NULL DEFAULT 0,
    enabled_auto_balance_check BIGINT NOT NULL DEFAULT 0,
    skip_tls_verify BIGINT NOT NULL DEFAULT 0,
    enabled_no_permission_ban BIGINT NOT NULL DEFAULT 0,
    warn_error_rate REAL NOT NULL DEFAULT 0,
    max_error_rate REAL NOT NULL DEFAULT 0,
    used_amount REAL NOT NULL DEFAULT 0,
    request_count BIGINT NOT NULL DEFAULT 0,
    retry_count BIGINT NOT NULL DEFAULT 0,
    last_test_error_at BIGINT NOT NULL DEFAULT 0,
    accessed_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX idx_channels_status ON channels (status);

CREATE TABLE "groups" (
    id TEXT PRIMARY KEY,
    status BIGINT NOT NULL DEFAULT 1,
    rpm_ratio REAL NOT NULL DEFAULT 1,
    tpm_ratio REAL NOT NULL DEFAULT 1,
    available_sets TEXT NOT NULL DEFAULT '[]',
    balance_alert_enabled BIGINT NOT NULL DEFAULT 0,
    balance_alert_threshold REAL NOT NULL DEFAULT 0,
    used_amount REAL NOT NULL DEFAULT 0,
    request_count BIGINT NOT NULL DEFAULT 0,
    accessed_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key_hash TEXT NOT NULL UNIQUE,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    group_id TEXT NOT NULL REFERENCES "groups" (id) ON DELETE CASCADE,
    status BIGINT NOT NULL DEFAULT 1,
    subnets TEXT NOT NULL DEFAULT '[]',
    models TEXT NOT NULL DEFAULT '[]',
    quota REAL NOT NULL DEFAULT 0,
    period_quota REAL NOT NULL DEFAULT 0,
    period_type TEXT NOT NULL DEFAULT 'monthly',
    period_last_update_time BIGINT NOT NULL DEFAULT 0,
    period_last_update_amount REAL NOT NULL DEFAULT 0,
    used_amount REAL NOT NULL DEFAULT 0,
    request_count BIGINT NOT NULL DEFAULT 0,
    accessed_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (group_id, name)
);

CREATE TABLE model_configs (
    model TEXT PRIMARY KEY,
    owner TEXT NOT NULL DEFAULT '',
    type BIGINT NOT NULL DEFAULT 0,
    price TEXT NOT NULL DEFAULT '{}',
    rpm BIGINT NOT NULL DEFAULT 0,
    tpm BIGINT NOT NULL DEFAULT 0,
    retry_times BIGINT NOT NULL DEFAULT 0,
    timeout_config TEXT NOT NULL DEFAULT '{}',
    config TEXT NOT NULL DEFAULT '{}',
    plugin TEXT NOT NULL DEFAULT '{}',
    exclude_from_tests BIGINT NOT NULL DEFAULT 0,
    force_save_detail BIGINT NOT NULL DEFAULT 0,
    request_body_storage_max_size BIGINT NOT NULL DEFAULT 0,
    response_body_storage_max_size BIGINT NOT NULL DEFAULT 0,
    extra TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE group_model_configs (
    group_id TEXT NOT NULL REFERENCES "groups" (id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    override_limit BIGINT NOT NULL DEFAULT 0,
    rpm BIGINT NOT NULL DEFAULT 0,
    tpm BIGINT NOT NULL DEFAULT 0,
    override_price BIGINT NOT NULL DEFAULT 0,
    price TEXT NOT NULL DEFAULT '{}',
    override_retry_times BIGINT NOT NULL DEFAULT 0,
    retry_times BIGINT NOT NULL DEFAULT 0,
    override_force_save_detail BIGINT NOT NULL DEFAULT 0,
    force_save_detail BIGINT NOT NULL DEFAULT 0,
    override_timeout_config BIGINT NOT NULL DEFAULT 0,
    timeout_config TEXT NOT NULL DEFAULT '{}',
    extra TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, model)
);

CREATE TABLE options (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Internal key/value state (hashed admin key, schema facts); never exposed by the API.
CREATE TABLE system_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
