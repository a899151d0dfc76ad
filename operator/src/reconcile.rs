//! The reconcile loop: Shop spec → children (server-side apply), orphans
//! removed by label, status derived from what runs.

use crate::{
    builders::{self, COMPONENTS, MANAGER},
    crd::{Shop, ShopStatus},
    desired::Desired,
    secrets,
    status::{self, Observed},
};
use k8s_openapi::{
    NamespaceResourceScope,
    api::{
        apps::v1::{Deployment, StatefulSet},
        batch::v1::Job,
        core::v1::{Pod, Secret, Service},
    },
};
use kube::{
    Api, Client, Resource, ResourceExt,
    api::{DeleteParams, ListParams, Patch, PatchParams},
    runtime::{
        controller::Action,
        events::{Event, EventType, Recorder, Reporter},
    },
};
use serde::{Serialize, de::DeserializeOwned};
use std::{collections::HashMap, fmt::Debug, sync::Arc, sync::Mutex, time::Duration};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
}

/// Shared by every reconcile.
pub struct Context {
    pub client: Client,
    pub reporter: Reporter,
    /// One recorder for the process, so repeated Events aggregate into a
    /// count instead of piling up.
    recorder: Recorder,
    pub metrics: crate::metrics::Metrics,
    /// Consecutive failures per Shop, for exponential backoff.
    failures: Mutex<HashMap<String, u32>>,
}

impl Context {
    pub fn new(client: Client) -> Arc<Self> {
        let reporter = Reporter { controller: MANAGER.into(), instance: std::env::var("POD_NAME").ok() };
        Arc::new(Self {
            recorder: Recorder::new(client.clone(), reporter.clone()),
            client,
            reporter,
            metrics: Default::default(),
            failures: Mutex::default(),
        })
    }
}

