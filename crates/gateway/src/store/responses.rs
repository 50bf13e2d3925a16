//! Stored Responses-API state (`stored_responses`): the channel that
//! created each stored response, and for responses the gateway converted
//! from another protocol, the input items and the answer it keeps itself.
//! Rows expire; [`Store::purge_expired_responses`] removes them.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::row::{flag, flag_value};
use super::{Store, StoreError};

/// One stored response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// The response id the client saw.
    pub id: String,
    /// Owning group (`""` for internal keys).
    pub group_id: String,
    /// The channel that answered.
    pub channel_id: i64,
    /// The channel speaks the Responses API and keeps the state itself.
    pub native: bool,
    /// Model the client asked for.
    pub model: String,
    /// Converted responses: every input item of the conversation so far (JSON array).
    pub input: String,
    /// Converted responses: the response object (JSON).
    pub response: String,
    /// Creation (ms).
    pub created_at: i64,
    /// Expiry (ms).
    pub expires_at: i64,
}

fn from_row(row: &AnyRow) -> Result<StoredResponse, StoreError> {
    Ok(StoredResponse {
        id: row.try_get("id")?,
        group_id: row.try_get("group_id")?,
        channel_id: row.try_get("channel_id")?,
        native: flag(row, "native")?,
        model: row.try_get("model")?,
        input: row.try_get("input")?,
        response: row.try_get("response")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

impl Store {
    /// Insert (or replace) a stored response.
    pub async fn save_response(&self, r: &StoredResponse) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO stored_responses \
             (id, group_id, channel_id, native, model, input, response, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET group_id = excluded.group_id, \
             channel_id = excluded.channel_id, native = excluded.native, model = excluded.model, \
             input = excluded.input, response = excluded.response, \
             created_at = excluded.created_at, expires_at = excluded.expires_at",
        )
        .bind(r.id.clone())
        .bind(r.group_id.clone())
        .bind(r.channel_id)
        .bind(flag_value(r.native))
        .bind(r.model.clone())
        .bind(r.input.clone())
        .bind(r.response.clone())
        .bind(r.created_at)
        .bind(r.expires_at)
        .execute(self.main())
        .await?;
        Ok(())
    }

    /// A stored response that has not expired at `now` (ms).
    pub async fn stored_response(
        &self,
        id: &str,
        now: i64,
    ) -> Result<Option<StoredResponse>, StoreError> {
        let row = sqlx::query("SELECT * FROM stored_responses WHERE id = $1 AND expires_at > $2")
            .bind(id.to_owned())
            .bind(now)
            .fetch_optional(self.main())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Delete a stored response; true when it existed.
    pub async fn delete_stored_response(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM stored_responses WHERE id = $1")
            .bind(id.to_owned())
            .execute(self.main())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Remove responses expired at `now` (ms); returns how many.
    pub async fn purge_expired_responses(&self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM stored_responses WHERE expires_at <= $1")
            .bind(now)
            .execute(self.main())
            .await?;
        Ok(done.rows_affected())
    }
}
