//! Group queries.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::row::{flag, flag_value, json, to_json};
use super::sql::{Page, Sql, contains_pattern, order_clause};
use super::{Store, StoreError};
use crate::model::group::Group;

const COLUMNS: &str = "id, status, rpm_ratio, tpm_ratio, available_sets, balance_alert_enabled, \
    balance_alert_threshold, max_concurrency, budget, used_amount, request_count, accessed_at, created_at, updated_at";

const ORDERABLE: &[&str] = &[
    "id",
    "status",
    "created_at",
    "accessed_at",
    "used_amount",
    "request_count",
];

fn from_row(row: &AnyRow) -> Result<Group, StoreError> {
    Ok(Group {
        id: row.try_get("id")?,
        status: row.try_get("status")?,
        rpm_ratio: row.try_get("rpm_ratio")?,
        tpm_ratio: row.try_get("tpm_ratio")?,
        available_sets: json(row, "available_sets")?,
        balance_alert_enabled: flag(row, "balance_alert_enabled")?,
        balance_alert_threshold: row.try_get("balance_alert_threshold")?,
        max_concurrency: row.try_get("max_concurrency")?,
        budget: row.try_get("budget")?,
        used_amount: row.try_get("used_amount")?,
        request_count: row.try_get("request_count")?,
        accessed_at: row.try_get("accessed_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// Every group.
    pub async fn all_groups(&self) -> Result<Vec<Group>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            r#"SELECT {COLUMNS} FROM "groups""#
        )))
        .fetch_all(self.main())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// A page of groups whose id contains `keyword`, with the total.
    pub async fn page_groups(
        &self,
        keyword: Option<&str>,
        status: Option<i64>,
        order: Option<&str>,
        page: Page,
    ) -> Result<(Vec<Group>, i64), StoreError> {
        let filters = |sql: &mut Sql| -> Result<(), StoreError> {
            sql.push(" WHERE 1 = 1");
            if let Some(k) = keyword.filter(|k| !k.is_empty()) {
                sql.push(" AND LOWER(id) LIKE ")
                    .bind(contains_pattern(k))?
                    .push(" ESCAPE '\\'");
            }
            if let Some(s) = status {
                sql.push(" AND status = ").bind(s)?;
            }
            Ok(())
        };
        let mut count = Sql::new(r#"SELECT COUNT(*) FROM "groups""#);
        filters(&mut count)?;
        let (text, args) = count.into_parts();
        let total: i64 = sqlx::query_scalar_with(text, args)
            .fetch_one(self.main())
            .await?;
        let mut sql = Sql::new(&format!(r#"SELECT {COLUMNS} FROM "groups""#));
        filters(&mut sql)?;
        sql.push(&order_clause(
            order,
            ORDERABLE,
            " ORDER BY created_at DESC, id",
        ));
        page.push_limit(&mut sql)?;
        let (text, args) = sql.into_parts();
        let rows = sqlx::query_with(text, args).fetch_all(self.main()).await?;
        Ok((rows.iter().map(from_row).collect::<Result<_, _>>()?, total))
    }

    /// One group.
    pub async fn get_group(&self, id: &str) -> Result<Group, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            r#"SELECT {COLUMNS} FROM "groups" WHERE id = $1"#
        )))
        .bind(id)
        .fetch_optional(self.main())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("group {id}")))?;
        from_row(&row)
    }

    /// Insert a group; `Conflict` if the id exists.
    pub async fn insert_group(&self, g: &Group) -> Result<(), StoreError> {
        let result = sqlx::query(
            r#"INSERT INTO "groups" (id, status, rpm_ratio, tpm_ratio, available_sets, balance_alert_enabled,
               balance_alert_threshold, max_concurrency, budget, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"#,
        )
        .bind(g.id.clone())
        .bind(g.status)
        .bind(g.rpm_ratio)
        .bind(g.tpm_ratio)
        .bind(to_json(&g.available_sets))
        .bind(flag_value(g.balance_alert_enabled))
        .bind(g.balance_alert_threshold)
        .bind(g.max_concurrency)
        .bind(g.budget)
        .bind(g.created_at)
        .bind(g.updated_at)
        .execute(self.main())
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = StoreError::from(e);
                if e.is_unique_violation() {
                    Err(StoreError::Conflict(format!(
                        "group {} already exists",
                        g.id
                    )))
                } else {
                    Err(e)
                }
            }
        }
    }

    /// Create the group with defaults unless it exists.
    pub async fn ensure_group(&self, g: &Group) -> Result<(), StoreError> {
        sqlx::query(
            r#"INSERT INTO "groups" (id, status, rpm_ratio, tpm_ratio, available_sets, created_at, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING"#,
        )
        .bind(g.id.clone())
        .bind(g.status)
        .bind(g.rpm_ratio)
        .bind(g.tpm_ratio)
        .bind(to_json(&g.available_sets))
        .bind(g.created_at)
        .bind(g.updated_at)
        .execute(self.main())
        .await?;
        Ok(())
    }

    /// Write the editable columns of a group.
    pub async fn update_group(&self, g: &Group) -> Result<(), StoreError> {
        let done = sqlx::query(
            r#"UPDATE "groups" SET status = $1, rpm_ratio = $2, tpm_ratio = $3, available_sets = $4,
               balance_alert_enabled = $5, balance_alert_threshold = $6, max_concurrency = $7, budget = $8,
               updated_at = $9 WHERE id = $10"#,
        )
        .bind(g.status)
        .bind(g.rpm_ratio)
        .bind(g.tpm_ratio)
        .bind(to_json(&g.available_sets))
        .bind(flag_value(g.balance_alert_enabled))
        .bind(g.balance_alert_threshold)
        .bind(g.max_concurrency)
        .bind(g.budget)
        .bind(g.updated_at)
        .bind(g.id.clone())
        .execute(self.main())
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("group {}", g.id)));
        }
        Ok(())
    }

    /// Delete a group with its tokens and model-config overrides.
    pub async fn delete_group(&self, id: &str) -> Result<(), StoreError> {
        let mut tx = self.main().begin().await?;
        sqlx::query("DELETE FROM tokens WHERE group_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM group_model_configs WHERE group_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query(r#"DELETE FROM "groups" WHERE id = $1"#)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("group {id}")));
        }
        tx.commit().await?;
        Ok(())
    }
}
