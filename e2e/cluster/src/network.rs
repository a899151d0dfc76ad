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
    /// The NetworkPolicy rules in place in each pod's namespace.
    rules: Mutex<BTreeMap<String, Option<String>>>,
    etc: PathBuf,
}

/// What a connection attempt from inside a pod met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    Connected,
    /// Reset: nothing listens there.
    Refused,
    /// No answer: a policy dropped it.
    Dropped,
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
        Ok(Self {
            bridge,
            prefix,
            next: AtomicU8::new(2),
            pods: Mutex::default(),
            rules: Mutex::default(),
            etc: PathBuf::from("/etc/netns"),
        })
    }

    /// The node's address on the pod network (the kubelet's, the host's).
    pub fn node_ip(&self) -> Ipv4Addr {
        Ipv4Addr::new(self.prefix[0], self.prefix[1], self.prefix[2], 1)
    }

    /// Puts a pod's NetworkPolicy rules in place when they changed (None:
    /// no policy selects it, everything passes).
    pub fn enforce(&self, pod: &PodNet, ruleset: Option<String>) {
        use std::io::Write;
        let mut rules = self.rules.lock().unwrap();
        if rules.get(&pod.namespace).is_some_and(|r| *r == ruleset) {
            return;
        }
        let script = crate::policy::replacement(ruleset.as_deref());
        let applied = Command::new("ip")
            .args(["netns", "exec", &pod.namespace, "nft", "-f", "-"])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                child.stdin.take().expect("piped").write_all(script.as_bytes())?;
                child.wait_with_output()
            });
        match applied {
            Ok(out) if out.status.success() => {
                rules.insert(pod.namespace.clone(), ruleset);
            }
            Ok(out) => {
                eprintln!("cluster: nft in {}: {}\n{script}", pod.namespace, String::from_utf8_lossy(&out.stderr))
            }
            Err(e) => eprintln!("cluster: nft: {e}"),
        }
    }

    /// Tries a TCP connection to `ip:port` from inside a pod's namespace.
    pub fn reach(&self, pod: &PodNet, ip: &str, port: u16) -> Reach {
        let status = Command::new("ip")
            .args(["netns", "exec", &pod.namespace, "timeout", "2", "bash", "-c"])
            .arg(format!("exec 3<>/dev/tcp/{ip}/{port}"))
            .stderr(std::process::Stdio::null())
            .status();
        match status.ok().and_then(|s| s.code()) {
            Some(0) => Reach::Connected,
            Some(124) => Reach::Dropped,
            _ => Reach::Refused,
        }
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
    /// empty or mixed file: the new content, padded with blank lines to the
    /// old length, is written over the old in one write, then cut to size.
    pub fn set_hosts(&self, pod: &PodNet, content: &str) {
        use std::io::Write;
        let path = self.etc.join(&pod.namespace).join("hosts");
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        if old != content
            && let Ok(mut file) = std::fs::OpenOptions::new().write(true).open(&path)
        {
            let mut padded = content.to_string();
            padded.extend(std::iter::repeat_n('\n', old.len().saturating_sub(content.len())));
            let _ = file.write_all(padded.as_bytes());
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
            self.rules.lock().unwrap().remove(&pod.namespace);
        }
    }

    /// The network of a pod by its key.
    pub fn pod(&self, pod_key: &str) -> Option<PodNet> {
        self.pods.lock().unwrap().get(pod_key).cloned()
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
