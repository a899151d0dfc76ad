//! The controllers of kube-controller-manager that matter here: Deployments,
//! StatefulSets and Jobs make pods from their templates and report status;
//! the garbage collector deletes what lost its owner; Services' ready
//! endpoints become cluster DNS.

use k8s_openapi::{
    Resource as _,
    api::{
        apps::v1::{Deployment, DeploymentStatus, StatefulSet, StatefulSetStatus},
        autoscaling::v2::HorizontalPodAutoscaler,
        batch::v1::{Job, JobCondition, JobStatus},
        core::v1::{ConfigMap, Pod, PodTemplateSpec, Secret, Service},
        networking::v1::{Ingress, NetworkPolicy},
        policy::v1::PodDisruptionBudget,
    },
    apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference},
};
use kube::{
    Api, Client, Resource, ResourceExt,
    api::{DeleteParams, ListParams, PostParams},
};
use serde::{Serialize, de::DeserializeOwned};
use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::Debug,
    time::Duration,
};

fn short_hash(value: &impl Serialize) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(serde_json::to_vec(value).unwrap_or_default());
    digest.iter().take(5).map(|b| format!("{b:02x}")).collect()
}

fn owner_ref<K: Resource<DynamicType = ()>>(owner: &K) -> OwnerReference {
    owner.controller_owner_ref(&()).expect("owners have a name and uid")
}

fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn owned_by<'a>(pods: &'a [Pod], uid: &str) -> Vec<&'a Pod> {
    pods.iter().filter(|p| p.owner_references().iter().any(|o| o.uid == uid)).collect()
}

fn new_pod(ns: &str, name: String, template: &PodTemplateSpec, owner: OwnerReference, extra: &[(&str, &str)]) -> Pod {
    let mut labels = template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
    for (k, v) in extra {
        labels.insert((*k).into(), (*v).into());
    }
    Pod {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(ns.into()),
            labels: Some(labels),
            annotations: template.metadata.as_ref().and_then(|m| m.annotations.clone()),
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        spec: template.spec.clone(),
        status: None,
    }
}

/// (maxSurge, maxUnavailable) of a Deployment as pod counts: percentages of
/// the replicas (surge rounded up, unavailable down), 25 % each by default,
/// and never both zero.
fn rolling_update_bounds(spec: &k8s_openapi::api::apps::v1::DeploymentSpec, replicas: usize) -> (usize, usize) {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    let rolling = spec.strategy.as_ref().and_then(|s| s.rolling_update.clone()).unwrap_or_default();
    let count = |v: Option<IntOrString>, round_up: bool| match v.unwrap_or(IntOrString::String("25%".into())) {
        IntOrString::Int(n) => n.max(0) as usize,
        IntOrString::String(p) => {
            let percent: usize = p.trim_end_matches('%').parse().unwrap_or(25);
            if round_up { (replicas * percent).div_ceil(100) } else { replicas * percent / 100 }
        }
    };
    let (surge, unavailable) = (count(rolling.max_surge, true), count(rolling.max_unavailable, false));
    if surge == 0 && unavailable == 0 { (0, 1) } else { (surge, unavailable) }
}

fn suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed) ^ std::process::id();
    format!("{:05x}", n & 0xfffff)
}

async fn replace_status<K>(api: &Api<K>, object: &K) -> kube::Result<()>
where
    K: Resource<DynamicType = ()> + Clone + Serialize + DeserializeOwned + Debug,
{
    let mut object = object.clone();
    object.meta_mut().managed_fields = None;
    api.replace_status(&object.name_any(), &PostParams::default(), &object).await.map(|_| ())
}

pub struct Controllers {
    pub client: Client,
    pub namespace: String,
}

impl Controllers {
    fn api<K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>>(&self) -> Api<K> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    pub async fn sync(&self) -> anyhow::Result<()> {
        self.garbage_collect().await?;
        let pods = self.api::<Pod>().list(&ListParams::default()).await?.items;
        let hpas = self.api::<HorizontalPodAutoscaler>().list(&ListParams::default()).await?.items;
        for d in self.api::<Deployment>().list(&ListParams::default()).await?.items {
            self.deployment(&d, &pods, &hpas).await?;
        }
        for s in self.api::<StatefulSet>().list(&ListParams::default()).await?.items {
            self.stateful_set(&s, &pods).await?;
        }
        for j in self.api::<Job>().list(&ListParams::default()).await?.items {
            self.job(&j, &pods).await?;
        }
        Ok(())
    }

