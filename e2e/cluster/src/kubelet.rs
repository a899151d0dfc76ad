//! The kubelet: every container of every pod runs as a real process in the
//! pod's network namespace, with its mounts, a read-only root when asked, and
//! its user; probes follow the kubelet's rules; container states and pod
//! status are written back to the API.

use crate::{
    container::ContainerRun,
    images::Images,
    network::{Network, PodNet},
    pod_spec,
    policy::Peer,
};
use k8s_openapi::{
    api::core::v1::{Container, ContainerState, ContainerStateWaiting, ContainerStatus, Pod, PodCondition, PodStatus},
    api::networking::v1::NetworkPolicy,
    apimachinery::pkg::apis::meta::v1::Time,
    jiff::Timestamp,
};
use kube::{Api, Client, ResourceExt, api::PostParams};
use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::sync::watch;

/// Mounts the volumes, makes the root read-only when asked, then becomes the
/// container's user with no capabilities. Runs inside `ip netns exec`, whose
/// fresh mount namespace keeps all of this to the container.
pub(crate) const LAUNCH: &str = r#"set -eu
uid=$1 gid=$2 groups=$3 ro_root=$4
shift 4
while [ "$1" != "--" ]; do
  mount --bind "$1" "$2"
  if [ "$3" = 1 ]; then mount -o remount,bind,ro "$2"; fi
  shift 3
done
shift
if [ "$ro_root" = 1 ]; then mount -o remount,bind,ro /; fi
exec setpriv --reuid="$uid" --regid="$gid" --groups="$groups" --inh-caps=-all --no-new-privs -- "$@"
"#;

/// What the kubelet knows of one container right now.
#[derive(Debug, Clone, Default)]
pub(crate) struct Live {
    pub state: ContainerState,
    pub last_state: Option<ContainerState>,
    pub ready: bool,
    pub started: bool,
    pub restart_count: i32,
    pub pid: Option<u32>,
}

/// A pod this kubelet runs.
struct RunningPod {
    uid: String,
    net: PodNet,
    containers: Vec<(String, Arc<Mutex<Live>>)>,
    stop: watch::Sender<bool>,
    done: tokio::task::JoinHandle<()>,
    phase: Arc<Mutex<Option<&'static str>>>,
    /// Its labels when it started: what NetworkPolicies select it by, also
    /// while it terminates.
    labels: std::collections::BTreeMap<String, String>,
}

/// A pod gone from the API whose containers are still stopping (pre-stop
/// hook, grace period). As in a real cluster, it keeps its address and
/// stays selected by NetworkPolicies until its processes have ended: the
/// calls it finishes meanwhile may need new connections.
struct StoppingPod {
    task: tokio::task::JoinHandle<()>,
    net: PodNet,
    labels: std::collections::BTreeMap<String, String>,
}

pub struct Kubelet {
    pub(crate) client: Client,
    namespace: String,
    pub(crate) images: Images,
    net: Arc<Network>,
    state: PathBuf,
    pods: Mutex<HashMap<String, RunningPod>>,
    /// Pods being stopped (pre-stop hook, grace period): a new pod of the
    /// same name (a StatefulSet's) waits until its predecessor is gone.
    stopping: Mutex<HashMap<String, StoppingPod>>,
    /// Images whose pull takes a while: available from that instant.
    pub(crate) pulls: Mutex<HashMap<String, Instant>>,
    /// Mount points this node had to create on the host, removed at the end.
    mount_points: Mutex<Vec<PathBuf>>,
}

pub(crate) fn now() -> Time {
    Time(Timestamp::now())
}

pub(crate) fn waiting(reason: &str, message: &str) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting { reason: Some(reason.into()), message: Some(message.into()) }),
        ..Default::default()
    }
}

impl Kubelet {
    pub fn new(client: Client, namespace: &str, images: Images, net: Arc<Network>, state: &Path) -> Self {
        Self {
            client,
            namespace: namespace.into(),
            images,
            net,
            state: state.into(),
            pods: Mutex::default(),
            stopping: Mutex::default(),
            pulls: Mutex::default(),
            mount_points: Mutex::default(),
        }
    }

    /// Makes pulling `image` take `delay` from now on (a slow registry).
    pub fn slow_pull(&self, image: &str, delay: Duration) {
        self.pulls.lock().unwrap().insert(image.into(), Instant::now() + delay);
    }

    /// The address of a running pod.
    pub fn pod_ip(&self, pod: &str) -> Option<std::net::Ipv4Addr> {
        self.pods.lock().unwrap().get(pod).map(|p| p.net.ip)
    }

    /// The process of a running container (to kill it, as the OOM killer would).
    pub fn container_pid(&self, pod: &str, container: &str) -> Option<u32> {
        let pods = self.pods.lock().unwrap();
        let live = pods.get(pod)?.containers.iter().find(|(n, _)| n == container)?.1.clone();
        live.lock().unwrap().pid
    }

