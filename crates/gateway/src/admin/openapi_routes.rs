//! THE list of admin routes the OpenAPI document describes. Adding an admin
//! route means adding one line here; the `openapi` integration test scans
//! `src/admin/` for `.route(…)` calls and fails when one is missing.

/// One documented route: method, path (axum syntax), tag, summary, and the
/// component schema of `data` in the success envelope (if specific).
#[derive(Debug, Clone, Copy)]
pub struct RouteDoc {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path as routed (`{id}`, `{*model}`).
    pub path: &'static str,
    /// Group in the document.
    pub tag: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Schema of `data`, a name under `components/schemas`.
    pub data: Option<&'static str>,
}

const fn r(
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
) -> RouteDoc {
    RouteDoc {
        method,
        path,
        tag,
        summary,
        data: None,
    }
}

const fn rd(
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    data: &'static str,
) -> RouteDoc {
    RouteDoc {
        method,
        path,
        tag,
        summary,
        data: Some(data),
    }
}

/// Every admin route, one per line.
#[rustfmt::skip]
pub const ADMIN_ROUTES: &[RouteDoc] = &[
    r("GET", "/api/status", "status", "Health: start time and version (no auth)"),
    // channels
    rd("GET", "/api/channels", "channels", "List channels (page, per_page, filters)", "ChannelPage"),
    r("POST", "/api/channels", "channels", "Create several channels (array body)"),
    rd("GET", "/api/channels/all", "channels", "Every channel, newest first", "ChannelList"),
    rd("GET", "/api/channels/search", "channels", "Search channels by keyword", "ChannelPage"),
    r("GET", "/api/channels/type_metas", "channels", "Channel types: name, default base URL, key help"),
    r("POST", "/api/channels/batch_delete", "channels", "Delete channels ([ids] or {ids})"),
    r("POST", "/api/channels/batch_status", "channels", "Set the status of several channels"),
    r("POST", "/api/channel", "channels", "Create a channel (one per key line); returns its id"),
    rd("GET", "/api/channel/{id}", "channels", "One channel", "Channel"),
    rd("PUT", "/api/channel/{id}", "channels", "Update a channel (fields sent)", "Channel"),
    r("DELETE", "/api/channel/{id}", "channels", "Delete a channel"),
    r("POST", "/api/channel/{id}/status", "channels", "Enable (1) or disable (2) a channel"),
    // channel tests
    rd("GET", "/api/channel/{id}/test", "channel-tests", "Test every model of a channel (return_success, success_body, stream=SSE)", "ChannelTestList"),
    rd("GET", "/api/channel/{id}/test/{*model}", "channel-tests", "Test one model of a channel; success:false when the test failed", "ChannelTestResult"),
    rd("GET", "/api/channel/{id}/tests", "channel-tests", "Stored last test result per model of a channel", "ChannelTestList"),
    rd("GET", "/api/channels/test", "channel-tests", "Test every enabled channel (return_success, success_body, stream=SSE)", "ChannelTestList"),
    rd("POST", "/api/channel/test-preview", "channel-tests", "Test an unsaved channel: one model (`model`) or all listed", "ChannelTestList"),
    rd("POST", "/api/channel/test-preview-all", "channel-tests", "Test every model of an unsaved channel", "ChannelTestList"),
    // balances
    r("GET", "/api/channel/{id}/update_balance", "balances", "Read a channel's balance from its provider; data is the balance"),
    r("GET", "/api/channels/update_balance", "balances", "Read the balance of every enabled channel with a balance API"),
    // groups
    r("GET", "/api/groups", "groups", "List groups"),
    r("GET", "/api/groups/search", "groups", "Search groups"),
    r("POST", "/api/groups/batch_delete", "groups", "Delete groups"),
    r("POST", "/api/groups/batch_status", "groups", "Set the status of several groups"),
    r("GET", "/api/group/{group}", "groups", "One group"),
    r("POST", "/api/group/{group}", "groups", "Create a group"),
    r("PUT", "/api/group/{group}", "groups", "Update a group"),
    r("DELETE", "/api/group/{group}", "groups", "Delete a group and its tokens"),
    r("POST", "/api/group/{group}/status", "groups", "Enable or disable a group"),
    r("POST", "/api/group/{group}/rpm_ratio", "groups", "Set a group's RPM ratio"),
    r("POST", "/api/group/{group}/tpm_ratio", "groups", "Set a group's TPM ratio"),
    r("GET", "/api/group/{group}/model_configs", "group-model-configs", "A group's model-config overrides"),
    r("POST", "/api/group/{group}/model_configs", "group-model-configs", "Save several overrides"),
    r("PUT", "/api/group/{group}/model_configs", "group-model-configs", "Save several overrides"),
    r("DELETE", "/api/group/{group}/model_configs", "group-model-configs", "Delete overrides"),
    r("GET", "/api/group/{group}/model_config/{*model}", "group-model-configs", "One override"),
    r("POST", "/api/group/{group}/model_config/{*model}", "group-model-configs", "Create or replace an override"),
    r("PUT", "/api/group/{group}/model_config/{*model}", "group-model-configs", "Create or replace an override"),
    r("DELETE", "/api/group/{group}/model_config/{*model}", "group-model-configs", "Delete an override"),
    // tokens
    r("GET", "/api/tokens", "tokens", "List every token"),
    r("GET", "/api/tokens/search", "tokens", "Search every token"),
    r("POST", "/api/tokens/batch_delete", "tokens", "Delete tokens"),
    r("GET", "/api/tokens/{id}", "tokens", "One token"),
    r("PUT", "/api/tokens/{id}", "tokens", "Update a token"),
    r("DELETE", "/api/tokens/{id}", "tokens", "Delete a token"),
    r("POST", "/api/tokens/{id}/status", "tokens", "Enable or disable a token"),
    r("POST", "/api/tokens/{id}/name", "tokens", "Rename a token"),
    r("GET", "/api/token/{group}", "tokens", "A group's tokens"),
    r("POST", "/api/token/{group}", "tokens", "Create a token (auto_create_group, ignore_exist)"),
    r("GET", "/api/token/{group}/search", "tokens", "Search a group's tokens"),
    r("POST", "/api/token/{group}/batch_delete", "tokens", "Delete tokens of a group"),
    r("GET", "/api/token/{group}/{id}", "tokens", "One token of a group"),
    r("PUT", "/api/token/{group}/{id}", "tokens", "Update a token of a group"),
    r("DELETE", "/api/token/{group}/{id}", "tokens", "Delete a token of a group"),
    r("POST", "/api/token/{group}/{id}/status", "tokens", "Enable or disable a token of a group"),
    r("POST", "/api/token/{group}/{id}/name", "tokens", "Rename a token of a group"),
    // logs
    r("GET", "/api/logs", "logs", "Search request logs"),
    r("DELETE", "/api/logs", "logs", "Delete logs older than a timestamp"),
    r("GET", "/api/logs/search", "logs", "Search request logs (filters, paging)"),
    r("GET", "/api/logs/detail/{id}", "logs", "Request and response bodies of a log row"),
    r("GET", "/api/logs/retry_logs", "logs", "Failed attempts that were retried"),
    r("GET", "/api/log/{group}", "logs", "A group's logs"),
    r("GET", "/api/log/{group}/search", "logs", "Search a group's logs"),
    r("GET", "/api/log/{group}/detail/{id}", "logs", "Bodies of a group's log row"),
    // model configs
    r("GET", "/api/model_configs", "model-configs", "List model configs"),
    r("POST", "/api/model_configs", "model-configs", "Save several model configs"),
    r("GET", "/api/model_configs/search", "model-configs", "Search model configs"),
    r("GET", "/api/model_configs/all", "model-configs", "Every model config"),
    r("POST", "/api/model_configs/batch_delete", "model-configs", "Delete model configs"),
    r("POST", "/api/model_configs/contains", "model-configs", "Model configs of the given models"),
    r("GET", "/api/model_config/{*model}", "model-configs", "One model config"),
    r("POST", "/api/model_config/{*model}", "model-configs", "Create or replace a model config"),
    r("PUT", "/api/model_config/{*model}", "model-configs", "Create or replace a model config"),
    r("DELETE", "/api/model_config/{*model}", "model-configs", "Delete a model config"),
    // models
    r("GET", "/api/models/builtin", "models", "Built-in model catalogue"),
    r("GET", "/api/models/builtin/channel", "models", "Built-in models by channel type"),
    r("GET", "/api/models/builtin/channel/{type}", "models", "Built-in models of one channel type"),
    r("GET", "/api/models/enabled", "models", "Routable models by set"),
    r("GET", "/api/models/enabled/{set}", "models", "Routable models of one set"),
    r("GET", "/api/models/sets", "models", "Sets and their models"),
    r("GET", "/api/models/default", "models", "Default models and mappings by channel type"),
    r("GET", "/api/models/default/{type}", "models", "Default models and mapping of one channel type"),
    // options
    r("GET", "/api/option", "options", "Every runtime option"),
    r("PUT", "/api/option", "options", "Set one option {key, value}"),
    r("POST", "/api/option", "options", "Set one option {key, value}"),
    r("GET", "/api/option/batch", "options", "The option named `batch` (the path is shared with batch writes)"),
    r("PUT", "/api/option/batch", "options", "Set several options"),
    r("POST", "/api/option/batch", "options", "Set several options"),
    r("GET", "/api/option/{key}", "options", "One option"),
    r("PUT", "/api/option/{key}", "options", "Set one option"),
    r("POST", "/api/option/{key}", "options", "Set one option"),
    // dashboards
    r("GET", "/api/dashboard", "dashboards", "Traffic and spend over time, all groups (gaps filled, totals, live RPM/TPM)"),
    r("GET", "/api/dashboard/{group}", "dashboards", "Traffic and spend over time of one group"),
    r("GET", "/api/dashboard/{group}/models", "dashboards", "Models a group may call, with its overrides"),
    r("GET", "/api/dashboardv2", "dashboards", "FastGPT's dashboard: buckets of channel × model summaries"),
    r("GET", "/api/dashboardv2/{group}", "dashboards", "FastGPT's dashboard of one group"),
    r("GET", "/api/groups/ranking", "dashboards", "Groups ranked by consumption"),
    r("GET", "/api/groups/consumption_ranking", "dashboards", "Groups ranked by consumption"),
    // monitor
    r("GET", "/api/monitor", "monitor", "Error rates of every channel × model"),
    r("DELETE", "/api/monitor", "monitor", "Clear every error window and ban"),
    r("GET", "/api/monitor/{id}", "monitor", "Error rates of one channel"),
    r("DELETE", "/api/monitor/{id}", "monitor", "Clear one channel's error windows and bans"),
    r("DELETE", "/api/monitor/{id}/{*model}", "monitor", "Clear one channel × model pair"),
    r("GET", "/api/monitor/models", "monitor", "Error rate per model over all channels"),
    r("GET", "/api/monitor/banned_channels", "monitor", "Banned channels per model"),
    r("GET", "/api/monitor/runtime_metrics", "monitor", "Live RPM/TPM/RPS/TPS, errors and bans by model and channel"),
    r("GET", "/api/monitor/group_summary_metrics", "monitor", "Live rates of the given groups"),
    r("GET", "/api/monitor/group_token_metrics/{group}", "monitor", "Live rates per token of a group"),
    r("GET", "/api/monitor/group_model_metrics/{group}", "monitor", "Live rates per model of a group"),
    r("GET", "/api/monitor/group_tokenname_model_metrics/{group}", "monitor", "Live rates per token × model of a group"),
    r("POST", "/api/monitor/batch_group_token_metrics", "monitor", "Live rates of the given group × token pairs"),
    // log export
    r("GET", "/api/logs/export", "logs", "Logs as CSV (streamed in pages; same filters as search)"),
    r("GET", "/api/log/{group}/export", "logs", "One group's logs as CSV"),
    // abuse control
    r("GET", "/api/ip_blocks", "ip-blocks", "IPs blocked by the abuse check"),
    r("DELETE", "/api/ip_blocks/{ip}", "ip-blocks", "Lift an IP block"),
];
