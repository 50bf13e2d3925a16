//! Channel test results (`channel_tests`) and the channel columns that tests
//! and balance checks write (`last_test_error_at`, `balance`).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::row::{flag, flag_value};
use super::{Store, StoreError};
use crate::model::channel_test::ChannelTestResult;

const COLUMNS: &str = "channel_id, model, actual_model, channel_name, channel_type, mode, \
    test_at, took, success, code, response";

fn from_row(row: &AnyRow) -> Result<ChannelTestResult, StoreError> {
    let took: f64 = row.try_get("took")?;
    let success = flag(row, "success")?;
    let response: String = row.try_get("response")?;
    Ok(ChannelTestResult {
        channel_id: row.try_get("channel_id")?,
        channel_name: row.try_get("channel_name")?,
        channel_type: row.try_get("channel_type")?,
        model: row.try_get("model")?,
        actual_model: row.try_get("actual_model")?,
        mode: row.try_get("mode")?,
        test_at: row.try_get("test_at")?,
        took,
        duration_ms: (took * 1000.0).round() as i64,
        success,
        code: row.try_get("code")?,
        error: (!success).then(|| response.clone()),
        response,
    })
}

impl Store {
    /// Store `result` as the last test of its (channel, model).
    pub async fn save_channel_test(&self, result: &ChannelTestResult) -> Result<(), StoreError> {
        let response = match (&result.error, result.success) {
            (Some(error), false) => error.clone(),
            _ => result.response.clone(),
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO channel_tests ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (channel_id, model) DO UPDATE SET actual_model = excluded.actual_model, \
             channel_name = excluded.channel_name, channel_type = excluded.channel_type, \
             mode = excluded.mode, test_at = excluded.test_at, took = excluded.took, \
             success = excluded.success, code = excluded.code, response = excluded.response"
        )))
        .bind(result.channel_id)
        .bind(result.model.clone())
        .bind(result.actual_model.clone())
        .bind(result.channel_name.clone())
        .bind(result.channel_type)
        .bind(result.mode)
        .bind(result.test_at)
        .bind(result.took)
        .bind(flag_value(result.success))
        .bind(result.code)
        .bind(response)
        .execute(self.main())
        .await?;
        Ok(())
    }

    /// The stored test results of a channel, by model.
    pub async fn channel_tests(
        &self,
        channel_id: i64,
    ) -> Result<Vec<ChannelTestResult>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM channel_tests WHERE channel_id = $1 ORDER BY model"
        )))
        .bind(channel_id)
        .fetch_all(self.main())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Set (or clear, with 0) a channel's `last_test_error_at`.
    pub async fn set_last_test_error(&self, channel_id: i64, at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE channels SET last_test_error_at = $1 WHERE id = $2")
            .bind(at)
            .bind(channel_id)
            .execute(self.main())
            .await?;
        Ok(())
    }

    /// Record a balance read from the provider.
    pub async fn set_channel_balance(
        &self,
        channel_id: i64,
        balance: f64,
        at: i64,
    ) -> Result<(), StoreError> {
        let done =
            sqlx::query("UPDATE channels SET balance = $1, balance_updated_at = $2 WHERE id = $3")
                .bind(balance)
                .bind(at)
                .bind(channel_id)
                .execute(self.main())
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("channel {channel_id}")));
        }
        Ok(())
    }
}