    /// One pass: start pods that are new, stop pods that are gone, write
    /// statuses, refresh every pod's view of the Services.
    pub async fn sync(self: &Arc<Self>, hosts: &str) -> anyhow::Result<()> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let pods = api.list(&Default::default()).await?.items;
        let wanted: HashMap<String, &Pod> = pods.iter().map(|p| (p.name_any(), p)).collect();
        let gone: Vec<String> = {
            let running = self.pods.lock().unwrap();
            running
                .iter()
                .filter(|(name, rp)| wanted.get(*name).is_none_or(|p| p.uid().as_deref() != Some(&rp.uid)))
                .map(|(n, _)| n.clone())
                .collect()
        };
        for name in gone {
            // In the background: a pod's pre-stop delay and grace period must
            // not hold up the rest of the node (its Services' DNS above all).
            let Some(rp) = self.pods.lock().unwrap().remove(&name) else { continue };
            let (kubelet, task_name) = (self.clone(), name.clone());
            let (net, labels) = (rp.net.clone(), rp.labels.clone());
            let task = tokio::spawn(async move { kubelet.finish_pod(&task_name, rp).await });
            self.stopping.lock().unwrap().insert(name, StoppingPod { task, net, labels });
        }
        self.stopping.lock().unwrap().retain(|_, p| !p.task.is_finished());
        for pod in &pods {
            let name = pod.name_any();
            let new = !self.pods.lock().unwrap().contains_key(&name)
                && !self.stopping.lock().unwrap().contains_key(&name)
                && pod.status.as_ref().and_then(|s| s.phase.as_deref()).is_none_or(|p| p == "Pending");
            if new && let Err(e) = self.start_pod(pod, hosts) {
                eprintln!("cluster: cannot start pod {name}: {e:#}");
            }
        }
        // A stopping pod still resolves names: its last calls need the Services as they are now.
        for (name, p) in self.stopping.lock().unwrap().iter() {
            self.net.set_hosts(&p.net, &format!("{hosts}{} {name}\n", p.net.ip));
        }
        for pod in pods {
            let name = pod.name_any();
            let status = {
                let running = self.pods.lock().unwrap();
                let Some(rp) = running.get(&name) else { continue };
                self.net.set_hosts(&rp.net, &format!("{hosts}{} {name}\n", rp.net.ip));
                pod_status(&pod, rp)
            };
            if pod.status.as_ref() != Some(&status) {
                let mut updated = pod.clone();
                updated.status = Some(status);
                updated.metadata.managed_fields = None;
                if let Err(e) = api.replace_status(&name, &PostParams::default(), &updated).await {
                    eprintln!("cluster: pod {name} status: {e}");
                }
            }
        }
        Ok(())
    }

    /// NetworkPolicies in every running pod's namespace; `others` are pods
    /// outside the API (other namespaces) that policies may name.
    pub async fn enforce(&self, policies: &[NetworkPolicy], others: &[Peer]) -> anyhow::Result<()> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let pods = api.list(&Default::default()).await?.items;
        let peer = |key: &str, labels: &std::collections::BTreeMap<String, String>, net: &PodNet| Peer {
            key: key.to_string(),
            namespace: self.namespace.clone(),
            namespace_labels: [("kubernetes.io/metadata.name".to_string(), self.namespace.clone())].into(),
            labels: labels.clone(),
            ip: net.ip.to_string(),
        };
        let mut running: Vec<(Peer, PodNet)> = {
            let running = self.pods.lock().unwrap();
            pods.iter()
                .filter_map(|p| {
                    let net = running.get(&p.name_any())?.net.clone();
                    Some((peer(&p.name_any(), p.labels(), &net), net))
                })
                .collect()
        };
        running.extend(
            self.stopping
                .lock()
                .unwrap()
                .iter()
                .filter(|(_, p)| !p.task.is_finished())
                .map(|(name, p)| (peer(name, &p.labels, &p.net), p.net.clone())),
        );
        let mut peers: Vec<Peer> = running.iter().map(|(p, _)| p.clone()).collect();
        peers.extend_from_slice(others);
        let node = self.net.node_ip().to_string();
        for (me, net) in &running {
            self.net.enforce(net, crate::policy::ruleset(me, policies, &peers, &node));
        }
        Ok(())
    }

    fn start_pod(self: &Arc<Self>, pod: &Pod, hosts: &str) -> anyhow::Result<()> {
        let name = pod.name_any();
        let spec = pod.spec.clone().unwrap_or_default();
        let mut passwd = std::fs::read_to_string("/etc/passwd")?;
        for c in &spec.containers {
            if let Ok(image) = self.images.resolve(c.image.as_deref().unwrap_or_default()) {
                for line in image.passwd {
                    passwd.push_str(&line);
                    passwd.push('\n');
                }
            }
        }
        let net = self.net.add_pod(&name, &passwd)?;
        // Cluster DNS answers from a pod's first instant.
        self.net.set_hosts(&net, &format!("{hosts}{} {name}\n", net.ip));
        let (stop, _) = watch::channel(false);
        let containers: Vec<(String, Arc<Mutex<Live>>)> = spec
            .containers
            .iter()
            .map(|c| {
                let live = Live { state: waiting("ContainerCreating", ""), ..Default::default() };
                (c.name.clone(), Arc::new(Mutex::new(live)))
            })
            .collect();
        let phase = Arc::new(Mutex::new(None));
        let kubelet = self.clone();
        let uid = pod.uid().unwrap_or_default();
        let labels = pod.labels().clone();
        let (pod, lives, net2, stop_rx, phase2) =
            (pod.clone(), containers.clone(), net.clone(), stop.subscribe(), phase.clone());
        let done = tokio::spawn(async move { kubelet.run_pod(pod, lives, net2, stop_rx, phase2).await });
        self.pods.lock().unwrap().insert(name, RunningPod { uid, net, containers, stop, done, phase, labels });
        Ok(())
    }

    /// Stops a pod's containers (SIGTERM, then SIGKILL after the grace
    /// period) and removes its network.
    async fn stop_pod(&self, name: &str) {
        let Some(rp) = self.pods.lock().unwrap().remove(name) else { return };
        self.finish_pod(name, rp).await;
    }

    async fn finish_pod(&self, name: &str, rp: RunningPod) {
        let _ = rp.stop.send(true);
        let _ = rp.done.await;
        self.net.remove_pod(name);
        // Its logs stay readable (`kubectl logs` of a pod that is gone, for failure reports).
        let pod_dir = self.state.join("pods").join(name);
        let kept = self.state.join("logs").join(name);
        if std::fs::create_dir_all(&kept).is_ok() {
            for entry in std::fs::read_dir(&pod_dir).into_iter().flatten().flatten() {
                if entry.path().extension().is_some_and(|e| e == "log") {
                    let _ = std::fs::rename(entry.path(), kept.join(entry.file_name()));
                }
            }
        }
        let _ = std::fs::remove_dir_all(&pod_dir);
    }

    /// Stops every pod at once (the end of a test).
    pub async fn stop_all(&self) {
        let names: Vec<String> = self.pods.lock().unwrap().keys().cloned().collect();
        futures_join(names.iter().map(|n| self.stop_pod(n))).await;
        let stopping: Vec<_> = self.stopping.lock().unwrap().drain().map(|(_, p)| p.task).collect();
        futures_join(stopping).await;
        for dir in self.mount_points.lock().unwrap().drain(..).rev() {
            let _ = std::fs::remove_dir(&dir);
        }
    }

    /// Creates the mount points the host lacks, remembering the topmost new
    /// directory of each so that the end of the test removes them.
    pub(crate) fn mount_point(&self, path: &Path) -> std::io::Result<()> {
        let mut missing = path;
        let mut top = None;
        while !missing.exists() {
            top = Some(missing.to_path_buf());
            match missing.parent() {
                Some(p) => missing = p,
                None => break,
            }
        }
        std::fs::create_dir_all(path)?;
        if let Some(top) = top {
            let mut points = self.mount_points.lock().unwrap();
            if !points.contains(&top) {
                // Also on disk, for the clean-up of a test process killed outright.
                use std::io::Write;
                let record =
                    std::fs::OpenOptions::new().create(true).append(true).open(self.state.join("mount-points"));
                let _ = record.and_then(|mut f| writeln!(f, "{}", top.display()));
                points.push(top);
            }
        }
        Ok(())
    }

    async fn run_pod(
        self: Arc<Self>,
        pod: Pod,
        lives: Vec<(String, Arc<Mutex<Live>>)>,
        net: PodNet,
        stop: watch::Receiver<bool>,
        phase: Arc<Mutex<Option<&'static str>>>,
    ) {
        let spec = pod.spec.clone().unwrap_or_default();
        let pod_dir = self.state.join("pods").join(pod.name_any());
        let fs_group = spec.security_context.as_ref().and_then(|s| s.fs_group).map(|g| g as u32);
        if let Err(e) = std::fs::create_dir_all(&pod_dir) {
            eprintln!("cluster: pod directory {}: {e}", pod_dir.display());
            return;
        }
        // Volumes first: a missing Secret or ConfigMap keeps the pod waiting.
        let volumes = loop {
            match pod_spec::volumes(&self.client, &pod, &pod_dir, &self.state.join("claims"), fs_group).await {
                Ok(v) => break v,
                Err(e) => {
                    for (_, live) in &lives {
                        live.lock().unwrap().state = waiting("ContainerCreating", &e);
                    }
                    if wait_or_stop(&stop, Duration::from_secs(1)).await {
                        return;
                    }
                }
            }
        };
        let restart_policy = spec.restart_policy.clone().unwrap_or_else(|| "Always".into());
        let grace = Duration::from_secs(spec.termination_grace_period_seconds.unwrap_or(30).max(0) as u64);
        let runs = spec.containers.iter().zip(lives.iter()).map(|(container, (_, live))| {
            let run = ContainerRun {
                kubelet: self.clone(),
                pod: pod.clone(),
                container: container.clone(),
                live: live.clone(),
                net: net.clone(),
                volumes: volumes.clone(),
                pod_dir: pod_dir.clone(),
                run_as: run_as(&pod, container),
                restart_policy: restart_policy.clone(),
                grace,
            };
            let stop = stop.clone();
            async move { run.run(stop).await }
        });
        let codes = futures_join(runs).await;
        *phase.lock().unwrap() = Some(if codes.iter().all(|c| *c == Some(0)) { "Succeeded" } else { "Failed" });
    }
}