    async fn deployment(&self, d: &Deployment, pods: &[Pod], hpas: &[HorizontalPodAutoscaler]) -> anyhow::Result<()> {
        let spec = d.spec.clone().unwrap_or_default();
        let autoscaled = hpas.iter().find(|h| {
            h.spec
                .as_ref()
                .is_some_and(|s| s.scale_target_ref.kind == "Deployment" && s.scale_target_ref.name == d.name_any())
        });
        let replicas = match (spec.replicas, autoscaled) {
            (Some(r), _) => r,
            (None, Some(h)) => h.spec.as_ref().and_then(|s| s.min_replicas).unwrap_or(1),
            (None, None) => 1,
        } as usize;
        let hash = short_hash(&spec.template);
        let mine = owned_by(pods, &d.uid().unwrap_or_default());
        let (current, old): (Vec<&Pod>, Vec<&Pod>) =
            mine.iter().partition(|p| p.labels().get("pod-template-hash") == Some(&hash));
        let api = self.api::<Pod>();
        // RollingUpdate: at most replicas + maxSurge pods, at least
        // replicas - maxUnavailable ready ones, as the Deployment says.
        let (surge, unavailable) = rolling_update_bounds(&spec, replicas);
        let total = current.len() + old.len();
        let room = (replicas + surge).saturating_sub(total);
        for _ in 0..replicas.saturating_sub(current.len()).min(room) {
            let name = format!("{}-{hash}-{}", d.name_any(), suffix());
            api.create(
                &PostParams::default(),
                &new_pod(&self.namespace, name, &spec.template, owner_ref(d), &[("pod-template-hash", &hash)]),
            )
            .await?;
        }
        for extra in current.iter().skip(replicas) {
            api.delete(&extra.name_any(), &DeleteParams::default()).await?;
        }
        let mut ready_total = mine.iter().filter(|p| is_ready(p)).count();
        let min_ready = replicas.saturating_sub(unavailable);
        // Old pods that are not ready go first; a ready one only while enough stay ready.
        let mut old = old.clone();
        old.sort_by_key(|p| is_ready(p));
        for p in old {
            if is_ready(p) {
                if ready_total <= min_ready {
                    break;
                }
                ready_total -= 1;
            }
            api.delete(&p.name_any(), &DeleteParams::default()).await?;
        }
        let ready = mine.iter().filter(|p| is_ready(p)).count() as i32;
        let status = DeploymentStatus {
            observed_generation: d.metadata.generation,
            replicas: Some(mine.len() as i32),
            updated_replicas: Some(current.len() as i32),
            ready_replicas: Some(ready),
            available_replicas: Some(ready),
            unavailable_replicas: Some((replicas as i32 - ready).max(0)),
            ..Default::default()
        };
        if d.status.as_ref() != Some(&status) {
            let mut d = d.clone();
            d.status = Some(status);
            replace_status(&self.api(), &d).await?;
        }
        Ok(())
    }