/// Problems in a spec that the schema cannot express.
pub fn validate(shop: &Shop) -> Result<(), String> {
    let spec = &shop.spec;
    if spec.image.as_deref().is_some_and(|i| i.trim().is_empty()) {
        return Err("spec.image is empty".into());
    }
    if spec.database.kind == "external" && spec.database.secret_name.as_deref().is_none_or(str::is_empty) {
        return Err("spec.database.secretName is required when spec.database.kind is external".into());
    }
    if !matches!(spec.database.kind.as_str(), "managed" | "external") {
        return Err(format!("spec.database.kind must be managed or external, not {:?}", spec.database.kind));
    }
    if let Some(ingress) = &spec.ingress {
        let host = &ingress.host;
        let valid = !host.is_empty()
            && host.len() <= 253
            && host
                .split('.')
                .all(|l| !l.is_empty() && l.len() <= 63 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        if !valid {
            return Err(format!("spec.ingress.host {host:?} is not a valid host name"));
        }
    }
    for (component, _) in COMPONENTS {
        if let Some(a) = &builders::component_spec(shop, component).autoscaling
            && a.min_replicas > a.max_replicas
        {
            return Err(format!(
                "spec.{component}.autoscaling: minReplicas ({}) exceeds maxReplicas ({})",
                a.min_replicas, a.max_replicas
            ));
        }
    }
    Ok(())
}

async fn apply<K>(client: &Client, ns: &str, obj: &K) -> kube::Result<K>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope> + Clone + Serialize + DeserializeOwned + Debug,
{
    let api: Api<K> = Api::namespaced(client.clone(), ns);
    api.patch(&obj.name_any(), &PatchParams::apply(MANAGER).force(), &Patch::Apply(obj)).await
}

/// Applies `desired`, each object on its own (one the API refuses is noted
/// in `refused` as "Kind name: reason" and the others are still applied),
/// and deletes the Shop's objects of that kind that are no longer desired.
async fn converge<K>(client: &Client, shop: &Shop, desired: Vec<K>, refused: &mut Vec<String>) -> kube::Result<Vec<K>>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope> + Clone + Serialize + DeserializeOwned + Debug,
{
    let ns = shop.namespace().unwrap_or_default();
    let mut applied = vec![];
    for obj in &desired {
        match apply(client, &ns, obj).await {
            Ok(done) => applied.push(done),
            // The API said no to this object: nothing a retry changes until
            // the Shop (or the object) is edited. Say so; go on with the rest.
            Err(kube::Error::Api(e)) if e.code != 409 && e.code < 500 => {
                let kind = K::kind(&());
                tracing::warn!(kind = kind.as_ref(), name = %obj.name_any(), reason = %e.message, "apply refused");
                refused.push(format!("{kind} {}: {}", obj.name_any(), e.message));
            }
            Err(e) => return Err(e),
        }
    }
    let api: Api<K> = Api::namespaced(client.clone(), &ns);
    let keep: Vec<String> = desired.iter().map(ResourceExt::name_any).collect();
    for existing in api.list(&ListParams::default().labels(&builders::owned_selector(shop))).await? {
        let name = existing.name_any();
        if !keep.contains(&name) {
            tracing::info!(kind = K::kind(&()).as_ref(), %name, "removing what the Shop no longer asks for");
            api.delete(&name, &DeleteParams::background()).await?;
        }
    }
    Ok(applied)
}

/// A Service's cluster IP cannot change in place: one that has a virtual IP
/// but should now be headless (a Shop made by an older operator) is deleted,
/// so that the apply creates it anew.
async fn make_way_for_headless(client: &Client, ns: &str, desired: &[Service]) -> kube::Result<()> {
    let api: Api<Service> = Api::namespaced(client.clone(), ns);
    for svc in desired.iter().filter(|s| cluster_ip(s) == Some("None")) {
        if let Some(live) = api.get_opt(&svc.name_any()).await?
            && cluster_ip(&live).is_some_and(|ip| ip != "None")
        {
            tracing::info!(service = %svc.name_any(), "recreating the Service as headless");
            api.delete(&svc.name_any(), &DeleteParams::default()).await?;
        }
    }
    Ok(())
}

fn cluster_ip(svc: &Service) -> Option<&str> {
    svc.spec.as_ref()?.cluster_ip.as_deref()
}

pub async fn reconcile(shop: Arc<Shop>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = std::time::Instant::now();
    let result = reconcile_inner(&shop, &ctx).await;
    ctx.metrics.observe(started.elapsed(), result.is_err());
    if result.is_ok() {
        ctx.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(&shop_key(&shop));
    }
    result
}

async fn reconcile_inner(shop: &Shop, ctx: &Context) -> Result<Action, Error> {
    let client = &ctx.client;
    let ns = shop.namespace().unwrap_or_default();
    let shops: Api<Shop> = Api::namespaced(client.clone(), &ns);
    let previous = shop.status.clone().unwrap_or_default();
    let now = k8s_openapi::jiff::Timestamp::now().to_string();

    if shop.spec.paused {
        return Ok(Action::await_change());
    }
    if let Err(message) = validate(shop) {
        // A bad spec will not fix itself: say why and wait for an edit.
        let mut status = previous.clone();
        status.observed_generation = shop.metadata.generation;
        let cond = |t: &str, s: bool, r: &str, m: &str| status::condition(&previous.conditions, t, s, r, m, &now);
        status.conditions =
            vec![cond("Ready", false, "InvalidSpec", &message), cond("Degraded", true, "InvalidSpec", &message)];
        if status != previous {
            publish(ctx, shop, EventType::Warning, "InvalidSpec", &message).await;
            patch_status(&shops, shop, &status).await?;
        }
        return Ok(Action::await_change());
    }

    // Secrets first: the checksum of their contents rolls the pods on change.
    let identity = secrets::ensure(client, shop, "identity", secrets::identity_data).await?;
    let (identity, rotated) = secrets::rotate_service_token(client, identity).await?;
    if rotated {
        let note = "the order service's token was renewed before it expires; order pods roll onto it";
        publish(ctx, shop, EventType::Normal, "ServiceTokenRotated", note).await;
    }
    if shop.spec.seed.generates_admin_password() {
        // Created once and kept; the seed reads it, the admin reads it with kubectl.
        secrets::ensure(client, shop, "admin", secrets::admin_data).await?;
    }
    let mut fingerprinted: Vec<Secret> = vec![identity];
    let managed = shop.spec.database.kind == "managed";
    if managed {
        fingerprinted.push(secrets::ensure(client, shop, "db-credentials", || secrets::database_data(shop)).await?);
    } else if let Some(name) = &shop.spec.database.secret_name
        && let Some(s) = Api::<Secret>::namespaced(client.clone(), &ns).get_opt(name).await?
    {
        fingerprinted.push(s);
    }
    let refs: Vec<&Secret> = fingerprinted.iter().collect();
    let checksum = crate::checksum(&[&secrets::fingerprint(&refs), &shop.image()]);
    let database_checksum = crate::checksum(&[&secrets::fingerprint(&refs[refs.len() - 1..])]);
    let desired = Desired::of(shop, &checksum, &database_checksum);

    let mut refused = vec![];
    converge(client, shop, desired.config_maps, &mut refused).await?;
    let sets: Vec<StatefulSet> = converge(client, shop, desired.stateful_sets, &mut refused).await?;
    make_way_for_headless(client, &ns, &desired.services).await?;
    converge(client, shop, desired.services, &mut refused).await?;
    let deployments: Vec<Deployment> = converge(client, shop, desired.deployments, &mut refused).await?;
    let jobs: Vec<Job> = converge(client, shop, desired.jobs, &mut refused).await?;
    converge(client, shop, desired.disruption_budgets, &mut refused).await?;
    converge(client, shop, desired.autoscalers, &mut refused).await?;
    converge(client, shop, desired.ingresses, &mut refused).await?;
    converge(client, shop, desired.network_policies, &mut refused).await?;
    if !managed {
        // Switched to an external database: the generated credentials go too.
        let api: Api<Secret> = Api::namespaced(client.clone(), &ns);
        if api.get_opt(&builders::name(shop, "db-credentials")).await?.is_some() {
            api.delete(&builders::name(shop, "db-credentials"), &DeleteParams::default()).await?;
        }
    }

    // Observe.
    let pods = Api::<Pod>::namespaced(client.clone(), &ns)
        .list(&ListParams::default().labels(&builders::owned_selector(shop)))
        .await?
        .items;
    let mut observed = Observed {
        crashing: status::crashing_pods(&pods),
        demo_accounts: shop.spec.seed.demo_accounts,
        generated_admin_secret: shop.spec.seed.generates_admin_password().then(|| builders::name(shop, "admin")),
        refused,
        ..Default::default()
    };
    for d in &deployments {
        let component = d.labels().get("app.kubernetes.io/component").cloned().unwrap_or_default();
        let live = Api::<Deployment>::namespaced(client.clone(), &ns)
            .get_opt(&d.name_any())
            .await?
            .unwrap_or_else(|| d.clone());
        let ready = live.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0);
        let desired =
            live.spec.as_ref().and_then(|s| s.replicas).unwrap_or_else(|| builders::replicas(shop, &component));
        observed.components.insert(
            component.clone(),
            crate::crd::ComponentStatus { desired, ready, restarts: status::restarts(&pods, &component) },
        );
    }
    if managed {
        let live = match sets.first() {
            Some(s) => Api::<StatefulSet>::namespaced(client.clone(), &ns).get_opt(&s.name_any()).await?,
            None => None,
        };
        observed.database_ready = live.and_then(|s| s.status).and_then(|s| s.ready_replicas).unwrap_or(0) >= 1;
        observed.database_message =
            if observed.database_ready { "PostgreSQL is ready".into() } else { "PostgreSQL is starting".into() };
    } else {
        observed.database_ready = fingerprinted.len() > 1;
        observed.database_message = if observed.database_ready {
            "using the external database".into()
        } else {
            format!(
                "Secret {} with the database URLs was not found",
                shop.spec.database.secret_name.clone().unwrap_or_default()
            )
        };
    }
    let mut retry_seed_in = None;
    if let Some(job) = jobs.first() {
        let live = Api::<Job>::namespaced(client.clone(), &ns).get_opt(&job.name_any()).await?;
        let seed = seed_outcome(live.as_ref(), &pods, k8s_openapi::jiff::Timestamp::now());
        observed.seeded = seed.succeeded;
        observed.seed_failure = seed.failure;
        if let Some(wait) = seed.retry_in {
            if wait.is_zero() {
                // Failed for good: run it again from scratch (the cause may
                // be fixed by now; seeding is idempotent).
                tracing::info!(job = %job.name_any(), "retrying the failed seed Job");
                Api::<Job>::namespaced(client.clone(), &ns)
                    .delete(&job.name_any(), &DeleteParams::background())
                    .await?;
            }
            retry_seed_in = Some(wait.max(Duration::from_secs(1)));
        }
    }

    let status = ShopStatus {
        observed_generation: shop.metadata.generation,
        url: builders::url(shop),
        components: observed.components.clone(),
        conditions: status::conditions(&previous.conditions, &observed, &now),
    };
    announce_transitions(ctx, shop, &previous, &status).await;
    if status != previous {
        patch_status(&shops, shop, &status).await?;
    }
    let ready = status.conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True");
    let next = if ready { Duration::from_secs(300) } else { Duration::from_secs(15) };
    Ok(Action::requeue(retry_seed_in.map_or(next, |r| r.min(next))))
}