async fn futures_join<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    futures::future::join_all(futures).await
}

/// True when the pod is being stopped before `delay` ends.
pub(crate) async fn wait_or_stop(stop: &watch::Receiver<bool>, delay: Duration) -> bool {
    let mut stop = stop.clone();
    if *stop.borrow() {
        return true;
    }
    let stopped = tokio::select! {
        _ = tokio::time::sleep(delay) => false,
        _ = stop.wait_for(|s| *s) => true,
    };
    stopped || *stop.borrow()
}

/// (uid, gid, supplementary groups, read-only root) from the security contexts.
fn run_as(pod: &Pod, container: &Container) -> (i64, i64, Vec<i64>, bool) {
    let pod_sc = pod.spec.as_ref().and_then(|s| s.security_context.clone()).unwrap_or_default();
    let sc = container.security_context.clone().unwrap_or_default();
    let uid = sc.run_as_user.or(pod_sc.run_as_user).unwrap_or(0);
    let gid = sc.run_as_group.or(pod_sc.run_as_group).unwrap_or(uid);
    let mut groups = vec![gid];
    groups.extend(pod_sc.fs_group);
    groups.extend(pod_sc.supplemental_groups.iter().flatten().copied());
    (uid, gid, groups, sc.read_only_root_filesystem == Some(true))
}

