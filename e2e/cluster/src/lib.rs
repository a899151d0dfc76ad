//! A cluster in a box. The Atelier operator reconciles Shops against the
//! in-memory API of kube-fake-client; this crate then plays what a real
//! cluster would do with the objects it wrote, from their Kubernetes
//! semantics alone:
//!
//! - kube-controller-manager ([`workloads`]): Deployments, StatefulSets
//!   (with claims that outlive pods) and Jobs make pods; statuses are written
//!   back; the garbage collector follows owner references.
//! - the kubelet ([`kubelet`], [`container`]): every container is a real
//!   process with its command, environment, volumes, user and read-only root,
//!   in the pod's own network namespace; startup, liveness and readiness
//!   probes (gRPC, HTTP, TCP, exec) with the spec's timings; restarts with
//!   back-off.
//! - kube-proxy and cluster DNS ([`network`]): Service names resolve, in each
//!   pod's hosts file, to the ready endpoints; [`Cluster::expose`] forwards a
//!   host port to a Service, connection by connection, as kube-proxy would.
//! - a CNI plugin ([`policy`]): NetworkPolicies enforced with nftables in
//!   each pod's network namespace.
//!
//! Needs root (network namespaces, mounts), `ip`, `setpriv`, `nft` and the
//! PostgreSQL server binaries.

pub mod container;
pub mod images;
pub mod kubelet;
pub mod network;
pub mod pod_spec;
pub mod policy;
pub mod service_proxy;
pub mod workloads;

use atelier_operator::{
    crd::Shop,
    reconcile::{Context, reconcile},
};
use k8s_openapi::api::{
    apps::v1::{Deployment, StatefulSet},
    batch::v1::Job,
    core::v1::Pod,
    networking::v1::NetworkPolicy,
};
use kube::{Api, Client, ResourceExt, api::ListParams};
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

pub use images::Images;

/// Why this machine cannot run a cluster in a box, if it cannot.
pub fn missing_prerequisites() -> Option<String> {
    if !nix_is_root() {
        return Some("the cluster in a box needs root (network namespaces and mounts)".into());
    }
    for tool in ["ip", "setpriv", "mount", "nft"] {
        if !Path::new("/usr/bin").join(tool).exists()
            && !Path::new("/usr/sbin").join(tool).exists()
            && !Path::new("/bin").join(tool).exists()
            && !Path::new("/sbin").join(tool).exists()
        {
            return Some(format!("{tool} is not installed"));
        }
    }
    if std::fs::read_dir("/usr/lib/postgresql").is_err() {
        return Some("the PostgreSQL server binaries are not installed (apt install postgresql)".into());
    }
    None
}

fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

/// The running cluster. Dropping it stops every process and removes every
/// namespace, link and file it made.
pub struct Cluster {
    pub client: Client,
    pub namespace: String,
    kubelet: Arc<kubelet::Kubelet>,
    controllers: Arc<workloads::Controllers>,
    endpoints: Arc<Mutex<BTreeMap<String, Vec<String>>>>,
    /// Pods of other namespaces (see [`Cluster::outsider`]).
    outsiders: Arc<Mutex<Vec<policy::Peer>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    operator_paused: Arc<std::sync::atomic::AtomicBool>,
    state: PathBuf,
    net: Arc<network::Network>,
    /// Passes the node has completed (see [`Cluster::settled`]).
    passes: Arc<tokio::sync::watch::Sender<u64>>,
}

