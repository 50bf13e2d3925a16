//! Small lookups the admin API needs beyond the per-table query files.

use super::{Store, StoreError};
use crate::model::token::Token;

impl Store {
    /// The token named exactly `name` in `group`, if any.
    pub async fn token_by_name(
        &self,
        group: &str,
        name: &str,
    ) -> Result<Option<Token>, StoreError> {
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM tokens WHERE group_id = $1 AND name = $2")
                .bind(group)
                .bind(name)
                .fetch_optional(self.main())
                .await?;
        match id {
            Some(id) => self.get_token(Some(group), id).await.map(Some),
            None => Ok(None),
        }
    }
}
