//! Start-up checks of keys at rest (see [`crate::secrets`]): the database's
//! check value must open with the configured `ENCRYPTION_KEY`, and keys
//! written in plaintext (before a key was set) are sealed once.

use super::{Store, StoreError};
use crate::secrets::{SEALED_PREFIX, SecretError};

/// `system_state` key of the sealed check value.
const KEY_CHECK_STATE: &str = "encryption_key_check";

impl Store {
    /// Verify the configured key against the database and seal plaintext
    /// keys; returns how many were sealed. Without a key, refuses a
    /// database whose keys are sealed.
    pub async fn prepare_secrets(&self) -> Result<u64, StoreError> {
        let stored = self.system_value(KEY_CHECK_STATE).await?;
        let secrets = self.secrets();
        if !secrets.is_sealing() {
            return match stored {
                Some(_) => Err(SecretError::NoKey.into()),
                None => Ok(0),
            };
        }
        let check = match stored {
            Some(check) => check,
            None => {
                self.system_value_init(KEY_CHECK_STATE, &secrets.check_value()?)
                    .await?
            }
        };
        secrets.verify(&check)?;
        let mut sealed = 0;
        for table in ["tokens", "channels"] {
            sealed += self.seal_table(table).await?;
        }
        Ok(sealed)
    }

    async fn seal_table(&self, table: &'static str) -> Result<u64, StoreError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, key FROM {table} WHERE key <> '' AND key NOT LIKE '{SEALED_PREFIX}%'"
        )))
        .fetch_all(self.main())
        .await?;
        let mut sealed = 0;
        for (id, plain) in rows {
            let done = sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE {table} SET key = $1 WHERE id = $2 AND key = $3"
            )))
            .bind(self.secrets().seal(&plain)?)
            .bind(id)
            .bind(plain)
            .execute(self.main())
            .await?;
            sealed += done.rows_affected();
        }
        Ok(sealed)
    }
}
