//! The images this cluster can run, and what each image's documented
//! contract says its entrypoint does. No registry: an image is a program on
//! this machine.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

/// The Atelier image's programs besides `/atelier` (see the Dockerfile): one
/// binary per role, which the operator's Deployments run.
const ROLE_BINARIES: [&str; 5] =
    ["atelier-auth", "atelier-product", "atelier-cart", "atelier-order", "atelier-gateway"];

/// A runnable image: its entrypoint and default command, the `PATH` its
/// programs are found on, and the users its `/etc/passwd` holds.
#[derive(Debug, Clone)]
pub struct Image {
    pub entrypoint: Vec<String>,
    /// The image's own programs by their path in the image (`/atelier`),
    /// with where each is on this machine.
    pub programs: BTreeMap<String, PathBuf>,
    pub cmd: Vec<String>,
    pub path: String,
    /// Extra `/etc/passwd` lines.
    pub passwd: Vec<String>,
    /// The image's `STOPSIGNAL`.
    pub stop_signal: nix::sys::signal::Signal,
}

impl Image {
    /// `argv` with its program where this machine holds it, when it is one
    /// of the image's own (`/atelier-gateway`), as is.
    pub fn on_host(&self, mut argv: Vec<String>) -> Vec<String> {
        if let Some(program) = argv.first_mut()
            && let Some(on_host) = self.programs.get(program.as_str())
        {
            *program = on_host.display().to_string();
        }
        argv
    }
}

/// Image references this cluster knows.
#[derive(Debug, Clone)]
pub struct Images {
    /// The reference of the Atelier image (what Shops and the operator name).
    pub atelier: String,
    /// The programs that image holds, by their path in it (`/atelier`,
    /// `/atelier-gateway`…), with where each is on this machine.
    pub atelier_programs: BTreeMap<String, PathBuf>,
    /// Where the PostgreSQL server binaries are (`initdb`, `postgres`, `pg_ctl`).
    pub postgres_bin: PathBuf,
    /// Where this cluster writes the scripts images carry.
    pub scripts: PathBuf,
}

const SYSTEM_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

impl Images {
    /// The images, unpacked under `dir` (the `atelier` binary and the role
    /// binaries built next to it are linked or copied there, so they are
    /// found wherever the build put them).
    pub fn new(atelier: &str, atelier_binary: &Path, dir: &Path) -> anyhow::Result<Self> {
        let postgres_bin = find_postgres_bin()
            .ok_or_else(|| anyhow::anyhow!("the PostgreSQL server binaries (initdb, postgres) are not installed"))?;
        let scripts = &dir.join("postgres");
        std::fs::create_dir_all(scripts)?;
        set_mode(dir, 0o755)?;
        let built = atelier_binary.parent().unwrap_or(Path::new("."));
        let mut atelier_programs = BTreeMap::new();
        for name in std::iter::once("atelier").chain(ROLE_BINARIES) {
            let source = if name == "atelier" { atelier_binary.to_path_buf() } else { built.join(name) };
            anyhow::ensure!(source.exists(), "{} is not built (cargo build builds every binary)", source.display());
            let binary = dir.join(name);
            let _ = std::fs::remove_file(&binary);
            if std::fs::hard_link(&source, &binary).is_err() {
                std::fs::copy(&source, &binary)?;
            }
            set_mode(&binary, 0o755)?;
            atelier_programs.insert(format!("/{name}"), binary);
        }
        let entrypoint = scripts.join("docker-entrypoint.sh");
        std::fs::write(&entrypoint, POSTGRES_ENTRYPOINT)?;
        set_mode(&entrypoint, 0o755)?;
        set_mode(scripts, 0o755)?;
        Ok(Self { atelier: atelier.into(), atelier_programs, postgres_bin, scripts: scripts.into() })
    }

    /// The image `reference` names, or an error the kubelet reports as
    /// `ErrImagePull`.
    pub fn resolve(&self, reference: &str) -> Result<Image, String> {
        if reference == self.atelier {
            return Ok(Image {
                entrypoint: vec!["/atelier".into()],
                programs: self.atelier_programs.clone(),
                cmd: vec![],
                path: SYSTEM_PATH.into(),
                passwd: vec![],
                stop_signal: nix::sys::signal::Signal::SIGTERM,
            });
        }
        let repository = reference.split([':', '@']).next().unwrap_or_default();
        if matches!(repository, "postgres" | "docker.io/library/postgres" | "library/postgres") {
            let alpine = reference.contains("alpine");
            // The official image's postgres user: uid 70 on Alpine, 999 on Debian.
            let uid = if alpine { 70 } else { 999 };
            return Ok(Image {
                entrypoint: vec!["docker-entrypoint.sh".into()],
                programs: BTreeMap::new(),
                cmd: vec!["postgres".into()],
                path: format!("{}:{}:{SYSTEM_PATH}", self.scripts.display(), self.postgres_bin.display()),
                passwd: vec![format!("postgres:x:{uid}:{uid}:PostgreSQL:/var/lib/postgresql:/bin/sh")],
                // The image's STOPSIGNAL: fast shutdown, not waiting for clients.
                stop_signal: nix::sys::signal::Signal::SIGINT,
            });
        }
        Err(format!("image {reference:?} is not available in this cluster"))
    }
}

fn find_postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

/// The official postgres image's entrypoint, as its documentation describes
/// it: on an empty `PGDATA`, initdb as `POSTGRES_USER` with
/// `POSTGRES_PASSWORD`, password authentication for remote hosts, then every
/// `/docker-entrypoint-initdb.d/*.sh` (run if executable, else sourced) and
/// `*.sql` (psql with `ON_ERROR_STOP`) against a server listening on the
/// socket only; then the server itself, listening everywhere.
const POSTGRES_ENTRYPOINT: &str = r#"#!/bin/sh
set -eu
if [ "${1:-}" = "postgres" ]; then
  shift
  : "${POSTGRES_USER:=postgres}"
  : "${PGDATA:=/var/lib/postgresql/data}"
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA"
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
      echo "error: database is uninitialized and POSTGRES_PASSWORD is not set" >&2
      exit 1
    fi
    pwfile="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" -D "$PGDATA" ${POSTGRES_INITDB_ARGS:-}
    rm -f "$pwfile"
    printf '\nhost all all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
    export PGPASSWORD="$POSTGRES_PASSWORD"
    for f in /docker-entrypoint-initdb.d/*; do
      case "$f" in
        *.sh)
          if [ -x "$f" ]; then echo "running $f"; "$f"; else echo "sourcing $f"; . "$f"; fi ;;
        *.sql)
          echo "running $f"
          psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc --dbname "${POSTGRES_DB:-$POSTGRES_USER}" -f "$f" ;;
        *) ;;
      esac
    done
    unset PGPASSWORD
    pg_ctl -D "$PGDATA" -m fast -w stop
    echo "PostgreSQL init process complete; ready for start up."
  fi
  exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
fi
exec "$@"
"#;