/// Writes the status by server-side apply on the status subresource: what
/// this status no longer says (a URL without an ingress) is removed, because
/// the operator's field manager owned it.
async fn patch_status(shops: &Api<Shop>, shop: &Shop, status: &ShopStatus) -> kube::Result<()> {
    let mut patch =
        serde_json::json!({"apiVersion": Shop::api_version(&()), "kind": Shop::kind(&()), "status": status});
    // And said explicitly, for servers that keep what an apply leaves out.
    if status.url.is_none() {
        patch["status"]["url"] = serde_json::Value::Null;
    }
    shops.patch_status(&shop.name_any(), &PatchParams::apply(MANAGER).force(), &Patch::Apply(&patch)).await?;
    Ok(())
}

/// Kubernetes Events for conditions that changed.
async fn announce_transitions(ctx: &Context, shop: &Shop, before: &ShopStatus, after: &ShopStatus) {
    for c in &after.conditions {
        // A new status, or the same status for a new reason (a pending seed
        // that starts failing stays False), is news.
        let was = before.conditions.iter().find(|p| p.type_ == c.type_);
        if was.is_some_and(|p| p.status == c.status && p.reason == c.reason) {
            continue;
        }
        match (c.type_.as_str(), c.status.as_str()) {
            ("Ready", "True") => publish(ctx, shop, EventType::Normal, "ShopReady", &c.message).await,
            ("Degraded", "True") => publish(ctx, shop, EventType::Warning, &c.reason, &c.message).await,
            ("DemoAccounts", "True") => publish(ctx, shop, EventType::Warning, &c.reason, &c.message).await,
            ("Reconciled", "False") => publish(ctx, shop, EventType::Warning, &c.reason, &c.message).await,
            ("DemoAccounts", "False") if c.reason == "AdminPasswordGenerated" => {
                publish(ctx, shop, EventType::Normal, &c.reason, &c.message).await
            }
            ("Seeded", "True") => publish(ctx, shop, EventType::Normal, "Seeded", &c.message).await,
            ("Seeded", "False") if c.reason == "SeedFailed" => {
                publish(ctx, shop, EventType::Warning, "SeedFailed", &c.message).await
            }
            _ => {}
        }
    }
}

