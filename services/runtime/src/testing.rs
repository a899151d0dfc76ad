//! Test support: a throwaway PostgreSQL cluster started from the installed
//! server binaries (initdb + pg_ctl on a free port, in a temp dir), shared by
//! the tests of one test binary, each test getting a fresh database.
//!
//! Without the binaries the PostgreSQL variants are skipped with a notice;
//! under `CI=true` that is a failure.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{
        OnceLock,
        atomic::{AtomicU32, Ordering},
    },
};

pub struct TempPostgres {
    port: u16,
    /// pg_ctl, whether to run it as `postgres`, the data dir and server options.
    ctl: (PathBuf, bool, PathBuf, String),
    // When this pipe closes (the value is dropped, or the test process ends in
    // any way, statics included) the watchdog stops the server and deletes its
    // directory, so no cluster outlives its tests or fills the disk.
    _watchdog: std::process::ChildStdin,
}

static CLUSTER: OnceLock<Option<TempPostgres>> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(0);

fn pg_bin_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("ATELIER_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    dirs.sort();
    dirs.pop()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// Runs a server binary, as `postgres` when we are root (initdb refuses root).
fn pg_command(bin: &Path, as_postgres: bool) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(crash_safe: bool) -> Option<TempPostgres> {
    let Some(bin) = pg_bin_dir() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but the PostgreSQL server binaries are not installed (apt install postgresql)");
        }
        eprintln!("NOTICE: PostgreSQL server binaries not found; skipping the PostgreSQL variant of this test");
        return None;
    };
    let root = is_root();
    // Kept on drop: the watchdog deletes it once the server has stopped.
    let dir = tempfile::Builder::new().prefix("atelier-pg").tempdir().unwrap().keep();
    let data = dir.join("data");
    if root {
        Command::new("chown").args(["-R", "postgres"]).arg(&dir).status().unwrap();
    }
    let status = pg_command(&bin.join("initdb"), root)
        .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "-D"])
        .arg(&data)
        .stdout(Stdio::null())
        .status()
        .expect("initdb");
    assert!(status.success(), "initdb failed");
    let port = free_port();
    // Fast and unsafe unless the test crashes the server on purpose: then a
    // commit must reach the WAL before it is acknowledged (the machine itself
    // does not crash, so fsync can stay off).
    let durability =
        if crash_safe { "-c synchronous_commit=on" } else { "-c synchronous_commit=off -c full_page_writes=off" };
    // A small WAL keeps each cluster's footprint to its data (CI disks are small).
    let opts = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off {durability} -c max_connections=300 \
         -c wal_level=minimal -c max_wal_senders=0 -c max_wal_size=64MB -c min_wal_size=32MB",
        dir.display()
    );
    let status = pg_command(&bin.join("pg_ctl"), root)
        .args(["-w", "-s", "-D"])
        .arg(&data)
        .args(["-l"])
        .arg(dir.join("log"))
        .args(["-o", &opts, "start"])
        .status()
        .expect("pg_ctl start");
    assert!(status.success(), "pg_ctl start failed; see {}", dir.join("log").display());

    let stop = format!(
        "cat >/dev/null; {} {} -D {} -m immediate stop >/dev/null 2>&1; rm -rf {}",
        if root { "runuser -u postgres --" } else { "" },
        bin.join("pg_ctl").display(),
        data.display(),
        dir.display()
    );
    // Deliberately never waited for: it must outlive this process to stop the server.
    #[allow(clippy::zombie_processes)]
    let mut watchdog = Command::new("sh").args(["-c", &stop]).stdin(Stdio::piped()).spawn().expect("watchdog");
    let mut stdin = watchdog.stdin.take().unwrap();
    let _ = stdin.flush();
    Some(TempPostgres { port, ctl: (bin.join("pg_ctl"), root, data, opts), _watchdog: stdin })
}

impl TempPostgres {
    /// The shared cluster, started on first use; `None` when not installed.
    pub fn shared() -> Option<&'static TempPostgres> {
        CLUSTER.get_or_init(|| start(false)).as_ref()
    }

    /// A crash-safe cluster of one's own, for tests that kill and restart it.
    pub fn dedicated() -> Option<TempPostgres> {
        start(true)
    }

    /// Stops the server as a crash would (`-m immediate`).
    pub fn kill(&self) {
        let (ctl, root, data, _) = &self.ctl;
        let status = pg_command(ctl, *root)
            .args(["-s", "-D"])
            .arg(data)
            .args(["-m", "immediate", "stop"])
            .status()
            .expect("pg_ctl stop");
        assert!(status.success(), "pg_ctl stop failed");
    }

    /// Starts the server again on the same port and data.
    pub fn start_again(&self) {
        let (ctl, root, data, opts) = &self.ctl;
        let status = pg_command(ctl, *root)
            .args(["-w", "-s", "-D"])
            .arg(data)
            .arg("-l")
            .arg(data.with_file_name("log"))
            .args(["-o", opts, "start"])
            .status()
            .expect("pg_ctl start");
        assert!(status.success(), "pg_ctl start failed");
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A URL to a brand-new, empty database.
    pub async fn fresh_database(&self) -> String {
        use sqlx::Connection as _;
        let name = format!("t{}_{}", std::process::id(), NEXT_DB.fetch_add(1, Ordering::Relaxed));
        let admin = format!("postgres://postgres@127.0.0.1:{}/postgres", self.port);
        let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect to test cluster");
        sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str()).await.expect("create database");
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

/// Database URLs a test should run against: a fresh SQLite file always, and a
/// fresh PostgreSQL database when the server binaries are installed.
pub async fn database_urls(dir: &Path) -> Vec<(&'static str, String)> {
    let n = NEXT_DB.fetch_add(1, Ordering::Relaxed);
    let mut urls = vec![("sqlite", format!("sqlite://{}?mode=rwc", dir.join(format!("db{n}.sqlite")).display()))];
    if let Some(pg) = TempPostgres::shared() {
        urls.push(("postgres", pg.fresh_database().await));
    }
    urls
}