    async fn stateful_set(&self, s: &StatefulSet, pods: &[Pod]) -> anyhow::Result<()> {
        let spec = s.spec.clone().unwrap_or_default();
        let replicas = spec.replicas.unwrap_or(1);
        let hash = short_hash(&spec.template);
        let mine = owned_by(pods, &s.uid().unwrap_or_default());
        let api = self.api::<Pod>();
        for ordinal in 0..replicas {
            let name = format!("{}-{ordinal}", s.name_any());
            match mine.iter().find(|p| p.name_any() == name) {
                // RollingUpdate: a pod of an older revision is replaced.
                Some(p) if p.labels().get("controller-revision-hash") != Some(&hash) => {
                    api.delete(&name, &DeleteParams::default()).await?;
                }
                Some(_) => {}
                None => {
                    let mut template = spec.template.clone();
                    // Each claim template is a volume claim named <claim>-<pod>, kept when the pod goes.
                    let pod_spec = template.spec.get_or_insert_with(Default::default);
                    for claim in spec.volume_claim_templates.iter().flatten() {
                        let claim_name = claim.metadata.name.clone().unwrap_or_default();
                        pod_spec.volumes.get_or_insert_with(Vec::new).push(k8s_openapi::api::core::v1::Volume {
                            name: claim_name.clone(),
                            persistent_volume_claim: Some(
                                k8s_openapi::api::core::v1::PersistentVolumeClaimVolumeSource {
                                    claim_name: format!("{claim_name}-{name}"),
                                    read_only: None,
                                },
                            ),
                            ..Default::default()
                        });
                    }
                    let pod = new_pod(
                        &self.namespace,
                        name.clone(),
                        &template,
                        owner_ref(s),
                        &[("controller-revision-hash", &hash), ("statefulset.kubernetes.io/pod-name", &name)],
                    );
                    api.create(&PostParams::default(), &pod).await?;
                }
            }
        }
        let ready = mine.iter().filter(|p| is_ready(p)).count() as i32;
        let status = StatefulSetStatus {
            observed_generation: s.metadata.generation,
            replicas: mine.len() as i32,
            ready_replicas: Some(ready),
            available_replicas: Some(ready),
            current_replicas: Some(mine.len() as i32),
            updated_replicas: Some(
                mine.iter().filter(|p| p.labels().get("controller-revision-hash") == Some(&hash)).count() as i32,
            ),
            ..Default::default()
        };
        if s.status.as_ref() != Some(&status) {
            let mut s = s.clone();
            s.status = Some(status);
            replace_status(&self.api(), &s).await?;
        }
        Ok(())
    }

