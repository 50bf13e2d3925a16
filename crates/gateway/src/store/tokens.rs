//! Token queries.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::row::{json, to_json};
use super::sql::{Page, Sql, contains_pattern, order_clause};
use super::{Store, StoreError};
use crate::model::token::{Token, key_hash_hex};
use crate::secrets::Secrets;

const COLUMNS: &str = "id, key, name, group_id, status, subnets, models, quota, period_quota, \
    period_type, rpm, tpm, period_last_update_time, period_last_update_amount, used_amount, request_count, \
    accessed_at, created_at, updated_at";

const ORDERABLE: &[&str] = &[
    "id",
    "name",
    "status",
    "created_at",
    "accessed_at",
    "used_amount",
    "request_count",
];

/// Filters of the token list and search endpoints.
#[derive(Debug, Clone, Default)]
pub struct TokenFilter {
    /// Only this group.
    pub group: Option<String>,
    /// Substring of name or key.
    pub keyword: Option<String>,
    /// Substring of the name.
    pub name: Option<String>,
    /// Exact status.
    pub status: Option<i64>,
    /// `field-asc|desc`.
    pub order: Option<String>,
}

fn from_row(secrets: &Secrets, row: &AnyRow) -> Result<Token, StoreError> {
    let key: String = row.try_get("key")?;
    Ok(Token {
        id: row.try_get("id")?,
        key: secrets.open(&key)?,
        name: row.try_get("name")?,
        group_id: row.try_get("group_id")?,
        subnets: json(row, "subnets")?,
        models: json(row, "models")?,
        status: row.try_get("status")?,
        quota: row.try_get("quota")?,
        period_quota: row.try_get("period_quota")?,
        period_type: row.try_get("period_type")?,
        rpm: row.try_get("rpm")?,
        tpm: row.try_get("tpm")?,
        period_last_update_time: row.try_get("period_last_update_time")?,
        period_last_update_amount: row.try_get("period_last_update_amount")?,
        used_amount: row.try_get("used_amount")?,
        request_count: row.try_get("request_count")?,
        accessed_at: row.try_get("accessed_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn push_filters(sql: &mut Sql, f: &TokenFilter) -> Result<(), StoreError> {
    sql.push(" WHERE 1 = 1");
    if let Some(g) = &f.group {
        sql.push(" AND group_id = ").bind(g.clone())?;
    }
    if let Some(k) = f.keyword.as_deref().filter(|k| !k.is_empty()) {
        let p = contains_pattern(k);
        sql.push(" AND (LOWER(name) LIKE ")
            .bind(p.clone())?
            .push(" ESCAPE '\\' OR LOWER(key) LIKE ")
            .bind(p)?
            .push(" ESCAPE '\\')");
    }
    if let Some(n) = f.name.as_deref().filter(|n| !n.is_empty()) {
        sql.push(" AND LOWER(name) LIKE ")
            .bind(contains_pattern(n))?
            .push(" ESCAPE '\\'");
    }
    if let Some(s) = f.status {
        sql.push(" AND status = ").bind(s)?;
    }
    Ok(())
}

fn name_conflict(e: sqlx::Error, t: &Token) -> StoreError {
    let e = StoreError::from(e);
    if e.is_unique_violation() {
        StoreError::Conflict(format!(
            "a token named `{}` already exists in group {}",
            t.name, t.group_id
        ))
    } else {
        e
    }
}

impl Store {
    /// Every token.
    pub async fn all_tokens(&self) -> Result<Vec<Token>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM tokens")))
            .fetch_all(self.main())
            .await?;
        rows.iter().map(|r| from_row(&self.secrets, r)).collect()
    }

    /// A page of tokens, with the total.
    pub async fn page_tokens(
        &self,
        f: &TokenFilter,
        page: Page,
    ) -> Result<(Vec<Token>, i64), StoreError> {
        let mut count = Sql::new("SELECT COUNT(*) FROM tokens");
        push_filters(&mut count, f)?;
        let (text, args) = count.into_parts();
        let total: i64 = sqlx::query_scalar_with(text, args)
            .fetch_one(self.main())
            .await?;
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM tokens"));
        push_filters(&mut sql, f)?;
        sql.push(&order_clause(
            f.order.as_deref(),
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

    /// One token, optionally required to belong to `group`.
    pub async fn get_token(&self, group: Option<&str>, id: i64) -> Result<Token, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM tokens WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.main())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("token {id}")))?;
        let token = from_row(&self.secrets, &row)?;
        if group.is_some_and(|g| g != token.group_id) {
            return Err(StoreError::NotFound(format!("token {id}")));
        }
        Ok(token)
    }

    /// Number of tokens in a group.
    pub async fn count_group_tokens(&self, group: &str) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM tokens WHERE group_id = $1")
                .bind(group)
                .fetch_one(self.main())
                .await?,
        )
    }

    /// Insert a token; returns its id. `Conflict` on a duplicate name;
    /// `LimitReached` when the group already holds `max_per_group` tokens
    /// (0: no limit). The group's row is locked for the count and the insert,
    /// so concurrent creates cannot overshoot the limit.
    pub async fn insert_token(&self, t: &Token, max_per_group: i64) -> Result<i64, StoreError> {
        let mut tx = self.main().begin().await?;
        sqlx::query(r#"UPDATE "groups" SET updated_at = updated_at WHERE id = $1"#)
            .bind(t.group_id.clone())
            .execute(&mut *tx)
            .await?;
        if max_per_group > 0 {
            let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tokens WHERE group_id = $1")
                .bind(t.group_id.clone())
                .fetch_one(&mut *tx)
                .await?;
            if count >= max_per_group {
                return Err(StoreError::LimitReached(format!(
                    "group {} already has {count} tokens, the most GroupMaxTokenNum allows ({max_per_group})",
                    t.group_id
                )));
            }
        }
        let id = sqlx::query_scalar(
            "INSERT INTO tokens (key_hash, key, name, group_id, status, subnets, models, quota, period_quota, \
             period_type, period_last_update_time, period_last_update_amount, created_at, updated_at, \
             rpm, tpm) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             RETURNING id",
        )
        .bind(key_hash_hex(&t.key))
        .bind(self.secrets.seal(&t.key)?)
        .bind(t.name.clone())
        .bind(t.group_id.clone())
        .bind(t.status)
        .bind(to_json(&t.subnets))
        .bind(to_json(&t.models))
        .bind(t.quota)
        .bind(t.period_quota)
        .bind(t.period_type.clone())
        .bind(t.period_last_update_time)
        .bind(t.period_last_update_amount)
        .bind(t.created_at)
        .bind(t.updated_at)
        .bind(t.rpm)
        .bind(t.tpm)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| name_conflict(e, t))?;
        tx.commit().await?;
        Ok(id)
    }

    /// Write a token's editable columns.
    pub async fn update_token(&self, t: &Token) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE tokens SET name = $1, status = $2, subnets = $3, models = $4, quota = $5, \
             period_quota = $6, period_type = $7, updated_at = $8, rpm = $9, tpm = $10 WHERE id = $11",
        )
        .bind(t.name.clone())
        .bind(t.status)
        .bind(to_json(&t.subnets))
        .bind(to_json(&t.models))
        .bind(t.quota)
        .bind(t.period_quota)
        .bind(t.period_type.clone())
        .bind(t.updated_at)
        .bind(t.rpm)
        .bind(t.tpm)
        .bind(t.id)
        .execute(self.main())
        .await
        .map_err(|e| name_conflict(e, t))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("token {}", t.id)));
        }
        Ok(())
    }

    /// Delete tokens by id (restricted to `group` when given); returns the count.
    pub async fn delete_tokens(&self, group: Option<&str>, ids: &[i64]) -> Result<u64, StoreError> {
        let mut tx = self.main().begin().await?;
        let mut deleted = 0;
        for id in ids {
            let done = match group {
                Some(g) => {
                    sqlx::query("DELETE FROM tokens WHERE id = $1 AND group_id = $2")
                        .bind(*id)
                        .bind(g)
                        .execute(&mut *tx)
                        .await?
                }
                None => {
                    sqlx::query("DELETE FROM tokens WHERE id = $1")
                        .bind(*id)
                        .execute(&mut *tx)
                        .await?
                }
            };
            deleted += done.rows_affected();
        }
        tx.commit().await?;
        Ok(deleted)
    }
}
