//! `cargo xtask test`: installs what the whole test suite needs when it is
//! missing — system packages through apt (with sudo when not root), the
//! Python tools into a project-local virtual environment (`target/venv`,
//! never the system Python), Lighthouse into `target/npm` — then runs every test with nothing skipped
//! (`CI=true`: a missing prerequisite fails instead of skipping).
//!
//! Extra arguments go to `cargo test` (e.g. `cargo xtask test -p atelier-operator`).

use std::{
    path::{Path, PathBuf},
    process::{Command, ExitCode},
};

/// Debian packages: PostgreSQL server binaries (throwaway clusters),
/// Chromium + chromedriver (browser journeys), iproute2 + util-linux +
/// nftables (the cluster in a box's network namespaces, mounts, users and
/// NetworkPolicies), Node.js + npm (Lighthouse).
const SYSTEM_PACKAGES: [(&str, &str); 8] = [
    ("postgresql", "/usr/lib/postgresql"),
    ("chromium", "/usr/bin/chromium"),
    ("chromium-driver", "/usr/bin/chromedriver"),
    ("iproute2", "/usr/sbin/ip"),
    ("util-linux", "/usr/bin/setpriv"),
    ("nftables", "/usr/sbin/nft"),
    ("nodejs", "/usr/bin/node"),
    ("npm", "/usr/bin/npm"),
];

/// npm packages, installed into `target/npm`: Lighthouse (page quality scores).
const NPM_PACKAGES: [&str; 1] = ["lighthouse@12.2.3"];
/// What proves the npm packages above are installed.
const NPM_PROBE: &str = "node_modules/.bin/lighthouse";

/// PyPI packages: the real Helm engine and Kubernetes schemas (chart checks),
/// schemathesis (API fuzzing), axe-core (accessibility checks, as packaged
/// for Python).
const PYTHON_PACKAGES: [&str; 6] =
    ["helm-python-sdk", "kubernetes-validate", "jsonschema", "pyyaml", "schemathesis", "axe-core-python"];
/// Module names that prove the packages above are importable.
const PYTHON_IMPORTS: &str = "import helm_python, kubernetes_validate, jsonschema, yaml, schemathesis, axe_core_python";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => match test(&args[1..]) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("xtask: {e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: cargo xtask test [cargo test arguments]");
            ExitCode::from(2)
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{cmd:?} failed ({status})")) }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn install_system_packages() -> Result<(), String> {
    let missing: Vec<&str> =
        SYSTEM_PACKAGES.iter().filter(|(_, path)| !Path::new(path).exists()).map(|(package, _)| *package).collect();
    if missing.is_empty() {
        return Ok(());
    }
    println!("xtask: installing {} with apt-get", missing.join(" "));
    let sudo: &[&str] = if is_root() { &[] } else { &["sudo"] };
    let apt = |args: &[&str]| {
        let mut all: Vec<&str> = sudo.to_vec();
        all.push("apt-get");
        all.extend_from_slice(args);
        let mut cmd = Command::new(all[0]);
        cmd.args(&all[1..]).env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut cmd)
    };
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(&missing);
    apt(&install)
}

/// The project's virtual environment, with the Python tools in it.
fn python_environment() -> Result<PathBuf, String> {
    let venv = root().join("target").join("venv");
    let python = venv.join("bin").join("python3");
    if !python.exists() {
        println!("xtask: creating {}", venv.display());
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    let have = Command::new(&python).args(["-c", PYTHON_IMPORTS]).output().is_ok_and(|o| o.status.success());
    if !have {
        println!("xtask: installing {} into {}", PYTHON_PACKAGES.join(" "), venv.display());
        run(Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
            .args(PYTHON_PACKAGES))?;
    }
    Ok(venv.join("bin"))
}

/// The npm tools, in a project-local prefix (never global).
fn npm_tools() -> Result<(), String> {
    let prefix = root().join("target").join("npm");
    if prefix.join(NPM_PROBE).exists() {
        return Ok(());
    }
    println!("xtask: installing {} into {}", NPM_PACKAGES.join(" "), prefix.display());
    std::fs::create_dir_all(&prefix).map_err(|e| format!("{}: {e}", prefix.display()))?;
    run(Command::new("npm")
        .arg("install")
        .arg("--prefix")
        .arg(&prefix)
        .args(["--no-audit", "--no-fund", "--loglevel=error"])
        .args(NPM_PACKAGES))
}

fn test(extra: &[String]) -> Result<ExitCode, String> {
    install_system_packages()?;
    npm_tools()?;
    let bin = python_environment()?;
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root()).arg("test").arg("--workspace").args(extra).env("PATH", path).env("CI", "true");
    let status = cmd.status().map_err(|e| format!("cargo test: {e}"))?;
    Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