async fn publish(ctx: &Context, shop: &Shop, type_: EventType, reason: &str, note: &str) {
    let recorder = &ctx.recorder;
    let event =
        Event { type_, reason: reason.into(), note: Some(note.into()), action: "Reconcile".into(), secondary: None };
    if let Err(e) = recorder.publish(&event, &shop.object_ref(&())).await {
        tracing::warn!(error = %e, "could not publish an event");
    }
}

/// How long a seed Job that failed for good waits before it runs again.
pub const SEED_RETRY_AFTER: Duration = Duration::from_secs(30);

/// What the seed Job has done so far.
#[derive(Debug, Default, PartialEq)]
pub struct SeedOutcome {
    pub succeeded: bool,
    /// The last failed attempt's message, while it has not succeeded.
    pub failure: Option<String>,
    /// Set when the Job failed for good: how long until it is run again.
    pub retry_in: Option<Duration>,
}

/// Reads a seed Job's status and its failed pods' termination messages.
pub fn seed_outcome(job: Option<&Job>, pods: &[Pod], now: k8s_openapi::jiff::Timestamp) -> SeedOutcome {
    let Some(job) = job else { return SeedOutcome::default() };
    let status = job.status.clone().unwrap_or_default();
    if status.succeeded.unwrap_or(0) >= 1 {
        return SeedOutcome { succeeded: true, ..Default::default() };
    }
    let failed = status.failed.unwrap_or(0);
    if failed == 0 {
        return SeedOutcome::default();
    }
    let last_message = pods
        .iter()
        .filter(|p| p.labels().get("job-name") == Some(&job.name_any()))
        .flat_map(|p| p.status.iter().flat_map(|s| s.container_statuses.iter().flatten()))
        .filter_map(|c| c.state.as_ref()?.terminated.as_ref())
        .filter(|t| t.exit_code != 0)
        .max_by_key(|t| t.finished_at.clone().map(|f| f.0))
        .map(|t| {
            let text = t.message.clone().or_else(|| t.reason.clone()).unwrap_or_default();
            text.trim().lines().last().unwrap_or_default().to_string()
        })
        .filter(|m| !m.is_empty());
    let gave_up = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Failed" && c.status == "True")
        .map(|c| c.last_transition_time.as_ref().map(|t| t.0).unwrap_or(now));
    let attempts = format!("{failed} of {} attempts failed", builders::SEED_BACKOFF_LIMIT + 1);
    let failure = match &last_message {
        Some(m) => format!("{attempts}; last: {m}"),
        None => format!("{attempts}; see the seed pods' logs"),
    };
    let retry_in = gave_up.map(|at| {
        let elapsed = now.duration_since(at).unsigned_abs();
        SEED_RETRY_AFTER.saturating_sub(elapsed)
    });
    SeedOutcome { succeeded: false, failure: Some(failure), retry_in }
}

