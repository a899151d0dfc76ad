//! One container's life under the kubelet's rules: start, probes (startup,
//! then liveness and readiness), restarts with back-off (10 s doubling to
//! 5 min) as the pod's restart policy says, graceful stop.

use crate::{
    kubelet::{Kubelet, LAUNCH, Live, now, wait_or_stop, waiting},
    network::PodNet,
    pod_spec::{self, Volume},
};
use k8s_openapi::{
    api::core::v1::{Container, ContainerState, ContainerStateRunning, ContainerStateTerminated, Pod, Probe},
    apimachinery::pkg::util::intstr::IntOrString,
};
use nix::{sys::signal::Signal, unistd::Pid};
use std::{
    collections::BTreeMap,
    path::PathBuf,
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::sync::watch;

pub(crate) struct ContainerRun {
    pub kubelet: Arc<Kubelet>,
    pub pod: Pod,
    pub container: Container,
    pub live: Arc<Mutex<Live>>,
    pub net: PodNet,
    pub volumes: Vec<Volume>,
    pub pod_dir: PathBuf,
    pub run_as: (i64, i64, Vec<i64>, bool),
    pub restart_policy: String,
    pub grace: Duration,
}

/// Why a running container ended.
enum Ended {
    Exited(i32),
    ProbeFailed(&'static str),
    Stopping,
}

impl ContainerRun {
    fn set(&self, f: impl FnOnce(&mut Live)) {
        f(&mut self.live.lock().unwrap());
    }

    fn log_path(&self) -> PathBuf {
        self.pod_dir.join(format!("{}.log", self.container.name))
    }

    /// The program and its arguments, as `ip netns exec` + the launch script
    /// will run them: entrypoint/cmd of the image unless the container
    /// overrides them.
    async fn command(&self) -> Result<(tokio::process::Command, String), (String, String)> {
        let reference = self.container.image.clone().unwrap_or_default();
        let image = self.kubelet.images.resolve(&reference).map_err(|e| ("ErrImagePull".to_string(), e))?;
        if let Some(ready_at) = self.kubelet.pulls.lock().unwrap().get(&reference)
            && Instant::now() < *ready_at
        {
            return Err(("ContainerCreating".into(), format!("pulling image {reference}")));
        }
        let env = pod_spec::environment(&self.kubelet.client, &self.pod, &self.container, &self.net.ip.to_string())
            .await
            .map_err(|e| ("CreateContainerConfigError".to_string(), e))?;
        let mut argv = match &self.container.command {
            Some(command) => command.clone(),
            None => image.entrypoint.clone(),
        };
        match (&self.container.command, &self.container.args) {
            (_, Some(args)) => argv.extend(args.iter().cloned()),
            (None, None) => argv.extend(image.cmd.iter().cloned()),
            (Some(_), None) => {}
        }
        let argv = image.on_host(argv);
        let mut cmd = self.launch(&argv).map_err(|e| ("RunContainerError".to_string(), e))?;
        cmd.env_clear().envs(env).env("PATH", &image.path).env("HOSTNAME", self.pod_name()).env("HOME", "/");
        Ok((cmd, reference))
    }

    fn pod_name(&self) -> String {
        self.pod.metadata.name.clone().unwrap_or_default()
    }

    /// `ip netns exec <pod> sh -c LAUNCH …` for `argv`, with this
    /// container's mounts and user.
    fn launch(&self, argv: &[String]) -> Result<tokio::process::Command, String> {
        let (uid, gid, groups, ro_root) = &self.run_as;
        let mut cmd = tokio::process::Command::new("ip");
        cmd.args(["netns", "exec", &self.net.namespace, "/bin/sh", "-c", LAUNCH, "launch"]);
        let groups: Vec<String> = groups.iter().map(i64::to_string).collect();
        cmd.args([uid.to_string(), gid.to_string(), groups.join(","), if *ro_root { "1" } else { "0" }.into()]);
        for m in self.container.volume_mounts.iter().flatten() {
            let volume = self
                .volumes
                .iter()
                .find(|v| v.name == m.name)
                .ok_or_else(|| format!("volume mount {:?} names no volume", m.name))?;
            let mut source = volume.host_path.clone();
            if let Some(sub) = m.sub_path.as_deref().filter(|s| !s.is_empty()) {
                source = source.join(sub);
            }
            self.kubelet.mount_point(std::path::Path::new(&m.mount_path)).map_err(|e| e.to_string())?;
            cmd.arg(&source).arg(&m.mount_path).arg(if m.read_only == Some(true) { "1" } else { "0" });
        }
        cmd.arg("--").args(argv);
        cmd.process_group(0).kill_on_drop(true).stdin(Stdio::null());
        Ok(cmd)
    }

    /// Runs the container until the pod stops (or, for restart policies
    /// other than Always, until it is done); returns its last exit code.
    pub async fn run(self, stop: watch::Receiver<bool>) -> Option<i32> {
        let mut last_exit = None;
        let mut backoff = Duration::from_secs(10);
        loop {
            if *stop.borrow() {
                return last_exit;
            }
            let (mut cmd, _image) = match self.command().await {
                Ok(c) => c,
                Err((reason, message)) => {
                    self.set(|l| l.state = waiting(&reason, &message));
                    if wait_or_stop(&stop, Duration::from_secs(1)).await {
                        return last_exit;
                    }
                    continue;
                }
            };
            let log = std::fs::OpenOptions::new().create(true).append(true).open(self.log_path());
            let (Ok(out), Ok(err)) = (log.as_ref().map(|f| f.try_clone()), log.as_ref().map(|f| f.try_clone())) else {
                return last_exit;
            };
            let (Ok(out), Ok(err)) = (out, err) else { return last_exit };
            cmd.stdout(out).stderr(err);
            let started_at = Instant::now();
            let mut child = match cmd.spawn() {
                Ok(c) => c,
                Err(e) => {
                    self.set(|l| l.state = waiting("RunContainerError", &e.to_string()));
                    if wait_or_stop(&stop, Duration::from_secs(1)).await {
                        return last_exit;
                    }
                    continue;
                }
            };
            let pid = child.id();
            self.set(|l| {
                l.pid = pid;
                l.ready = false;
                l.started = self.container.startup_probe.is_none();
                l.state = ContainerState {
                    running: Some(ContainerStateRunning { started_at: Some(now()) }),
                    ..Default::default()
                };
            });
            let mut stop_rx = stop.clone();
            let ended = tokio::select! {
                status = child.wait() => Ended::Exited(status.ok().and_then(|s| s.code()).unwrap_or(137)),
                reason = self.probe_until_failure() => Ended::ProbeFailed(reason),
                _ = stop_rx.wait_for(|s| *s) => Ended::Stopping,
            };
            let code = match ended {
                Ended::Exited(code) => code,
                Ended::ProbeFailed(_) | Ended::Stopping => self.terminate(&mut child, pid).await,
            };
            last_exit = Some(code);
            let reason = match (&ended, code) {
                (Ended::ProbeFailed(r), _) => format!("{r} probe failed"),
                (_, 0) => "Completed".into(),
                (_, 137) => "Killed".into(),
                _ => "Error".into(),
            };
            let message = self.termination_message(code);
            let terminated = ContainerState {
                terminated: Some(ContainerStateTerminated {
                    exit_code: code,
                    reason: Some(reason),
                    message,
                    finished_at: Some(now()),
                    ..Default::default()
                }),
                ..Default::default()
            };
            self.set(|l| {
                l.pid = None;
                l.ready = false;
                l.state = terminated.clone();
            });
            let restart = match (&ended, self.restart_policy.as_str()) {
                (Ended::Stopping, _) => false,
                (_, "Always") => true,
                (_, "OnFailure") => code != 0,
                _ => false,
            };
            if !restart {
                return last_exit;
            }
            // A container that ran for 10 minutes starts its back-off afresh.
            if started_at.elapsed() > Duration::from_secs(600) {
                backoff = Duration::from_secs(10);
            }
            let first_crash = self.live.lock().unwrap().restart_count == 0;
            if first_crash {
                // The kubelet restarts a container at once after its first exit.
                self.set(|l| {
                    l.restart_count += 1;
                    l.last_state = Some(terminated);
                });
                continue;
            }
            self.set(|l| {
                l.restart_count += 1;
                l.last_state = Some(terminated);
                l.state = waiting(
                    "CrashLoopBackOff",
                    &format!("back-off {}s restarting failed container {}", backoff.as_secs(), self.container.name),
                );
            });
            if wait_or_stop(&stop, backoff).await {
                return last_exit;
            }
            backoff = (backoff * 2).min(Duration::from_secs(300));
        }
    }

    /// The pre-stop hook, then the image's stop signal to the container's
    /// process group, then SIGKILL when the grace period (which the hook
    /// counts against) is over.
    async fn terminate(&self, child: &mut tokio::process::Child, pid: Option<u32>) -> i32 {
        let Some(pid) = pid else { return 137 };
        let deadline = Instant::now() + self.grace;
        if let Some(hook) = self.container.lifecycle.as_ref().and_then(|l| l.pre_stop.as_ref()) {
            // Only the sleep action: exec and httpGet hooks are not used here.
            if let Some(sleep) = &hook.sleep {
                let took = Duration::from_secs(sleep.seconds.max(0) as u64).min(self.grace);
                // The container keeps running (and serving) meanwhile; it may also end by itself.
                if let Ok(status) = tokio::time::timeout(took, child.wait()).await {
                    return status.ok().and_then(|s| s.code()).unwrap_or(137);
                }
            }
        }
        let group = Pid::from_raw(pid as i32);
        let signal = self
            .kubelet
            .images
            .resolve(self.container.image.as_deref().unwrap_or_default())
            .map_or(Signal::SIGTERM, |i| i.stop_signal);
        let _ = nix::sys::signal::killpg(group, signal);
        let status = match tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), child.wait()).await
        {
            Ok(status) => status.ok(),
            Err(_) => {
                let _ = nix::sys::signal::killpg(group, Signal::SIGKILL);
                child.wait().await.ok()
            }
        };
        // Whatever the container left behind in its group goes too.
        let _ = nix::sys::signal::killpg(group, Signal::SIGKILL);
        status.and_then(|s| s.code()).unwrap_or(137)
    }

    /// `FallbackToLogsOnError`: a failed container's last log lines.
    fn termination_message(&self, code: i32) -> Option<String> {
        if code == 0 || self.container.termination_message_policy.as_deref() != Some("FallbackToLogsOnError") {
            return None;
        }
        let log = std::fs::read_to_string(self.log_path()).ok()?;
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(80)..].join("\n");
        let start = tail.len().saturating_sub(2048);
        Some(tail[tail.char_indices().map(|(i, _)| i).find(|i| *i >= start).unwrap_or(0)..].to_string())
    }

    /// Runs the probes as the kubelet does; returns only when startup or
    /// liveness fails (the container must then be restarted).
    async fn probe_until_failure(&self) -> &'static str {
        let c = &self.container;
        let started_at = Instant::now();
        let mut state: BTreeMap<&'static str, ProbeState> = BTreeMap::new();
        if c.readiness_probe.is_none() && c.startup_probe.is_none() {
            self.set(|l| l.ready = true);
        }
        loop {
            let started = self.live.lock().unwrap().started;
            let due: Vec<(&'static str, &Probe)> = if !started {
                c.startup_probe.iter().map(|p| ("startup", p)).collect()
            } else {
                c.liveness_probe
                    .iter()
                    .map(|p| ("liveness", p))
                    .chain(c.readiness_probe.iter().map(|p| ("readiness", p)))
                    .collect()
            };
            if started && c.readiness_probe.is_none() {
                self.set(|l| l.ready = true);
            }
            for (kind, probe) in due {
                let s = state.entry(kind).or_default();
                let initial = Duration::from_secs(probe.initial_delay_seconds.unwrap_or(0).max(0) as u64);
                let period = Duration::from_secs(probe.period_seconds.unwrap_or(10).max(1) as u64);
                if started_at.elapsed() < initial || s.last.is_some_and(|t| t.elapsed() < period) {
                    continue;
                }
                s.last = Some(Instant::now());
                let ok = self.probe_once(probe).await;
                if ok {
                    s.failures = 0;
                    s.successes += 1;
                } else {
                    s.successes = 0;
                    s.failures += 1;
                }
                let failure_threshold = probe.failure_threshold.unwrap_or(3).max(1) as u32;
                let success_threshold = probe.success_threshold.unwrap_or(1).max(1) as u32;
                match kind {
                    "startup" if ok => self.set(|l| l.started = true),
                    "startup" | "liveness" if s.failures >= failure_threshold => {
                        return if kind == "startup" { "Startup" } else { "Liveness" };
                    }
                    "readiness" if ok && s.successes >= success_threshold => self.set(|l| l.ready = true),
                    "readiness" if !ok && s.failures >= failure_threshold => self.set(|l| l.ready = false),
                    _ => {}
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn probe_once(&self, probe: &Probe) -> bool {
        let timeout = Duration::from_secs(probe.timeout_seconds.unwrap_or(1).max(1) as u64);
        let ip = self.net.ip;
        let check = async {
            if let Some(grpc) = &probe.grpc {
                let Ok(channel) = tonic::transport::Endpoint::from_shared(format!("http://{ip}:{}", grpc.port)) else {
                    return false;
                };
                let Ok(channel) = channel.connect().await else { return false };
                let mut client = tonic_health::pb::health_client::HealthClient::new(channel);
                let request =
                    tonic_health::pb::HealthCheckRequest { service: grpc.service.clone().unwrap_or_default() };
                client.check(request).await.is_ok_and(|r| r.into_inner().status == 1)
            } else if let Some(http) = &probe.http_get {
                let Some(port) = self.port(&http.port) else { return false };
                let url = format!("http://{ip}:{port}{}", http.path.as_deref().unwrap_or("/"));
                reqwest::Client::new().get(url).send().await.is_ok_and(|r| (200..400).contains(&r.status().as_u16()))
            } else if let Some(tcp) = &probe.tcp_socket {
                let Some(port) = self.port(&tcp.port) else { return false };
                tokio::net::TcpStream::connect((ip, port)).await.is_ok()
            } else if let Some(exec) = &probe.exec {
                let image = self.kubelet.images.resolve(self.container.image.as_deref().unwrap_or_default());
                let argv = exec.command.clone().unwrap_or_default();
                let argv = match &image {
                    Ok(image) => image.on_host(argv),
                    Err(_) => argv,
                };
                let Ok(mut cmd) = self.launch(&argv) else { return false };
                let env = pod_spec::environment(&self.kubelet.client, &self.pod, &self.container, &ip.to_string())
                    .await
                    .unwrap_or_default();
                let path = image.map(|i| i.path);
                cmd.env_clear()
                    .envs(env)
                    .env("PATH", path.unwrap_or_default())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null());
                cmd.status().await.is_ok_and(|s| s.success())
            } else {
                false
            }
        };
        tokio::time::timeout(timeout, check).await.unwrap_or(false)
    }

    /// A probe's port, by number or by the container port's name.
    fn port(&self, port: &IntOrString) -> Option<u16> {
        match port {
            IntOrString::Int(n) => u16::try_from(*n).ok(),
            IntOrString::String(name) => self
                .container
                .ports
                .iter()
                .flatten()
                .find(|p| p.name.as_deref() == Some(name))
                .and_then(|p| u16::try_from(p.container_port).ok()),
        }
    }
}

#[derive(Default)]
struct ProbeState {
    last: Option<Instant>,
    failures: u32,
    successes: u32,
}
