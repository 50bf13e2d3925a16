//! Channel queries.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::row::{flag, flag_value, json, to_json};
use super::sql::{Page, Sql, contains_pattern, order_clause};
use super::{Store, StoreError};
use crate::model::channel::Channel;
use crate::secrets::Secrets;

const COLUMNS: &str = "id, type, name, key, base_url, proxy_url, models, model_mapping, priority, \
    status, sets, configs, balance, balance_updated_at, balance_threshold, \
    enabled_auto_balance_check, skip_tls_verify, enabled_no_permission_ban, warn_error_rate, \
    max_error_rate, used_amount, request_count, retry_count, last_test_error_at, accessed_at, \
    created_at, updated_at";

const ORDERABLE: &[&str] = &[
    "id",
    "name",
    "type",
    "priority",
    "status",
    "created_at",
    "used_amount",
    "request_count",
];

/// Filters of the channel list and search endpoints.
#[derive(Debug, Clone, Default)]
pub struct ChannelFilter {
    /// Substring over name, key, base URL, models and sets.
    pub keyword: Option<String>,
    /// Exact id.
    pub id: Option<i64>,
    /// Substring of the name.
    pub name: Option<String>,
    /// Substring of the key.
    pub key: Option<String>,
    /// Exact type.
    pub channel_type: Option<i64>,
    /// Substring of the base URL.
    pub base_url: Option<String>,
    /// `field-asc|desc`.
    pub order: Option<String>,
}