/// One cluster at a time per test process: they share the host's mount
/// points, and two cores run one shop at a time well.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Cluster {
    /// Starts an empty cluster whose node runs `atelier_image` from
    /// `atelier_binary`; state lives under `state_root`, which no pod may
    /// mount over (so not under `/tmp`, which pods often mount).
    pub async fn start(atelier_image: &str, atelier_binary: &Path, state_root: &Path) -> anyhow::Result<ClusterGuard> {
        let lock = ONE_AT_A_TIME.lock().await;
        if let Some(missing) = missing_prerequisites() {
            anyhow::bail!("{missing}");
        }
        let root = state_root.to_path_buf();
        let machine_lock = tokio::task::spawn_blocking(move || lock_machine(&root)).await??;
        reclaim_abandoned(state_root);
        let id = (std::process::id() % 9000) as u16;
        let state = state_root.join(format!("cluster-{id}"));
        let _ = std::fs::remove_dir_all(&state);
        std::fs::create_dir_all(&state)?;
        std::fs::write(state.join("owner.pid"), std::process::id().to_string())?;
        set_mode(state_root, 0o755)?;
        set_mode(&state, 0o755)?;
        let images = Images::new(atelier_image, atelier_binary, &state.join("images"))?;
        let namespace = "shops".to_string();
        let client = kube_fake_client::ClientBuilder::new()
            .with_resource::<Shop>()
            .with_status_subresource::<Shop>()
            .with_status_subresource::<Deployment>()
            .with_status_subresource::<StatefulSet>()
            .with_status_subresource::<Job>()
            .with_status_subresource::<Pod>()
            .build()
            .await?;
        let net = Arc::new(network::Network::create(id)?);
        let kubelet = Arc::new(kubelet::Kubelet::new(client.clone(), &namespace, images, net.clone(), &state));
        let controllers = Arc::new(workloads::Controllers { client: client.clone(), namespace: namespace.clone() });
        let mut cluster = Cluster {
            client,
            namespace,
            kubelet,
            controllers,
            endpoints: Arc::default(),
            outsiders: Arc::default(),
            tasks: vec![],
            operator_paused: Arc::default(),
            state,
            net,
            passes: Arc::new(tokio::sync::watch::Sender::new(0)),
        };
        cluster.spawn_loops();
        Ok(ClusterGuard { cluster: Some(cluster), _lock: lock, _machine_lock: machine_lock })
    }

    fn spawn_loops(&mut self) {
        // The operator: reconciles every Shop, as its controller would on
        // each change and requeue.
        let (client, ns, paused) = (self.client.clone(), self.namespace.clone(), self.operator_paused.clone());
        self.tasks.push(tokio::spawn(async move {
            let ctx = Context::new(client.clone());
            loop {
                if !paused.load(std::sync::atomic::Ordering::Relaxed) {
                    let shops = Api::<Shop>::namespaced(client.clone(), &ns).list(&ListParams::default()).await;
                    for shop in shops.map(|l| l.items).unwrap_or_default() {
                        if let Err(e) = reconcile(Arc::new(shop), ctx.clone()).await {
                            eprintln!("cluster: reconcile: {e}");
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }));
        // The control plane and the node.
        let (controllers, kubelet, endpoints, outsiders, passes) = (
            self.controllers.clone(),
            self.kubelet.clone(),
            self.endpoints.clone(),
            self.outsiders.clone(),
            self.passes.clone(),
        );
        self.tasks.push(tokio::spawn(async move {
            loop {
                if let Err(e) = controllers.sync().await {
                    eprintln!("cluster: controllers: {e:#}");
                }
                match controllers.hosts().await {
                    Ok((hosts, ready)) => {
                        *endpoints.lock().unwrap() = ready;
                        if let Err(e) = kubelet.sync(&hosts).await {
                            eprintln!("cluster: kubelet: {e:#}");
                        }
                    }
                    Err(e) => eprintln!("cluster: services: {e:#}"),
                }
                let others = outsiders.lock().unwrap().clone();
                let policies = Api::<NetworkPolicy>::namespaced(controllers.client.clone(), &controllers.namespace)
                    .list(&ListParams::default())
                    .await;
                match policies {
                    Ok(policies) => {
                        if let Err(e) = kubelet.enforce(&policies.items, &others).await {
                            eprintln!("cluster: network policies: {e:#}");
                        }
                    }
                    Err(e) => eprintln!("cluster: network policies: {e}"),
                }
                passes.send_modify(|n| *n += 1);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }));
    }

    /// Creates a Shop in the cluster's namespace.
    pub async fn apply(&self, mut shop: Shop) -> anyhow::Result<()> {
        shop.metadata.namespace = Some(self.namespace.clone());
        Api::<Shop>::namespaced(self.client.clone(), &self.namespace).create(&Default::default(), &shop).await?;
        Ok(())
    }

    pub async fn shop(&self, name: &str) -> anyhow::Result<Shop> {
        Ok(Api::<Shop>::namespaced(self.client.clone(), &self.namespace).get(name).await?)
    }

    /// The status of condition `type_` of Shop `name`: (status, reason, message).
    pub async fn condition(&self, name: &str, type_: &str) -> Option<(String, String, String)> {
        let shop = self.shop(name).await.ok()?;
        let c = shop.status?.conditions.into_iter().find(|c| c.type_ == type_)?;
        Some((c.status, c.reason, c.message))
    }

    /// Waits until `check` returns Some, polling; fails after `timeout` with
    /// `what` and the last state seen.
    pub async fn wait_for<T, F, Fut>(&self, what: &str, timeout: Duration, mut check: F) -> anyhow::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let started = Instant::now();
        loop {
            if let Some(v) = check().await {
                return Ok(v);
            }
            if started.elapsed() > timeout {
                anyhow::bail!("timed out after {timeout:?} waiting for {what}\n{}", self.describe().await);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the node has made a whole pass (controllers, pods, DNS,
    /// NetworkPolicies) that began after this call: what the API holds now
    /// is then in force on the node.
    pub async fn settled(&self) {
        let mut passes = self.passes.subscribe();
        let wanted = *passes.borrow_and_update() + 2;
        while *passes.borrow_and_update() < wanted {
            if passes.changed().await.is_err() {
                return;
            }
        }
    }

    /// Ready endpoints of Service `name`, as cluster DNS answers.
    pub fn endpoints(&self, service: &str) -> Vec<String> {
        self.endpoints.lock().unwrap().get(service).cloned().unwrap_or_default()
    }

    /// A host port forwarding to Service `service` on `port` (what a
    /// NodePort or an ingress controller gives users outside the cluster).
    pub async fn expose(&self, service: &str, port: u16) -> anyhow::Result<service_proxy::ServiceProxy> {
        service_proxy::ServiceProxy::start(self.endpoints.clone(), service, port).await
    }

    /// The node's address on the pod network.
    pub fn node_ip(&self) -> std::net::Ipv4Addr {
        self.net.node_ip()
    }

    /// What a TCP connection from running pod `pod` to `ip:port` meets.
    pub fn reach(&self, pod: &str, ip: &str, port: u16) -> network::Reach {
        match self.net.pod(pod) {
            Some(net) => self.net.reach(&net, ip, port),
            None => panic!("pod {pod} does not run"),
        }
    }

    /// A pod in another namespace (labelled `namespace_labels`), with
    /// `labels`: only its network, to try connections from. It goes when
    /// dropped.
    pub fn outsider(&self, name: &str, namespace: &str, namespace_labels: &[(&str, &str)]) -> Outsider {
        let key = format!("{namespace}.{name}");
        let net = self.net.add_pod(&key, "").expect("an outsider's network");
        let mut ns_labels: BTreeMap<String, String> =
            namespace_labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ns_labels.insert("kubernetes.io/metadata.name".into(), namespace.into());
        let peer = policy::Peer {
            key: key.clone(),
            namespace: namespace.into(),
            namespace_labels: ns_labels,
            labels: [("app".to_string(), name.to_string())].into(),
            ip: net.ip.to_string(),
        };
        self.outsiders.lock().unwrap().push(peer);
        Outsider { key, net, network: self.net.clone(), outsiders: self.outsiders.clone() }
    }

    /// The pods whose labels include `labels`.
    pub async fn pods(&self, labels: &str) -> Vec<Pod> {
        Api::<Pod>::namespaced(self.client.clone(), &self.namespace)
            .list(&ListParams::default().labels(labels))
            .await
            .map(|l| l.items)
            .unwrap_or_default()
    }

    /// Kills a container's processes with SIGKILL, as the OOM killer would.
    pub fn kill(&self, pod: &str, container: &str) -> bool {
        match self.kubelet.container_pid(pod, container) {
            Some(pid) => {
                nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGKILL)
                    .is_ok()
            }
            None => false,
        }
    }

    /// Makes every pull of `image` take `delay` from now (a slow registry).
    pub fn slow_pull(&self, image: &str, delay: Duration) {
        self.kubelet.slow_pull(image, delay);
    }

    /// Stops or resumes the operator (to change the cluster behind its back).
    pub fn pause_operator(&self, paused: bool) {
        self.operator_paused.store(paused, std::sync::atomic::Ordering::Relaxed);
    }

    /// A container's log so far.
    pub fn log(&self, pod: &str, container: &str) -> String {
        std::fs::read_to_string(self.state.join("pods").join(pod).join(format!("{container}.log"))).unwrap_or_default()
    }

    /// Log lines containing `needle`, of every container that ran, as
    /// "pod/container: line".
    pub fn log_lines(&self, needle: &str) -> Vec<String> {
        let mut lines = vec![];
        for dir in ["pods", "logs"] {
            for pod in std::fs::read_dir(self.state.join(dir)).into_iter().flatten().flatten() {
                for log in std::fs::read_dir(pod.path()).into_iter().flatten().flatten() {
                    let (pod, file) = (pod.file_name(), log.file_name());
                    let container = file.to_string_lossy().trim_end_matches(".log").to_string();
                    for line in std::fs::read_to_string(log.path()).unwrap_or_default().lines() {
                        if line.contains(needle) {
                            lines.push(format!("{}/{container}: {line}", pod.to_string_lossy()));
                        }
                    }
                }
            }
        }
        lines
    }

    /// What the cluster looks like: pods, their states and restarts, the
    /// Shop's conditions — for failure messages.
    pub async fn describe(&self) -> String {
        let mut out = String::new();
        for pod in self.pods("").await {
            let status = pod.status.clone().unwrap_or_default();
            out.push_str(&format!(
                "pod {} {} {}\n",
                pod.name_any(),
                status.phase.unwrap_or_default(),
                status.pod_ip.unwrap_or_default()
            ));
            for c in status.container_statuses.iter().flatten() {
                let state = c.state.as_ref().map(|s| {
                    if let Some(w) = &s.waiting {
                        format!(
                            "waiting {} {}",
                            w.reason.clone().unwrap_or_default(),
                            w.message.clone().unwrap_or_default()
                        )
                    } else if let Some(t) = &s.terminated {
                        format!("terminated {} {}", t.exit_code, t.reason.clone().unwrap_or_default())
                    } else {
                        "running".into()
                    }
                });
                out.push_str(&format!(
                    "  {} ready={} restarts={} {}\n",
                    c.name,
                    c.ready,
                    c.restart_count,
                    state.unwrap_or_default()
                ));
                let log = self.log(&pod.name_any(), &c.name);
                let tail: Vec<&str> = log.lines().rev().take(6).collect();
                for line in tail.into_iter().rev() {
                    out.push_str(&format!("    | {}\n", line.chars().take(300).collect::<String>()));
                }
            }
        }
        for shop in Api::<Shop>::namespaced(self.client.clone(), &self.namespace)
            .list(&ListParams::default())
            .await
            .map(|l| l.items)
            .unwrap_or_default()
        {
            for c in shop.status.clone().map(|s| s.conditions).unwrap_or_default() {
                out.push_str(&format!(
                    "shop {} {}={} {}: {}\n",
                    shop.name_any(),
                    c.type_,
                    c.status,
                    c.reason,
                    c.message
                ));
            }
        }
        out
    }
}

/// A pod of another namespace, as far as the network is concerned.
pub struct Outsider {
    key: String,
    net: network::PodNet,
    network: Arc<network::Network>,
    outsiders: Arc<Mutex<Vec<policy::Peer>>>,
}

impl Outsider {
    /// What a TCP connection from this pod to `ip:port` meets.
    pub fn reach(&self, ip: &str, port: u16) -> network::Reach {
        self.network.reach(&self.net, ip, port)
    }
}

impl Drop for Outsider {
    fn drop(&mut self) {
        self.outsiders.lock().unwrap().retain(|p| p.key != self.key);
        self.network.remove_pod(&self.key);
    }
}

/// Holds the cluster (and the right to run one); stops everything on drop,
/// also when a test panics.
pub struct ClusterGuard {
    cluster: Option<Cluster>,
    _lock: tokio::sync::MutexGuard<'static, ()>,
    /// Released when dropped, after the cluster is gone (fields drop after `drop`).
    _machine_lock: nix::fcntl::Flock<std::fs::File>,
}

impl std::ops::Deref for ClusterGuard {
    type Target = Cluster;
    fn deref(&self) -> &Cluster {
        self.cluster.as_ref().expect("the cluster runs until dropped")
    }
}

impl Drop for ClusterGuard {
    fn drop(&mut self) {
        let Some(mut cluster) = self.cluster.take() else { return };
        let tasks = std::mem::take(&mut cluster.tasks);
        for t in &tasks {
            t.abort();
        }
        let kubelet = cluster.kubelet.clone();
        // Stopping is async: run it to completion on a runtime of its own,
        // once the loops have really stopped (none may start a pod meanwhile).
        let stopper = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                for t in tasks {
                    let _ = t.await;
                }
                kubelet.stop_all().await;
            });
        });
        let _ = stopper.join();
        let _ = std::fs::remove_dir_all(&cluster.state);
        // The state root too, when no other cluster uses it.
        if let Some(root) = cluster.state.parent() {
            let _ = std::fs::remove_dir(root);
        }
    }
}

/// A test process killed outright (SIGKILL, a CI timeout) runs no Drop:
/// what its cluster made — pod processes, namespaces, the bridge, files — is
/// removed by the next cluster that starts.
fn reclaim_abandoned(state_root: &Path) {
    let Ok(entries) = std::fs::read_dir(state_root) else { return };
    for entry in entries.flatten() {
        let dir = entry.path();
        let Some(id) = dir.file_name().and_then(|n| n.to_str()?.strip_prefix("cluster-")?.parse::<u16>().ok()) else {
            continue;
        };
        let owner = std::fs::read_to_string(dir.join("owner.pid")).ok().and_then(|p| p.trim().parse::<u32>().ok());
        if owner.is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists()) {
            continue;
        }
        eprintln!("cluster: reclaiming cluster-{id}, left behind by a test process that is gone");
        let bridge = format!("atlbr{id}");
        let namespaces =
            std::process::Command::new("ip").args(["netns", "list"]).output().map(|o| o.stdout).unwrap_or_default();
        for ns in String::from_utf8_lossy(&namespaces).lines().filter_map(|l| l.split_whitespace().next()) {
            if !ns.starts_with(&format!("{bridge}-")) {
                continue;
            }
            let pids = std::process::Command::new("ip")
                .args(["netns", "pids", ns])
                .output()
                .map(|o| o.stdout)
                .unwrap_or_default();
            for pid in String::from_utf8_lossy(&pids).split_whitespace().filter_map(|p| p.parse::<i32>().ok()) {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
            }
            let _ = network::run("ip", &["netns", "del", ns]);
            let _ = std::fs::remove_dir_all(Path::new("/etc/netns").join(ns));
        }
        let _ = network::run("ip", &["link", "del", &bridge]);
        let _ = std::fs::remove_dir(Path::new("/etc/netns"));
        for point in std::fs::read_to_string(dir.join("mount-points")).unwrap_or_default().lines() {
            let _ = std::fs::remove_dir(point);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// One cluster at a time per machine, too (test processes run side by
/// side, and clusters share the host's mount points): an exclusive lock on
/// the state root, which the last cluster removes — so a lock taken on a
/// root that was removed meanwhile is taken again on the new one.
fn lock_machine(state_root: &Path) -> anyhow::Result<nix::fcntl::Flock<std::fs::File>> {
    use std::os::unix::fs::MetadataExt;
    loop {
        std::fs::create_dir_all(state_root)?;
        let dir = std::fs::File::open(state_root)?;
        let dir = nix::fcntl::Flock::lock(dir, nix::fcntl::FlockArg::LockExclusive).map_err(|(_, e)| e)?;
        let (held, now) = (dir.metadata()?, std::fs::metadata(state_root));
        if now.is_ok_and(|now| now.ino() == held.ino() && now.dev() == held.dev()) {
            return Ok(dir);
        }
    }
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}
