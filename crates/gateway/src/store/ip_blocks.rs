//! Abuse-control queries: which IPs were used by many groups (from the log
//! table), and the blocks the abuse check placed on them.

use serde::Serialize;
use sqlx::Row;

use super::row::{json, to_json};
use super::{Store, StoreError};

/// A blocked client IP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpBlock {
    /// The address as logged.
    pub ip: String,
    /// Blocked until (ms).
    pub until_ms: i64,
    /// The groups it was seen with (and that were disabled).
    pub group_ids: Vec<String>,
    /// When the block was placed (ms).
    pub created_at: i64,
}

impl Store {
    /// IPs that made requests for at least `min_groups` groups since
    /// `since_ms`, with those groups.
    pub async fn ips_shared_by_groups(
        &self,
        since_ms: i64,
        min_groups: i64,
    ) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT ip, group_id FROM logs WHERE created_at >= $1 AND ip <> '' AND group_id <> '' \
             AND ip IN (SELECT ip FROM logs WHERE created_at >= $1 AND ip <> '' AND group_id <> '' \
             GROUP BY ip HAVING COUNT(DISTINCT group_id) >= $2) GROUP BY ip, group_id ORDER BY ip, group_id",
        )
        .bind(since_ms)
        .bind(min_groups)
        .fetch_all(self.logs())
        .await?;
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for row in rows {
            let ip: String = row.try_get("ip")?;
            let group: String = row.try_get("group_id")?;
            match out.last_mut() {
                Some((last, groups)) if *last == ip => groups.push(group),
                _ => out.push((ip, vec![group])),
            }
        }
        Ok(out)
    }

    /// Block `ip` until `until_ms` and disable `groups`, in one transaction.
    pub async fn block_ip(
        &self,
        ip: &str,
        until_ms: i64,
        groups: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.main().begin().await?;
        sqlx::query(
            "INSERT INTO ip_blocks (ip, until_ms, group_ids, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (ip) DO UPDATE SET until_ms = $2, group_ids = $3, created_at = $4",
        )
        .bind(ip)
        .bind(until_ms)
        .bind(to_json(&groups))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for group in groups {
            sqlx::query(r#"UPDATE "groups" SET status = 2, updated_at = $1 WHERE id = $2"#)
                .bind(now)
                .bind(group.clone())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Blocks still in force at `now`.
    pub async fn active_ip_blocks(&self, now: i64) -> Result<Vec<IpBlock>, StoreError> {
        let rows = sqlx::query(
            "SELECT ip, until_ms, group_ids, created_at FROM ip_blocks WHERE until_ms > $1 ORDER BY ip",
        )
        .bind(now)
        .fetch_all(self.main())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(IpBlock {
                    ip: row.try_get("ip")?,
                    until_ms: row.try_get("until_ms")?,
                    group_ids: json(row, "group_ids")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Lift a block; false when there was none.
    pub async fn unblock_ip(&self, ip: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM ip_blocks WHERE ip = $1")
            .bind(ip)
            .execute(self.main())
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