fn pod_status(pod: &Pod, rp: &RunningPod) -> PodStatus {
    let previous = pod.status.clone().unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();
    let lives: Vec<(String, Live)> =
        rp.containers.iter().map(|(n, l)| (n.clone(), l.lock().unwrap().clone())).collect();
    let statuses: Vec<ContainerStatus> = lives
        .iter()
        .map(|(name, live)| ContainerStatus {
            name: name.clone(),
            image: spec.containers.iter().find(|c| &c.name == name).and_then(|c| c.image.clone()).unwrap_or_default(),
            image_id: String::new(),
            ready: live.ready,
            started: Some(live.started),
            restart_count: live.restart_count,
            state: Some(live.state.clone()),
            last_state: live.last_state.clone(),
            ..Default::default()
        })
        .collect();
    let all_ready = lives.iter().all(|(_, l)| l.ready);
    let any_running = lives.iter().any(|(_, l)| l.state.running.is_some());
    let phase = match *rp.phase.lock().unwrap() {
        Some(p) => p,
        None if any_running || lives.iter().any(|(_, l)| l.restart_count > 0) => "Running",
        None => "Pending",
    };
    let condition = |type_: &str, status: bool| {
        let status = if status { "True" } else { "False" };
        let kept = previous
            .conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == type_ && c.status == status)
            .and_then(|c| c.last_transition_time.clone());
        PodCondition {
            type_: type_.into(),
            status: status.into(),
            last_transition_time: Some(kept.unwrap_or_else(now)),
            ..Default::default()
        }
    };
    PodStatus {
        phase: Some(phase.into()),
        pod_ip: Some(rp.net.ip.to_string()),
        pod_ips: Some(vec![k8s_openapi::api::core::v1::PodIP { ip: rp.net.ip.to_string() }]),
        host_ip: Some("127.0.0.1".into()),
        start_time: previous.start_time.clone().or_else(|| Some(now())),
        conditions: Some(vec![
            condition("PodScheduled", true),
            condition("Initialized", true),
            condition("ContainersReady", all_ready),
            condition("Ready", all_ready && phase == "Running"),
        ]),
        container_statuses: Some(statuses),
        ..Default::default()
    }
}
