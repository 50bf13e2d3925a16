//! Runtime option rows (`key` → string `value`).

use std::collections::HashMap;

use super::{Store, StoreError};

impl Store {
    /// Every stored option.
    pub async fn all_options(&self) -> Result<HashMap<String, String>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT key, value FROM options")
            .fetch_all(self.main())
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// Insert or replace options in one transaction.
    pub async fn save_options(&self, values: &[(String, String)]) -> Result<(), StoreError> {
        let mut tx = self.main().begin().await?;
        for (key, value) in values {
            sqlx::query(
                "INSERT INTO options (key, value) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key.clone())
            .bind(value.clone())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
