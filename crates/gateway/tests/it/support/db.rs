//! A throw-away database per test.

use sqlx::Connection;

/// Where a test's data lives.
pub enum TestDb {
    /// A temp SQLite file.
    Sqlite(tempfile::TempDir),
    /// Another gateway's database (not cleaned up by this owner).
    Shared(Vec<String>),
    /// A fresh PostgreSQL database (dropped on `cleanup`).
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl TestDb {
    /// SQLite unless TEST_DATABASE_URL points at PostgreSQL.
    pub async fn create() -> Self {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if url.starts_with("postgres") => Self::postgres(&url).await,
            _ => Self::Sqlite(tempfile::tempdir().unwrap()),
        }
    }

    async fn postgres(admin_url: &str) -> Self {
        let name = format!("sy_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = sqlx::PgConnection::connect(admin_url)
            .await
            .expect("connect to TEST_DATABASE_URL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.ok();
        let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
        let url = format!("{base}/{name}");
        Self::Postgres {
            admin_url: admin_url.to_owned(),
            name,
            url,
        }
    }

    /// Flags that point the gateway at this database.
    pub fn args(&self) -> Vec<String> {
        match self {
            Self::Sqlite(dir) => vec![
                "--sqlite-path".into(),
                dir.path().join("switchyard.db").display().to_string(),
            ],
            Self::Postgres { url, .. } => vec!["--sql-dsn".into(), url.clone()],
            Self::Shared(args) => args.clone(),
        }
    }

    /// A handle to the same database that does not clean it up.
    pub fn share(&self) -> Self {
        Self::Shared(self.args())
    }

    /// Drop the PostgreSQL database.
    pub async fn cleanup(&self) {
        if let Self::Postgres {
            admin_url, name, ..
        } = self
            && let Ok(mut conn) = sqlx::PgConnection::connect(admin_url).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await;
        }
    }
}