/// API errors: retry with exponential backoff (5 s doubling, at most 5 min).
pub fn error_policy(shop: Arc<Shop>, error: &Error, ctx: Arc<Context>) -> Action {
    let mut failures = ctx.failures.lock().unwrap_or_else(|e| e.into_inner());
    let n = failures.entry(shop_key(&shop)).or_insert(0);
    *n = (*n + 1).min(10);
    let delay = Duration::from_secs(5u64.saturating_mul(1 << (*n - 1)).min(300));
    tracing::warn!(shop = %shop.name_any(), error = %error, retry_in = ?delay, "reconcile failed");
    Action::requeue(delay)
}

/// Shops of the same name in two namespaces are two Shops.
fn shop_key(shop: &Shop) -> String {
    format!("{}/{}", shop.namespace().unwrap_or_default(), shop.name_any())
}

/// The Shop a child Pod belongs to (pods are not owned by the Shop directly).
pub fn shop_of_pod(pod: Pod) -> Option<kube::runtime::reflector::ObjectRef<Shop>> {
    let labels = pod.labels();
    if labels.get("app.kubernetes.io/managed-by").map(String::as_str) != Some(MANAGER) {
        return None;
    }
    let instance = labels.get("app.kubernetes.io/instance")?;
    Some(kube::runtime::reflector::ObjectRef::new(instance).within(&pod.namespace()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::{
        api::{
            batch::v1::{JobCondition, JobStatus},
            core::v1::{ContainerState, ContainerStateTerminated, ContainerStatus, PodStatus},
        },
        apimachinery::pkg::apis::meta::v1::Time,
        jiff::{SignedDuration, Timestamp},
    };

    fn job(failed: i32, gave_up_at: Option<Timestamp>) -> Job {
        let mut job = Job::default();
        job.metadata.name = Some("shop-seed-abc".into());
        job.status = Some(JobStatus {
            failed: Some(failed),
            conditions: gave_up_at.map(|at| {
                vec![JobCondition {
                    type_: "Failed".into(),
                    status: "True".into(),
                    last_transition_time: Some(Time(at)),
                    ..Default::default()
                }]
            }),
            ..Default::default()
        });
        job
    }

    fn failed_pod(message: &str) -> Pod {
        let mut pod = Pod::default();
        pod.metadata.labels = Some([("job-name".to_string(), "shop-seed-abc".to_string())].into());
        pod.status = Some(PodStatus {
            container_statuses: Some(vec![ContainerStatus {
                state: Some(ContainerState {
                    terminated: Some(ContainerStateTerminated {
                        exit_code: 1,
                        message: Some(message.into()),
                        finished_at: Some(Time(Timestamp::now())),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        });
        pod
    }

    #[test]
    fn a_failing_seed_reports_its_last_error_and_retries_after_giving_up() {
        let now = Timestamp::now();
        let pods = [failed_pod("migrating\nError: the admin password is too short")];
        let trying = seed_outcome(Some(&job(1, None)), &pods, now);
        assert!(!trying.succeeded);
        assert_eq!(
            trying.failure.as_deref(),
            Some("1 of 4 attempts failed; last: Error: the admin password is too short")
        );
        assert_eq!(trying.retry_in, None, "the Job still retries by itself");
        let gave_up = seed_outcome(Some(&job(4, Some(now))), &pods, now);
        assert_eq!(gave_up.retry_in, Some(SEED_RETRY_AFTER), "run again after the pause");
        let later = now.checked_add(SignedDuration::from_secs(31)).unwrap();
        assert_eq!(seed_outcome(Some(&job(4, Some(now))), &pods, later).retry_in, Some(Duration::ZERO));
        assert_eq!(seed_outcome(None, &[], now), SeedOutcome::default());
    }
}
