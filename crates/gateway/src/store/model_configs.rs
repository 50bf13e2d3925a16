//! Model config and group model config queries.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::row::{flag, flag_value, json, to_json};
use super::sql::{Page, Sql, contains_pattern};
use super::{Store, StoreError};
use crate::model::model_config::{GroupModelConfig, ModelConfig};

const COLUMNS: &str = "model, owner, type, price, rpm, tpm, retry_times, timeout_config, config, \
    plugin, exclude_from_tests, force_save_detail, request_body_storage_max_size, \
    response_body_storage_max_size, extra, created_at, updated_at";

const GROUP_COLUMNS: &str = "group_id, model, override_limit, rpm, tpm, override_price, price, \
    override_retry_times, retry_times, override_force_save_detail, force_save_detail, \
    override_timeout_config, timeout_config, extra, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<ModelConfig, StoreError> {
    Ok(ModelConfig {
        model: row.try_get("model")?,
        owner: row.try_get("owner")?,
        model_type: row.try_get("type")?,
        price: json(row, "price")?,
        rpm: row.try_get("rpm")?,
        tpm: row.try_get("tpm")?,
        retry_times: row.try_get("retry_times")?,
        timeout_config: json(row, "timeout_config")?,
        config: json(row, "config")?,
        plugin: json(row, "plugin")?,
        exclude_from_tests: flag(row, "exclude_from_tests")?,
        force_save_detail: flag(row, "force_save_detail")?,
        request_body_storage_max_size: row.try_get("request_body_storage_max_size")?,
        response_body_storage_max_size: row.try_get("response_body_storage_max_size")?,
        extra: json(row, "extra")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn group_from_row(row: &AnyRow) -> Result<GroupModelConfig, StoreError> {
    Ok(GroupModelConfig {
        group_id: row.try_get("group_id")?,
        model: row.try_get("model")?,
        override_limit: flag(row, "override_limit")?,
        rpm: row.try_get("rpm")?,
        tpm: row.try_get("tpm")?,
        override_price: flag(row, "override_price")?,
        price: json(row, "price")?,
        override_retry_times: flag(row, "override_retry_times")?,
        retry_times: row.try_get("retry_times")?,
        override_force_save_detail: flag(row, "override_force_save_detail")?,
        force_save_detail: flag(row, "force_save_detail")?,
        override_timeout_config: flag(row, "override_timeout_config")?,
        timeout_config: json(row, "timeout_config")?,
        extra: json(row, "extra")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// Every model config, by name.
    pub async fn all_model_configs(&self) -> Result<Vec<ModelConfig>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM model_configs ORDER BY model"
        )))
        .fetch_all(self.main())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// A page of model configs whose model or owner contains `keyword`.
    pub async fn page_model_configs(
        &self,
        keyword: Option<&str>,
        owner: Option<&str>,
        page: Page,
    ) -> Result<(Vec<ModelConfig>, i64), StoreError> {
        let filters = |sql: &mut Sql| -> Result<(), StoreError> {
            sql.push(" WHERE 1 = 1");
            if let Some(k) = keyword.filter(|k| !k.is_empty()) {
                let p = contains_pattern(k);
                sql.push(" AND (LOWER(model) LIKE ")
                    .bind(p.clone())?
                    .push(" ESCAPE '\\' OR LOWER(owner) LIKE ")
                    .bind(p)?
                    .push(" ESCAPE '\\')");
            }
            if let Some(o) = owner.filter(|o| !o.is_empty()) {
                sql.push(" AND owner = ").bind(o.to_owned())?;
            }
            Ok(())
        };
        let mut count = Sql::new("SELECT COUNT(*) FROM model_configs");
        filters(&mut count)?;
        let (text, args) = count.into_parts();
        let total: i64 = sqlx::query_scalar_with(text, args)
            .fetch_one(self.main())
            .await?;
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM model_configs"));
        filters(&mut sql)?;
        sql.push(" ORDER BY model");
        page.push_limit(&mut sql)?;
        let (text, args) = sql.into_parts();
        let rows = sqlx::query_with(text, args).fetch_all(self.main()).await?;
        Ok((rows.iter().map(from_row).collect::<Result<_, _>>()?, total))
    }

    /// One model config.
    pub async fn get_model_config(&self, model: &str) -> Result<ModelConfig, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM model_configs WHERE model = $1"
        )))
        .bind(model)
        .fetch_optional(self.main())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("model config {model}")))?;
        from_row(&row)
    }

    /// Insert or replace model configs in one transaction.
    pub async fn save_model_configs(&self, configs: &[ModelConfig]) -> Result<(), StoreError> {
        let mut tx = self.main().begin().await?;
        for c in configs {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO model_configs ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
                 $12, $13, $14, $15, $16, $17) ON CONFLICT (model) DO UPDATE SET owner = excluded.owner, \
                 type = excluded.type, price = excluded.price, rpm = excluded.rpm, tpm = excluded.tpm, \
                 retry_times = excluded.retry_times, timeout_config = excluded.timeout_config, \
                 config = excluded.config, plugin = excluded.plugin, \
                 exclude_from_tests = excluded.exclude_from_tests, \
                 force_save_detail = excluded.force_save_detail, \
                 request_body_storage_max_size = excluded.request_body_storage_max_size, \
                 response_body_storage_max_size = excluded.response_body_storage_max_size, \
                 extra = excluded.extra, updated_at = excluded.updated_at"
            )))
            .bind(c.model.clone())
            .bind(c.owner.clone())
            .bind(c.model_type)
            .bind(to_json(&c.price))
            .bind(c.rpm)
            .bind(c.tpm)
            .bind(c.retry_times)
            .bind(to_json(&c.timeout_config))
            .bind(to_json(&c.config))
            .bind(to_json(&c.plugin))
            .bind(flag_value(c.exclude_from_tests))
            .bind(flag_value(c.force_save_detail))
            .bind(c.request_body_storage_max_size)
            .bind(c.response_body_storage_max_size)
            .bind(to_json(&c.extra))
            .bind(c.created_at)
            .bind(c.updated_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Delete model configs; returns how many existed.
    pub async fn delete_model_configs(&self, models: &[String]) -> Result<u64, StoreError> {
        let mut tx = self.main().begin().await?;
        let mut deleted = 0;
        for m in models {
            deleted += sqlx::query("DELETE FROM model_configs WHERE model = $1")
                .bind(m.clone())
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(deleted)
    }

    /// Every group override.
    pub async fn all_group_model_configs(&self) -> Result<Vec<GroupModelConfig>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {GROUP_COLUMNS} FROM group_model_configs"
        )))
        .fetch_all(self.main())
        .await?;
        rows.iter().map(group_from_row).collect()
    }

    /// A group's overrides.
    pub async fn group_model_configs(
        &self,
        group: &str,
    ) -> Result<Vec<GroupModelConfig>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {GROUP_COLUMNS} FROM group_model_configs WHERE group_id = $1 ORDER BY model"
        )))
        .bind(group)
        .fetch_all(self.main())
        .await?;
        rows.iter().map(group_from_row).collect()
    }

    /// One group override.
    pub async fn get_group_model_config(
        &self,
        group: &str,
        model: &str,
    ) -> Result<GroupModelConfig, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {GROUP_COLUMNS} FROM group_model_configs WHERE group_id = $1 AND model = $2"
        )))
        .bind(group)
        .bind(model)
        .fetch_optional(self.main())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("model config {model} of group {group}")))?;
        group_from_row(&row)
    }

    /// Insert or replace group overrides.
    pub async fn save_group_model_configs(
        &self,
        configs: &[GroupModelConfig],
    ) -> Result<(), StoreError> {
        let mut tx = self.main().begin().await?;
        for c in configs {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO group_model_configs ({GROUP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
                 $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (group_id, model) DO UPDATE SET \
                 override_limit = excluded.override_limit, rpm = excluded.rpm, tpm = excluded.tpm, \
                 override_price = excluded.override_price, price = excluded.price, \
                 override_retry_times = excluded.override_retry_times, retry_times = excluded.retry_times, \
                 override_force_save_detail = excluded.override_force_save_detail, \
                 force_save_detail = excluded.force_save_detail, \
                 override_timeout_config = excluded.override_timeout_config, \
                 timeout_config = excluded.timeout_config, extra = excluded.extra, \
                 updated_at = excluded.updated_at"
            )))
            .bind(c.group_id.clone())
            .bind(c.model.clone())
            .bind(flag_value(c.override_limit))
            .bind(c.rpm)
            .bind(c.tpm)
            .bind(flag_value(c.override_price))
            .bind(to_json(&c.price))
            .bind(flag_value(c.override_retry_times))
            .bind(c.retry_times)
            .bind(flag_value(c.override_force_save_detail))
            .bind(flag_value(c.force_save_detail))
            .bind(flag_value(c.override_timeout_config))
            .bind(to_json(&c.timeout_config))
            .bind(to_json(&c.extra))
            .bind(c.created_at)
            .bind(c.updated_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Delete group overrides; returns how many existed.
    pub async fn delete_group_model_configs(
        &self,
        group: &str,
        models: &[String],
    ) -> Result<u64, StoreError> {
        let mut tx = self.main().begin().await?;
        let mut deleted = 0;
        for m in models {
            deleted +=
                sqlx::query("DELETE FROM group_model_configs WHERE group_id = $1 AND model = $2")
                    .bind(group)
                    .bind(m.clone())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
        }
        tx.commit().await?;
        Ok(deleted)
    }
}
