//! The pod network: one Linux bridge per cluster, one network namespace per
//! pod with its own address, and cluster DNS as each pod's hosts file
//! (`/etc/netns/<ns>/hosts`, which `ip netns exec` puts in place of
//! `/etc/hosts`).

use std::{
    collections::BTreeMap,
    net::Ipv4Addr,
    path::PathBuf,
    process::Command,
    sync::{
        Mutex,
        atomic::{AtomicU8, Ordering},
    },
};

/// Runs a command that sets up the network; its stderr in the error.
pub fn run(program: &str, args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new(program).args(args).output().map_err(|e| anyhow::anyhow!("{program}: {e}"))?;
    if !out.status.success() {
        anyhow::bail!("{program} {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// A pod's network namespace and address.
#[derive(Debug, Clone)]
pub struct PodNet {
    pub namespace: String,
    pub ip: Ipv4Addr,
    host_link: String,
}

/// The cluster's bridge and the addresses handed out on it.
#[derive(Debug)]
pub struct Network {
    pub bridge: String,
    prefix: [u8; 3],
    next: AtomicU8,
    pods: Mutex<BTreeMap<String, PodNet>>,
    etc: PathBuf,
}

impl Network {
    /// A bridge on 10.<a>.<b>.0/24, `id` making names and subnets unique.
    pub fn create(id: u16) -> anyhow::Result<Self> {
        let bridge = format!("atlbr{id}");
        let prefix = [10, 200 + (id / 250) as u8 % 50, (id % 250) as u8];
        let _ = run("ip", &["link", "del", &bridge]);
        run("ip", &["link", "add", &bridge, "type", "bridge"])?;
        let gateway = format!("{}.{}.{}.1/24", prefix[0], prefix[1], prefix[2]);
        run("ip", &["addr", "add", &gateway, "dev", &bridge])?;
        run("ip", &["link", "set", &bridge, "up"])?;
        Ok(Self { bridge, prefix, next: AtomicU8::new(2), pods: Mutex::default(), etc: PathBuf::from("/etc/netns") })
    }

    /// A namespace, an address and a veth pair for a new pod.
    pub fn add_pod(&self, pod_key: &str, passwd: &str) -> anyhow::Result<PodNet> {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        anyhow::ensure!(n < 255, "the pod network is full");
        let namespace = format!("{}-{n}", self.bridge);
        let host_link = format!("{}v{n}", self.bridge.trim_start_matches("atl"));
        let ip = Ipv4Addr::new(self.prefix[0], self.prefix[1], self.prefix[2], n);
        let _ = run("ip", &["netns", "del", &namespace]);
        run("ip", &["netns", "add", &namespace])?;
        run("ip", &["link", "add", &host_link, "type", "veth", "peer", "name", "eth0", "netns", &namespace])?;
        run("ip", &["link", "set", &host_link, "master", &self.bridge, "up"])?;
        let exec = |args: &[&str]| {
            let mut all = vec!["netns", "exec", &namespace];
            all.extend_from_slice(args);
            run("ip", &all)
        };
        exec(&["ip", "link", "set", "lo", "up"])?;
        exec(&["ip", "addr", "add", &format!("{ip}/24"), "dev", "eth0"])?;
        exec(&["ip", "link", "set", "eth0", "up"])?;
        let dir = self.etc.join(&namespace);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("hosts"), format!("127.0.0.1 localhost\n{ip} {pod_key}\n"))?;
        std::fs::write(dir.join("passwd"), passwd)?;
        let pod = PodNet { namespace, ip, host_link };
        self.pods.lock().unwrap().insert(pod_key.to_string(), pod.clone());
        Ok(pod)
    }

    /// Rewrites a pod's hosts file when its content changes, in place (the
    /// running processes see the bind-mounted inode) and never through an
    /// empty file: the new content is written over the old, then cut to size.
    pub fn set_hosts(&self, pod: &PodNet, content: &str) {
        use std::io::Write;
        let path = self.etc.join(&pod.namespace).join("hosts");
        if std::fs::read_to_string(&path).ok().as_deref() != Some(content)
            && let Ok(mut file) = std::fs::OpenOptions::new().write(true).open(&path)
        {
            let _ = file.write_all(content.as_bytes());
            let _ = file.set_len(content.len() as u64);
        }
    }

    pub fn remove_pod(&self, pod_key: &str) {
        if let Some(pod) = self.pods.lock().unwrap().remove(pod_key) {
            // Whatever escaped its container's process group (pg_ctl daemonizes) goes with the pod.
            kill_all_in(&pod.namespace);
            let _ = run("ip", &["link", "del", &pod.host_link]);
            let _ = run("ip", &["netns", "del", &pod.namespace]);
            let _ = std::fs::remove_dir_all(self.etc.join(&pod.namespace));
        }
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        let keys: Vec<String> = self.pods.lock().unwrap().keys().cloned().collect();
        for key in keys {
            self.remove_pod(&key);
        }
        let _ = run("ip", &["link", "del", &self.bridge]);
        // Only if this cluster was the last to use it.
        let _ = std::fs::remove_dir(&self.etc);
    }
}

/// SIGKILL to every process in a network namespace.
pub fn kill_all_in(namespace: &str) {
    let pids = Command::new("ip").args(["netns", "pids", namespace]).output().map(|o| o.stdout).unwrap_or_default();
    for pid in String::from_utf8_lossy(&pids).split_whitespace().filter_map(|p| p.parse::<i32>().ok()) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
    }
}
