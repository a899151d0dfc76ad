//! One connection pool per service over `sqlx::Any`: the URL chooses
//! PostgreSQL (`postgres://…`) or SQLite (`sqlite://…`), and the same SQL
//! (portable DDL, `$n` placeholders, integers and text only) runs on both.

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use std::time::Duration;

pub use sqlx::AnyPool as Pool;

/// Which database engine a pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn of_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else {
            anyhow::bail!("unsupported database URL (expected postgres:// or sqlite://)")
        }
    }
}

/// How much of a SQLite file is read through a memory map.
const SQLITE_MMAP: &str = "PRAGMA mmap_size = 268435456";

/// A pooled connection idle for longer is pinged before it is handed out.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(10);

/// Connects, retrying while the database is still starting, and migrates.
pub async fn connect(url: &str, migrator: &Migrator) -> anyhow::Result<Pool> {
    install_default_drivers();
    let backend = Backend::of_url(url)?;
    let options = AnyPoolOptions::new()
        .acquire_timeout(Duration::from_secs(5))
        // sqlx pings every connection it hands out by default: a round trip
        // (and, on SQLite, a hop to the connection's thread) before each
        // statement, up to half of a checkout's. Only a connection that sat
        // idle is pinged: that is when a restarted database or a dropped
        // route goes unnoticed.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > IDLE_BEFORE_PING {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    // Pages read through the OS's cache, mapped once for
                    // every connection, instead of copied into each
                    // connection's 2 MiB cache: on a large shop a listing's
                    // B-tree walks stop paying for copies and evictions.
                    // The price: a disk that fails under a mapped page
                    // stops the process (SIGBUS) rather than one statement;
                    // it restarts, as after any crash.
                    sqlx::Executor::execute(&mut *conn, SQLITE_MMAP).await?;
                }
                Ok(())
            })
        })
        // SQLite in WAL mode reads concurrently and queues writers (busy
        // timeout); every write transaction starts by writing, so no lock
        // upgrade can fail.
        .max_connections(match backend {
            Backend::Sqlite => 4,
            Backend::Postgres => 10,
        });
    let mut delay = Duration::from_millis(100);
    let pool = loop {
        match options.clone().connect(url).await {
            Ok(pool) => break pool,
            Err(e) if delay < Duration::from_secs(10) => {
                tracing::warn!(error = %e, "database not reachable yet, retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => return Err(anyhow::Error::new(e).context("connecting to the database")),
        }
    };
    if backend == Backend::Sqlite {
        sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
    }
    migrator.run(&pool).await.map_err(|e| anyhow::anyhow!("running migrations: {e}"))?;
    Ok(pool)
}

/// Calls `connect` until it succeeds, however long that takes (a database
/// on a fresh node may need minutes for its image pull and initdb), with
/// exponential back-off capped at 10 s. For processes that serve health
/// meanwhile; an embedded shop should fail fast instead.
pub async fn patiently<T, F, Fut>(what: &str, mut connect: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let mut delay = Duration::from_millis(200);
    let mut attempts = 0u32;
    loop {
        match connect().await {
            Ok(value) => return value,
            Err(e) => {
                attempts += 1;
                tracing::warn!(error = %format!("{e:#}"), attempts, retry_in = ?delay, "{what}: not ready yet");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}

/// SQLite URL for a service's file under a data directory (created on demand).
pub fn sqlite_url(data_dir: &std::path::Path, service: &str) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join(format!("{service}.db")).display())
}

/// True when the error is a unique or primary-key violation.
/// Planner statistics after a bulk load: without them PostgreSQL plans a
/// freshly filled table as if it were empty until autovacuum comes by (an
/// admin order listing took 400 ms instead of 30 in the scale bench).
pub async fn analyze(pool: &Pool) -> Result<(), sqlx::Error> {
    sqlx::query("ANALYZE").execute(pool).await.map(drop)
}

pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.is_unique_violation() || db.code().is_some_and(|c| c == "23505" || c == "2067" || c == "1555")
        }
        _ => false,
    }
}

/// A bound value of a query assembled at run time.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Int(i64),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Self {
        Arg::Text(s.to_string())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Self {
        Arg::Text(s)
    }
}

impl From<i64> for Arg {
    fn from(i: i64) -> Self {
        Arg::Int(i)
    }
}

/// SQL with `$n` placeholders numbered as values are added (portable to
/// PostgreSQL and SQLite, unlike `?`).
#[derive(Debug, Default)]
pub struct Sql {
    pub text: String,
    pub args: Vec<Arg>,
}

impl Sql {
    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    pub fn bind(&mut self, arg: Arg) -> &mut Self {
        self.args.push(arg);
        self.text.push_str(&format!("${}", self.args.len()));
        self
    }

    /// `INSERT INTO table (columns) VALUES (..), (..)`: one statement for many
    /// rows, which is what makes bulk loading fast on both databases.
    pub fn insert_rows(table: &str, columns: &[&str], rows: impl IntoIterator<Item = Vec<Arg>>) -> Self {
        let mut sql = Sql::default();
        sql.push(&format!("INSERT INTO {table} ({}) VALUES ", columns.join(", ")));
        for (i, row) in rows.into_iter().enumerate() {
            debug_assert_eq!(row.len(), columns.len());
            sql.push(if i == 0 { "(" } else { ", (" });
            for (j, arg) in row.into_iter().enumerate() {
                if j > 0 {
                    sql.push(", ");
                }
                sql.bind(arg);
            }
            sql.push(")");
        }
        sql
    }

    /// Inserts `rows` in as few statements as the bound-parameter limit
    /// allows; with `skip_existing`, rows that collide with existing ones
    /// are left out (`ON CONFLICT DO NOTHING`), which makes bulk loads rerunnable.
    pub async fn insert_all(
        conn: &mut sqlx::AnyConnection,
        table: &str,
        columns: &[&str],
        rows: &[Vec<Arg>],
        skip_existing: bool,
    ) -> Result<(), sqlx::Error> {
        // Well under SQLite's limit of 32 766 bound parameters per statement.
        const MAX_PARAMETERS: usize = 8_000;
        for chunk in rows.chunks((MAX_PARAMETERS / columns.len().max(1)).max(1)) {
            let mut insert = Sql::insert_rows(table, columns, chunk.iter().cloned());
            if skip_existing {
                insert.push(" ON CONFLICT DO NOTHING");
            }
            insert.query().execute(&mut *conn).await?;
        }
        Ok(())
    }

    pub fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
        self.args.iter().fold(sqlx::query(&self.text), |q, a| match a {
            Arg::Text(s) => q.bind(s.as_str()),
            Arg::Int(i) => q.bind(*i),
        })
    }

    pub fn query_scalar(&self) -> sqlx::query::QueryScalar<'_, sqlx::Any, i64, sqlx::any::AnyArguments<'_>> {
        self.args.iter().fold(sqlx::query_scalar(&self.text), |q, a| match a {
            Arg::Text(s) => q.bind(s.as_str()),
            Arg::Int(i) => q.bind(*i),
        })
    }
}