fn from_row(secrets: &Secrets, row: &AnyRow) -> Result<Channel, StoreError> {
    let key: String = row.try_get("key")?;
    Ok(Channel {
        id: row.try_get("id")?,
        channel_type: row.try_get("type")?,
        name: row.try_get("name")?,
        key: secrets.open(&key)?,
        base_url: row.try_get("base_url")?,
        proxy_url: row.try_get("proxy_url")?,
        models: json(row, "models")?,
        model_mapping: json(row, "model_mapping")?,
        priority: row.try_get("priority")?,
        status: row.try_get("status")?,
        sets: json(row, "sets")?,
        configs: json(row, "configs")?,
        balance: row.try_get("balance")?,
        balance_updated_at: row.try_get("balance_updated_at")?,
        balance_threshold: row.try_get("balance_threshold")?,
        enabled_auto_balance_check: flag(row, "enabled_auto_balance_check")?,
        skip_tls_verify: flag(row, "skip_tls_verify")?,
        enabled_no_permission_ban: flag(row, "enabled_no_permission_ban")?,
        warn_error_rate: row.try_get("warn_error_rate")?,
        max_error_rate: row.try_get("max_error_rate")?,
        used_amount: row.try_get("used_amount")?,
        request_count: row.try_get("request_count")?,
        retry_count: row.try_get("retry_count")?,
        last_test_error_at: row.try_get("last_test_error_at")?,
        accessed_at: row.try_get("accessed_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn push_filters(sql: &mut Sql, filter: &ChannelFilter) -> Result<(), StoreError> {
    sql.push(" WHERE 1 = 1");
    if let Some(keyword) = filter.keyword.as_deref().filter(|k| !k.is_empty()) {
        let pattern = contains_pattern(keyword);
        sql.push(" AND (");
        for (i, col) in ["name", "key", "base_url", "models", "sets"]
            .iter()
            .enumerate()
        {
            if i > 0 {
                sql.push(" OR ");
            }
            sql.push(&format!("LOWER({col}) LIKE "))
                .bind(pattern.clone())?
                .push(" ESCAPE '\\'");
        }
        if let Ok(id) = keyword.trim().parse::<i64>() {
            sql.push(" OR id = ").bind(id)?;
        }
        sql.push(")");
    }
    if let Some(id) = filter.id {
        sql.push(" AND id = ").bind(id)?;
    }
    if let Some(t) = filter.channel_type {
        sql.push(" AND type = ").bind(t)?;
    }
    for (col, value) in [
        ("name", &filter.name),
        ("key", &filter.key),
        ("base_url", &filter.base_url),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            sql.push(&format!(" AND LOWER({col}) LIKE "))
                .bind(contains_pattern(v))?
                .push(" ESCAPE '\\'");
        }
    }
    Ok(())
}

fn bind_channel(sql: &mut Sql, secrets: &Secrets, c: &Channel) -> Result<(), StoreError> {
    sql.bind(c.channel_type)?
        .push(", ")
        .bind(c.name.clone())?
        .push(", ")
        .bind(secrets.seal(&c.key)?)?
        .push(", ")
        .bind(c.base_url.clone())?
        .push(", ")
        .bind(c.proxy_url.clone())?
        .push(", ")
        .bind(to_json(&c.models))?
        .push(", ")
        .bind(to_json(&c.model_mapping))?
        .push(", ")
        .bind(c.priority)?
        .push(", ")
        .bind(c.status)?
        .push(", ")
        .bind(to_json(&c.sets))?
        .push(", ")
        .bind(to_json(&c.configs))?
        .push(", ")
        .bind(c.balance_threshold)?
        .push(", ")
        .bind(flag_value(c.enabled_auto_balance_check))?
        .push(", ")
        .bind(flag_value(c.skip_tls_verify))?
        .push(", ")
        .bind(flag_value(c.enabled_no_permission_ban))?
        .push(", ")
        .bind(c.warn_error_rate)?
        .push(", ")
        .bind(c.max_error_rate)?;
    Ok(())
}

impl Store {
    /// Every channel, newest first.
    pub async fn all_channels(&self) -> Result<Vec<Channel>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM channels ORDER BY id DESC"
        )))
        .fetch_all(self.main())
        .await?;
        rows.iter().map(|r| from_row(&self.secrets, r)).collect()
    }

    /// One page of channels matching `filter`, with the total count.
    pub async fn page_channels(
        &self,
        filter: &ChannelFilter,
        page: Page,
    ) -> Result<(Vec<Channel>, i64), StoreError> {
        let mut count = Sql::new("SELECT COUNT(*) FROM channels");
        push_filters(&mut count, filter)?;
        let (text, args) = count.into_parts();
        let total: i64 = sqlx::query_scalar_with(text, args)
            .fetch_one(self.main())
            .await?;

        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM channels"));
        push_filters(&mut sql, filter)?;
        sql.push(&order_clause(
            filter.order.as_deref(),
            ORDERABLE,
            " ORDER BY id DESC",
        ));
        page.push_limit(&mut sql)?;
        let (text, args) = sql.into_parts();
        let rows = sqlx::query_with(text, args).fetch_all(self.main()).await?;
        Ok((
            rows.iter()
                .map(|r| from_row(&self.secrets, r))
                .collect::<Result<_, _>>()?,
            total,
        ))
    }

    /// One channel.
    pub async fn get_channel(&self, id: i64) -> Result<Channel, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM channels WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.main())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("channel {id}")))?;
        from_row(&self.secrets, &row)
    }

    /// Insert channels in one transaction; returns their ids in order.
    pub async fn insert_channels(&self, channels: &[Channel]) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.main().begin().await?;
        let mut ids = Vec::with_capacity(channels.len());
        for c in channels {
            let mut sql = Sql::new(
                "INSERT INTO channels (type, name, key, base_url, proxy_url, models, model_mapping, \
                 priority, status, sets, configs, balance_threshold, enabled_auto_balance_check, \
                 skip_tls_verify, enabled_no_permission_ban, warn_error_rate, max_error_rate, \
                 created_at, updated_at) VALUES (",
            );
            bind_channel(&mut sql, &self.secrets, c)?;
            sql.push(", ")
                .bind(c.created_at)?
                .push(", ")
                .bind(c.updated_at)?
                .push(") RETURNING id");
            let (text, args) = sql.into_parts();
            let id: i64 = sqlx::query_scalar_with(text, args)
                .fetch_one(&mut *tx)
                .await?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Write every admin-editable column of `channel`.
    pub async fn update_channel(&self, c: &Channel) -> Result<(), StoreError> {
        let mut sql = Sql::new(
            "UPDATE channels SET (type, name, key, base_url, proxy_url, models, model_mapping, \
             priority, status, sets, configs, balance_threshold, enabled_auto_balance_check, \
             skip_tls_verify, enabled_no_permission_ban, warn_error_rate, max_error_rate, updated_at) = (",
        );
        bind_channel(&mut sql, &self.secrets, c)?;
        sql.push(", ")
            .bind(c.updated_at)?
            .push(") WHERE id = ")
            .bind(c.id)?;
        let (text, args) = sql.into_parts();
        let done = sqlx::query_with(text, args).execute(self.main()).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("channel {}", c.id)));
        }
        Ok(())
    }

    /// Set a channel's status.
    pub async fn set_channel_status(
        &self,
        id: i64,
        status: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE channels SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status)
            .bind(now)
            .bind(id)
            .execute(self.main())
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("channel {id}")));
        }
        Ok(())
    }

    /// Delete channels; returns how many existed.
    pub async fn delete_channels(&self, ids: &[i64]) -> Result<u64, StoreError> {
        let mut tx = self.main().begin().await?;
        let mut deleted = 0;
        for id in ids {
            deleted += sqlx::query("DELETE FROM channels WHERE id = $1")
                .bind(*id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(deleted)
    }
}
