//! A minimal dynamic SQL builder that numbers placeholders `$1…$N`, which
//! both SQLite and PostgreSQL accept (sqlx's `QueryBuilder<Any>` emits `?`,
//! which PostgreSQL rejects). For statements with thousands of parameters on
//! SQLite, [`Sql::positional`] emits anonymous `?` instead: SQLite resolves
//! each named `$N` with a linear scan, which makes huge statements quadratic.

use std::fmt::Write as _;

use sqlx::any::{Any, AnyArguments};
use sqlx::{Arguments, Encode, Type};

use super::StoreError;
use super::values::Value;

/// SQL text with its bound arguments.
#[derive(Default)]
pub struct Sql {
    text: String,
    args: AnyArguments,
    count: usize,
    anonymous: bool,
}

impl Sql {
    /// Start with fixed SQL text.
    pub fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            ..Self::default()
        }
    }

    /// Start with fixed SQL text, using anonymous `?` placeholders (SQLite only).
    pub fn positional(text: &str) -> Self {
        Self {
            anonymous: true,
            ..Self::new(text)
        }
    }

    /// Make room for `values` more placeholders and their values, so a
    /// many-row statement is not regrown (and copied) as it is built.
    pub fn reserve(&mut self, values: usize) -> &mut Self {
        self.text.reserve(values * 2);
        self.args.reserve(values, 0);
        self
    }

    /// Append fixed SQL text (never user input).
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Append a placeholder bound to `value`.
    pub fn bind<T>(&mut self, value: T) -> Result<&mut Self, StoreError>
    where
        T: for<'q> Encode<'q, Any> + Type<Any>,
    {
        self.count += 1;
        if self.anonymous {
            self.text.push('?');
        } else {
            let _ = write!(self.text, "${}", self.count);
        }
        self.args
            .add(value)
            .map_err(|e| StoreError::Database(sqlx::Error::Encode(e)))?;
        Ok(self)
    }

    /// Bind one value of a write statement (owned by sqlx's arguments).
    pub fn bind_value(&mut self, value: Value<'_>) -> Result<&mut Self, StoreError> {
        match value {
            Value::Int(v) => self.bind(v),
            Value::Real(v) => self.bind(v),
            Value::Text(v) => self.bind(v.to_owned()),
        }
    }

    /// Bind `values` as rows of `width` values: `(…),(…)`.
    pub fn bind_rows(
        &mut self,
        values: &[Value<'_>],
        width: usize,
    ) -> Result<&mut Self, StoreError> {
        self.reserve(values.len());
        for (row, chunk) in values.chunks(width.max(1)).enumerate() {
            self.push(if row == 0 { "(" } else { ",(" });
            for (column, value) in chunk.iter().enumerate() {
                if column > 0 {
                    self.push(",");
                }
                self.bind_value(*value)?;
            }
            self.push(")");
        }
        Ok(self)
    }

    /// The SQL text (for tests and logs).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Split into text and arguments for `sqlx::query_with`.
    pub fn into_parts(self) -> (sqlx::AssertSqlSafe<String>, AnyArguments) {
        (sqlx::AssertSqlSafe(self.text), self.args)
    }
}

/// A page request: 1-based page number and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Page number (1-based).
    pub page: i64,
    /// Rows per page.
    pub per_page: i64,
}

impl Page {
    /// Largest allowed page size.
    pub const MAX_PER_PAGE: i64 = 100;

    /// Clamp client values: page ≥ 1, 1 ≤ per_page ≤ 100 (default 10).
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> Self {
        Self {
            page: page.unwrap_or(1).max(1),
            per_page: per_page
                .filter(|p| *p > 0)
                .unwrap_or(10)
                .min(Self::MAX_PER_PAGE),
        }
    }

    /// Rows to skip.
    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }

    /// Append `LIMIT … OFFSET …`.
    pub fn push_limit(&self, sql: &mut Sql) -> Result<(), StoreError> {
        sql.push(" LIMIT ")
            .bind(self.per_page)?
            .push(" OFFSET ")
            .bind(self.offset())?;
        Ok(())
    }
}

/// A `field-asc|desc` ordering checked against an allow-list of columns.
pub fn order_clause(order: Option<&str>, allowed: &[&str], default: &str) -> String {
    let Some(order) = order.filter(|o| !o.is_empty()) else {
        return default.to_owned();
    };
    let (field, dir) = order.rsplit_once('-').unwrap_or((order, "desc"));
    let dir = if dir.eq_ignore_ascii_case("asc") {
        "ASC"
    } else {
        "DESC"
    };
    match allowed.iter().find(|a| **a == field) {
        Some(col) => format!(" ORDER BY {col} {dir}, id DESC"),
        None => default.to_owned(),
    }
}

/// A `LIKE` pattern matching `needle` anywhere, with wildcards escaped.
pub fn contains_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_placeholders() {
        let mut sql = Sql::new("SELECT * FROM t WHERE a = ");
        sql.bind(1_i64)
            .unwrap()
            .push(" AND b = ")
            .bind("x".to_owned())
            .unwrap();
        assert_eq!(sql.text(), "SELECT * FROM t WHERE a = $1 AND b = $2");
    }

    #[test]
    fn positional_placeholders() {
        let mut sql = Sql::positional("VALUES (");
        sql.bind(1_i64)
            .unwrap()
            .push(", ")
            .bind(2_i64)
            .unwrap()
            .push(")");
        assert_eq!(sql.text(), "VALUES (?, ?)");
    }

    #[test]
    fn page_clamps() {
        assert_eq!(
            Page::new(None, None),
            Page {
                page: 1,
                per_page: 10
            }
        );
        assert_eq!(
            Page::new(Some(0), Some(1000)),
            Page {
                page: 1,
                per_page: 100
            }
        );
        assert_eq!(Page::new(Some(3), Some(20)).offset(), 40);
    }

    #[test]
    fn order_allow_list() {
        assert_eq!(
            order_clause(Some("priority-asc"), &["priority"], "D"),
            " ORDER BY priority ASC, id DESC"
        );
        assert_eq!(order_clause(Some("x;drop-asc"), &["priority"], "D"), "D");
    }

    #[test]
    fn like_escapes() {
        assert_eq!(contains_pattern("a%B_"), "%a\\%b\\_%");
    }
}