    async fn job(&self, j: &Job, pods: &[Pod]) -> anyhow::Result<()> {
        let spec = j.spec.clone().unwrap_or_default();
        let mine = owned_by(pods, &j.uid().unwrap_or_default());
        let phase = |p: &Pod| p.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default();
        let succeeded = mine.iter().filter(|p| phase(p) == "Succeeded").count() as i32;
        let failed_pods: Vec<&&Pod> = mine.iter().filter(|p| phase(p) == "Failed").collect();
        let failed = failed_pods.len() as i32;
        let active = mine.len() as i32 - succeeded - failed;
        let backoff_limit = spec.backoff_limit.unwrap_or(6);
        let mut status = j.status.clone().unwrap_or_default();
        let mut conditions = status.conditions.clone().unwrap_or_default();
        let finished = conditions.iter().any(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True");
        if !finished {
            if succeeded >= 1 {
                conditions.push(JobCondition {
                    type_: "Complete".into(),
                    status: "True".into(),
                    last_transition_time: Some(crate::kubelet::now()),
                    ..Default::default()
                });
            } else if failed > backoff_limit {
                conditions.push(JobCondition {
                    type_: "Failed".into(),
                    status: "True".into(),
                    reason: Some("BackoffLimitExceeded".into()),
                    message: Some("Job has reached the specified backoff limit".into()),
                    last_transition_time: Some(crate::kubelet::now()),
                    ..Default::default()
                });
            } else if active == 0 {
                // A new pod after the failure back-off: 10 s, doubling, at most 6 min.
                let last_failure = failed_pods
                    .iter()
                    .filter_map(|p| {
                        p.status
                            .as_ref()?
                            .container_statuses
                            .as_ref()?
                            .first()?
                            .state
                            .as_ref()?
                            .terminated
                            .as_ref()?
                            .finished_at
                            .clone()
                    })
                    .map(|t| t.0)
                    .max();
                let wait = Duration::from_secs(if failed == 0 { 0 } else { (10u64 << (failed - 1).min(5)).min(360) });
                let due = last_failure
                    .is_none_or(|at| k8s_openapi::jiff::Timestamp::now().duration_since(at).unsigned_abs() >= wait);
                if due {
                    let name = format!("{}-{}", j.name_any(), suffix());
                    let pod = new_pod(
                        &self.namespace,
                        name,
                        &spec.template,
                        owner_ref(j),
                        &[
                            ("job-name", &j.name_any()),
                            ("batch.kubernetes.io/job-name", &j.name_any()),
                            ("controller-uid", &j.uid().unwrap_or_default()),
                        ],
                    );
                    self.api::<Pod>().create(&PostParams::default(), &pod).await?;
                }
            }
        }
        status.active = Some(active).filter(|a| *a > 0);
        status.succeeded = Some(succeeded).filter(|s| *s > 0);
        status.failed = Some(failed).filter(|f| *f > 0);
        status.conditions = Some(conditions).filter(|c| !c.is_empty());
        if status.start_time.is_none() {
            status.start_time = Some(crate::kubelet::now());
        }
        if j.status.as_ref() != Some(&status) {
            let mut j = j.clone();
            j.status = Some(JobStatus { ..status });
            replace_status(&self.api(), &j).await?;
        }
        Ok(())
    }

    /// Deletes every object whose owners are all gone (background
    /// propagation, as `kubectl delete` of a Shop does).
    async fn garbage_collect(&self) -> anyhow::Result<()> {
        let mut uids = BTreeSet::new();
        let mut owned: Vec<(String, String, Vec<String>)> = vec![];
        macro_rules! scan {
            ($($kind:ty),*) => {$(
                for o in self.api::<$kind>().list(&ListParams::default()).await?.items {
                    uids.insert(o.uid().unwrap_or_default());
                    let owners: Vec<String> = o.owner_references().iter().map(|r| r.uid.clone()).collect();
                    if !owners.is_empty() {
                        owned.push((<$kind>::KIND.to_string(), o.name_any(), owners));
                    }
                }
            )*};
        }
        scan!(
            Pod,
            Deployment,
            StatefulSet,
            Job,
            Service,
            Secret,
            ConfigMap,
            PodDisruptionBudget,
            HorizontalPodAutoscaler,
            Ingress,
            NetworkPolicy
        );
        for shop in self.api::<atelier_operator::crd::Shop>().list(&ListParams::default()).await?.items {
            uids.insert(shop.uid().unwrap_or_default());
        }
        for (kind, name, owners) in owned {
            if owners.iter().all(|o| !uids.contains(o)) {
                macro_rules! delete {
                    ($($k:ty),*) => {
                        match kind.as_str() {
                            $(k if k == <$k>::KIND => { let _ = self.api::<$k>().delete(&name, &DeleteParams::background()).await; })*
                            _ => {}
                        }
                    };
                }
                delete!(
                    Pod,
                    Deployment,
                    StatefulSet,
                    Job,
                    Service,
                    Secret,
                    ConfigMap,
                    PodDisruptionBudget,
                    HorizontalPodAutoscaler,
                    Ingress,
                    NetworkPolicy
                );
            }
        }
        Ok(())
    }

    /// Cluster DNS: every Service name (short, namespaced, FQDN) to its ready
    /// endpoints — all of them, so a multi-replica Service resolves to
    /// several addresses. Ports must equal target ports (no NAT here).
    pub async fn hosts(&self) -> anyhow::Result<(String, BTreeMap<String, Vec<String>>)> {
        let pods = self.api::<Pod>().list(&ListParams::default()).await?.items;
        let mut hosts = String::from("127.0.0.1 localhost\n");
        let mut endpoints = BTreeMap::new();
        for svc in self.api::<Service>().list(&ListParams::default()).await?.items {
            let spec = svc.spec.clone().unwrap_or_default();
            for port in spec.ports.iter().flatten() {
                let target = port.target_port.clone();
                let same = match &target {
                    None => true,
                    Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(t)) => *t == port.port,
                    Some(_) => true,
                };
                anyhow::ensure!(
                    same,
                    "service {}: port {} -> {target:?} needs NAT, which this cluster has not",
                    svc.name_any(),
                    port.port
                );
            }
            let Some(selector) = spec.selector.filter(|s| !s.is_empty()) else { continue };
            let ips: Vec<String> = pods
                .iter()
                .filter(|p| selector.iter().all(|(k, v)| p.labels().get(k) == Some(v)))
                .filter(|p| is_ready(p))
                .filter_map(|p| p.status.as_ref()?.pod_ip.clone())
                .collect();
            let name = svc.name_any();
            let ns = &self.namespace;
            for ip in &ips {
                hosts.push_str(&format!("{ip} {name} {name}.{ns} {name}.{ns}.svc {name}.{ns}.svc.cluster.local\n"));
            }
            endpoints.insert(name, ips);
        }
        Ok((hosts, endpoints))
    }
}
