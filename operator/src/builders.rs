//! Pure builders: the objects a Shop asks for, from its spec alone (plus the
//! generated Secrets' checksum). No API calls here, so each is unit-tested.

use crate::crd::{ComponentSpec, Shop};
use k8s_openapi::api::{
    apps::v1::{Deployment, StatefulSet},
    autoscaling::v2::HorizontalPodAutoscaler,
    batch::v1::Job,
    core::v1::{ConfigMap, Service},
    networking::v1::{Ingress, NetworkPolicy},
    policy::v1::PodDisruptionBudget,
};
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const MANAGER: &str = "atelier-operator";

/// The five roles, with their ports (0 = HTTP gateway on 3000).
pub const COMPONENTS: [(&str, u16); 5] =
    [("gateway", 3000), ("auth", 50051), ("product", 50052), ("cart", 50053), ("order", 50054)];
pub const SERVICES: [&str; 4] = ["auth", "product", "cart", "order"];
const UID: i64 = 65532;
/// Where the gRPC roles serve `/metrics`.
pub const METRICS_PORT: u16 = 9090;

pub fn labels(shop: &Shop, component: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".into(), "atelier".into()),
        ("app.kubernetes.io/instance".into(), shop.name_any()),
        ("app.kubernetes.io/component".into(), component.into()),
        ("app.kubernetes.io/managed-by".into(), MANAGER.into()),
    ])
}

/// Label selector of everything this operator made for `shop`.
pub fn owned_selector(shop: &Shop) -> String {
    format!("app.kubernetes.io/instance={},app.kubernetes.io/managed-by={MANAGER}", shop.name_any())
}

fn selector(shop: &Shop, component: &str) -> Value {
    json!({"app.kubernetes.io/instance": shop.name_any(), "app.kubernetes.io/component": component})
}

pub fn name(shop: &Shop, suffix: &str) -> String {
    format!("{}-{suffix}", shop.name_any())
}

fn metadata(shop: &Shop, name: &str, component: &str) -> Value {
    let owner = shop.controller_owner_ref(&()).map(|o| serde_json::to_value(o).unwrap_or_default());
    json!({
        "name": name,
        "namespace": shop.namespace(),
        "labels": labels(shop, component),
        "ownerReferences": owner.into_iter().collect::<Vec<_>>(),
    })
}

fn typed<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("builders produce valid objects")
}

pub fn component_spec<'a>(shop: &'a Shop, component: &str) -> &'a ComponentSpec {
    match component {
        "gateway" => &shop.spec.gateway,
        "auth" => &shop.spec.auth,
        "product" => &shop.spec.product,
        "cart" => &shop.spec.cart,
        _ => &shop.spec.order,
    }
}

pub fn replicas(shop: &Shop, component: &str) -> i32 {
    let spec = component_spec(shop, component);
    match &spec.autoscaling {
        Some(a) => a.min_replicas,
        None => spec.replicas.unwrap_or(1),
    }
}

/// Hardened container: non-root, read-only root filesystem, no capabilities.
pub fn container_security() -> Value {
    json!({
        "runAsNonRoot": true, "runAsUser": UID, "runAsGroup": UID,
        "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"}
    })
}

fn pod_security() -> Value {
    json!({"runAsNonRoot": true, "runAsUser": UID, "fsGroup": UID, "seccompProfile": {"type": "RuntimeDefault"}})
}

fn resources(shop: &Shop, component: &str) -> Value {
    match &component_spec(shop, component).resources {
        Some(r) => json!({"requests": r.requests, "limits": r.limits}),
        None => json!({"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}}),
    }
}

/// Native gRPC probes on the services, HTTP probes on the gateway. A
/// service's liveness asks for `atelier.liveness` (the process answers) and
/// its readiness for the overall health (serving once its database first
/// answered), so a database that is late keeps pods out of their Service
/// without restarting them. The
/// gateway's readiness is its own: it keeps serving what it can when a
/// service is down. Answers may take up to 3 s (Kubernetes' default is 1 s):
/// on a busy node (a rollout starting every component at once) a late answer
/// would otherwise take every replica out of its Service together.
pub fn probes(component: &str, port: u16) -> (Value, Value) {
    let (mut liveness, mut readiness) = if component == "gateway" {
        // On the operations port: the public one does not serve them.
        let port = METRICS_PORT;
        (
            json!({"httpGet": {"path": "/healthz", "port": port}, "periodSeconds": 10, "failureThreshold": 3}),
            json!({"httpGet": {"path": "/readyz", "port": port}, "periodSeconds": 5, "failureThreshold": 2}),
        )
    } else {
        (
            json!({"grpc": {"port": port, "service": "atelier.liveness"}, "periodSeconds": 10, "failureThreshold": 3}),
            json!({"grpc": {"port": port}, "periodSeconds": 5, "failureThreshold": 2}),
        )
    };
    liveness["timeoutSeconds"] = json!(PROBE_TIMEOUT_SECONDS);
    readiness["timeoutSeconds"] = json!(PROBE_TIMEOUT_SECONDS);
    (liveness, readiness)
}

const PROBE_TIMEOUT_SECONDS: i64 = 3;

fn secret_env(name: &str, secret: &str, key: &str) -> Value {
    json!({"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}})
}

/// The database URL of a service, from the managed or the external Secret.
fn database_env(shop: &Shop, service: &str, var: &str) -> Value {
    match (&shop.spec.database.kind[..], &shop.spec.database.secret_name) {
        ("external", Some(secret)) => secret_env(var, secret, service),
        _ => secret_env(var, &name(shop, "db-credentials"), &format!("{service}-url")),
    }
}

fn telemetry_env(shop: &Shop, component: &str) -> Vec<Value> {
    let mut env = vec![json!({"name": "OTEL_SERVICE_NAME", "value": format!("atelier-{component}")})];
    if let Some(t) = &shop.spec.telemetry {
        env.push(json!({"name": "OTEL_EXPORTER_OTLP_ENDPOINT", "value": t.otlp_endpoint}));
        env.push(json!({"name": "OTEL_TRACES_SAMPLER", "value": "parentbased_traceidratio"}));
        env.push(json!({"name": "OTEL_TRACES_SAMPLER_ARG", "value": t.sampling_ratio.unwrap_or(1.0).to_string()}));
    }
    env
}

pub fn deployment(shop: &Shop, component: &str, port: u16, checksum: &str) -> Deployment {
    let identity = name(shop, "identity");
    let mut env = vec![json!({"name": "ATELIER_LISTEN", "value": format!("0.0.0.0:{port}")})];
    env.push(json!({"name": "ATELIER_LOG_FORMAT", "value": "json"}));
    // Metrics (and the gateway's probes) on a port of their own, which
    // neither the Ingress nor the Services expose.
    if component == "gateway" {
        env.push(json!({"name": "ATELIER_OPS_LISTEN", "value": format!("0.0.0.0:{METRICS_PORT}")}));
        // Kept-alive connections (from ingress controllers, API clients)
        // still reach a stopping gateway: it tells them to reconnect first.
        env.push(json!({"name": "ATELIER_DRAIN_SECONDS", "value": GATEWAY_DRAIN_SECONDS.to_string()}));
    } else {
        env.push(json!({"name": "ATELIER_METRICS_LISTEN", "value": format!("0.0.0.0:{METRICS_PORT}")}));
    }
    match component {
        "gateway" => {
            for (service, p) in &COMPONENTS[1..] {
                env.push(json!({"name": format!("ATELIER_{}_ADDR", service.to_uppercase()), "value": format!("{}:{p}", name(shop, service))}));
            }
            env.push(secret_env("ATELIER_GATEWAY_KEY", &identity, "gateway-key"));
            env.push(secret_env("ATELIER_GATEWAY_TOKEN", &identity, "gateway-token"));
            if let Some(tz) = &shop.spec.time_zone {
                env.push(json!({"name": "ATELIER_TIME_ZONE", "value": tz}));
            }
            if let Some(proxies) =
                shop.spec.ingress.as_ref().map(|i| i.trusted_proxies.join(",")).filter(|p| !p.is_empty())
            {
                env.push(json!({"name": "ATELIER_TRUSTED_PROXIES", "value": proxies}));
            }
        }
        "auth" => {
            env.push(database_env(shop, "auth", "ATELIER_DATABASE_URL"));
            env.push(secret_env("ATELIER_IDENTITY_SIGNING_KEY", &identity, "signing-key"));
        }
        service => {
            env.push(database_env(shop, service, "ATELIER_DATABASE_URL"));
            env.push(secret_env("ATELIER_IDENTITY_VERIFYING_KEY", &identity, "verifying-key"));
            if service != "product" {
                env.push(json!({"name": "ATELIER_PRODUCT_ADDR", "value": format!("{}:50052", name(shop, "product"))}));
            }
            if service == "order" {
                env.push(json!({"name": "ATELIER_CART_ADDR", "value": format!("{}:50053", name(shop, "cart"))}));
                env.push(secret_env("ATELIER_SERVICE_TOKEN", &identity, "service-token"));
            }
        }
    }
    env.extend(telemetry_env(shop, component));
    let (liveness, readiness) = probes(component, port);
    let served = if component == "gateway" { "http" } else { "grpc" };
    let ports = json!([{"name": served, "containerPort": port}, {"name": "metrics", "containerPort": METRICS_PORT}]);
    let metrics_port = METRICS_PORT;
    let mut spec = json!({
        "selector": {"matchLabels": selector(shop, component)},
        // New pods first: a rollout never has fewer ready pods than asked for.
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
        "template": {
            "metadata": {
                "labels": labels(shop, component),
                // A new Secret or image rolls the pods.
                "annotations": {"atelier.dev/checksum": checksum, "prometheus.io/scrape": "true", "prometheus.io/port": metrics_port.to_string(), "prometheus.io/path": "/metrics"}
            },
            "spec": {
                "automountServiceAccountToken": false,
                "securityContext": pod_security(),
                // The pre-stop delay, then at most 20 s to finish what is in flight.
                "terminationGracePeriodSeconds": PRE_STOP_SECONDS + 20,
                "containers": [{
                    "name": component,
                    "lifecycle": {"preStop": {"sleep": {"seconds": PRE_STOP_SECONDS}}},
                    "image": shop.image(),
                    "imagePullPolicy": shop.spec.image_pull_policy.clone().unwrap_or_else(|| "IfNotPresent".into()),
                    // The role's own binary: it maps only the code it can run.
                    "command": [format!("/atelier-{component}")],
                    "ports": ports,
                    "env": env,
                    "livenessProbe": liveness,
                    "readinessProbe": readiness,
                    "resources": resources(shop, component),
                    "securityContext": container_security(),
                }]
            }
        }
    });
    if component_spec(shop, component).autoscaling.is_none() {
        spec["replicas"] = json!(replicas(shop, component));
    }
    typed(
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata(shop, &name(shop, component), component), "spec": spec}),
    )
}

/// The gateway's Service is a virtual IP for the Ingress. The gRPC services'
/// are headless: cluster DNS answers with every ready pod, and the clients
/// spread their calls over them (one long-lived HTTP/2 connection through a
/// virtual IP would pin each client to one pod).
pub fn service(shop: &Shop, component: &str, port: u16) -> Service {
    let mut spec = json!({"selector": selector(shop, component), "ports": [{"name": "http", "port": port, "targetPort": port, "appProtocol": "http"}]});
    if component != "gateway" {
        spec["clusterIP"] = json!("None");
        spec["ports"] = json!([{"name": "grpc", "port": port, "targetPort": port, "appProtocol": "kubernetes.io/h2c"}]);
    }
    typed(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": metadata(shop, &name(shop, component), component),
        "spec": spec
    }))
}

/// How long a stopping pod keeps serving after it left its Service: longer
/// than the time endpoints, cluster DNS (clients resolve every second) and
/// ingress controllers take to stop sending it anything new.
pub const PRE_STOP_SECONDS: i64 = 5;

/// How long a stopping gateway answers with `Connection: close` before it
/// closes its connections (within the grace period, after the pre-stop delay).
pub const GATEWAY_DRAIN_SECONDS: i64 = 3;

pub fn pdb(shop: &Shop, component: &str) -> Option<PodDisruptionBudget> {
    let spec = component_spec(shop, component);
    let many = spec.autoscaling.is_some() || spec.replicas.unwrap_or(1) > 1;
    many.then(|| {
        typed(json!({
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": metadata(shop, &name(shop, component), component),
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(shop, component)}}
        }))
    })
}

pub fn hpa(shop: &Shop, component: &str) -> Option<HorizontalPodAutoscaler> {
    let a = component_spec(shop, component).autoscaling.as_ref()?;
    Some(typed(json!({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": metadata(shop, &name(shop, component), component),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name(shop, component)},
            "minReplicas": a.min_replicas, "maxReplicas": a.max_replicas,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": a.target_cpu_utilization.unwrap_or(70)}}}]
        }
    })))
}

pub fn ingress(shop: &Shop) -> Option<Ingress> {
    let spec = shop.spec.ingress.as_ref()?;
    let mut ingress = json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": metadata(shop, &shop.name_any(), "gateway"),
        "spec": {"rules": [{"host": spec.host, "http": {"paths": [{"path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": name(shop, "gateway"), "port": {"number": 3000}}}}]}}]}
    });
    if let Some(class) = &spec.class_name {
        ingress["spec"]["ingressClassName"] = json!(class);
    }
    if let Some(tls) = &spec.tls_secret_name {
        ingress["spec"]["tls"] = json!([{"hosts": [spec.host], "secretName": tls}]);
    }
    Some(typed(ingress))
}

/// The URL shoppers use, when an ingress is configured.
pub fn url(shop: &Shop) -> Option<String> {
    shop.spec
        .ingress
        .as_ref()
        .map(|i| format!("{}://{}", if i.tls_secret_name.is_some() { "https" } else { "http" }, i.host))
}

/// The managed database's set-up: one login and one database per service,
/// passwords from the environment (the credentials Secret). Idempotent, with
/// quoted identifiers (`order` is a reserved word): the image runs it on the
/// first start, and the `db-setup` container runs it again at every start of
/// the database pod, so passwords follow the Secret even when the volume
/// outlives it.
pub fn database_setup_script() -> String {
    let mut script = String::from(
        "#!/bin/sh\n# Atelier: one login and database per service; safe to run again.\nset -eu\npsql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --username \"$POSTGRES_USER\" --dbname postgres",
    );
    for s in SERVICES {
        script.push_str(&format!(" \\\n  -v {s}_password=\"${}_PASSWORD\"", s.to_uppercase()));
    }
    let list = SERVICES.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ");
    script.push_str(" <<'SQL'\n");
    script.push_str(&format!(
        "SELECT format('CREATE ROLE %I LOGIN', name) FROM unnest(ARRAY[{list}]) AS name\n  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) \\gexec\n"
    ));
    for s in SERVICES {
        script.push_str(&format!("ALTER ROLE \"{s}\" WITH LOGIN PASSWORD :'{s}_password';\n"));
    }
    script.push_str(&format!(
        "SELECT format('CREATE DATABASE %I OWNER %I', name, name) FROM unnest(ARRAY[{list}]) AS name\n  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = name) \\gexec\n"
    ));
    for s in SERVICES {
        script.push_str(&format!("REVOKE ALL ON DATABASE \"{s}\" FROM PUBLIC;\n"));
    }
    script.push_str("SQL\n");
    script
}

/// Runs the set-up script against the local server at every start of the
/// database pod (the socket trusts local connections, so a regenerated
/// superuser password does not lock it out), then stays up; ready once done.
/// It waits for TCP: the image's first-boot server listens on the socket
/// only, and runs the same script itself.
const DATABASE_SETUP_LOOP: &str = r#"trap 'exit 0' TERM INT
until pg_isready -q -h 127.0.0.1 -U "$POSTGRES_USER"; do sleep 1; done
until /docker-entrypoint-initdb.d/init.sh; do echo "database set-up failed; retrying" >&2; sleep 2; done
echo "database set-up done"
touch /tmp/setup-done
while :; do sleep 3600 & wait $!; done
"#;

pub fn config_map(shop: &Shop) -> ConfigMap {
    typed(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": metadata(shop, &name(shop, "db-init"), "database"),
        "data": {"init.sh": database_setup_script()}
    }))
}

/// The managed PostgreSQL; `checksum` (of the credentials Secret) rolls its
/// pod when the Secret changes, so the set-up runs with the new passwords.
pub fn database(shop: &Shop, checksum: &str) -> Option<(StatefulSet, Service)> {
    if shop.spec.database.kind != "managed" {
        return None;
    }
    let creds = name(shop, "db-credentials");
    let mut env = vec![
        json!({"name": "POSTGRES_USER", "value": "postgres"}),
        secret_env("POSTGRES_PASSWORD", &creds, "postgres-password"),
        json!({"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"}),
    ];
    for s in SERVICES {
        env.push(secret_env(&format!("{}_PASSWORD", s.to_uppercase()), &creds, &format!("{s}-password")));
    }
    let mut claim = json!({
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": shop.spec.database.storage.clone().unwrap_or_else(|| "1Gi".into())}}}
    });
    if let Some(class) = &shop.spec.database.storage_class_name {
        claim["spec"]["storageClassName"] = json!(class);
    }
    let mut security = container_security();
    security["runAsUser"] = json!(70); // the postgres user of the alpine image
    security["runAsGroup"] = json!(70);
    let pg_isready = json!({"command": ["pg_isready", "-q", "-U", "postgres", "-h", "127.0.0.1"]});
    // First boot (image pull, initdb, set-up) may take minutes: liveness
    // starts only once the server has answered once.
    let startup = json!({"exec": pg_isready, "periodSeconds": 2, "timeoutSeconds": 5, "failureThreshold": 150});
    let liveness = json!({"exec": pg_isready, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 6});
    let readiness = json!({"exec": pg_isready, "periodSeconds": 5, "timeoutSeconds": 5});
    let setup_ready = json!({"exec": {"command": ["test", "-e", "/tmp/setup-done"]}, "periodSeconds": 2});
    let set = typed(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": metadata(shop, &name(shop, "db"), "database"),
        "spec": {
            "serviceName": name(shop, "db"),
            "replicas": 1,
            "selector": {"matchLabels": selector(shop, "database")},
            "template": {
                "metadata": {"labels": labels(shop, "database"), "annotations": {"atelier.dev/checksum": checksum}},
                "spec": {
                    "automountServiceAccountToken": false,
                    "securityContext": {"runAsNonRoot": true, "runAsUser": 70, "fsGroup": 70, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": "postgres", "image": "postgres:17-alpine",
                        "ports": [{"name": "postgres", "containerPort": 5432}],
                        "env": env,
                        "startupProbe": startup, "livenessProbe": liveness, "readinessProbe": readiness,
                        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
                        "securityContext": security,
                        "volumeMounts": [
                            {"name": "data", "mountPath": "/var/lib/postgresql/data"},
                            {"name": "init", "mountPath": "/docker-entrypoint-initdb.d", "readOnly": true},
                            {"name": "run", "mountPath": "/var/run/postgresql"},
                            {"name": "tmp", "mountPath": "/tmp"}
                        ]
                    }, {
                        "name": "db-setup", "image": "postgres:17-alpine",
                        "command": ["/bin/sh", "-c", DATABASE_SETUP_LOOP],
                        "env": env,
                        "readinessProbe": setup_ready,
                        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}},
                        "securityContext": security,
                        "volumeMounts": [
                            {"name": "init", "mountPath": "/docker-entrypoint-initdb.d", "readOnly": true},
                            {"name": "run", "mountPath": "/var/run/postgresql"},
                            {"name": "setup-tmp", "mountPath": "/tmp"}
                        ]
                    }],
                    "volumes": [
                        {"name": "init", "configMap": {"name": name(shop, "db-init"), "defaultMode": 0o555}},
                        {"name": "run", "emptyDir": {}},
                        {"name": "tmp", "emptyDir": {}},
                        {"name": "setup-tmp", "emptyDir": {}}
                    ]
                }
            },
            "volumeClaimTemplates": [claim]
        }
    }));
    let svc = typed(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": metadata(shop, &name(shop, "db"), "database"),
        "spec": {"clusterIP": "None", "selector": selector(shop, "database"), "ports": [{"name": "postgres", "port": 5432}]}
    }));
    Some((set, svc))
}

/// Attempts of one seed Job before it is marked failed (each a new pod, so
/// every failure counts in `status.failed`).
pub const SEED_BACKOFF_LIMIT: i32 = 3;

/// The seed Job. Its name is a hash of its whole spec, so anything that would
/// change what it does (image, settings, database) runs it again; seeding is
/// idempotent.
pub fn seed_job(shop: &Shop) -> Job {
    let seed = &shop.spec.seed;
    let mut env = vec![
        database_env(shop, "auth", "ATELIER_AUTH_DATABASE_URL"),
        database_env(shop, "product", "ATELIER_PRODUCT_DATABASE_URL"),
    ];
    if !seed.demo_accounts {
        env.push(json!({"name": "ATELIER_NO_DEMO_ACCOUNTS", "value": "true"}));
    }
    if !seed.sample_catalog {
        env.push(json!({"name": "ATELIER_NO_SAMPLE_CATALOG", "value": "true"}));
    }
    if let Some(r) = seed.admin_password_source(&shop.name_any()) {
        env.push(secret_env("ATELIER_ADMIN_PASSWORD", &r.name, &r.key));
    }
    let spec = json!({
        "backoffLimit": SEED_BACKOFF_LIMIT,
        "template": {
            "metadata": {"labels": labels(shop, "seed")},
            "spec": {
                // Never: a failed attempt is a failed pod, counted by the Job.
                "restartPolicy": "Never",
                "automountServiceAccountToken": false,
                "securityContext": pod_security(),
                "containers": [{
                    "name": "seed", "image": shop.image(),
                    "imagePullPolicy": shop.spec.image_pull_policy.clone().unwrap_or_else(|| "IfNotPresent".into()),
                    "args": ["seed"], "env": env,
                    // A failed attempt's last log lines become its termination message (the Shop's status shows it).
                    "terminationMessagePolicy": "FallbackToLogsOnError",
                    "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}},
                    "securityContext": container_security()
                }]
            }
        }
    });
    let fingerprint = crate::checksum(&[&spec.to_string()]);
    typed(json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": metadata(shop, &name(shop, &format!("seed-{}", &fingerprint[..10])), "seed"),
        "spec": spec
    }))
}

/// Who may talk to whom: exactly the arrows of the data-flow picture.
/// (component, may be reached from, on port)
pub const FLOWS: [(&str, &[&str], u16); 6] = [
    ("gateway", &["*"], 3000),
    ("auth", &["gateway"], 50051),
    ("product", &["gateway", "cart", "order"], 50052),
    ("cart", &["gateway", "order"], 50053),
    ("order", &["gateway"], 50054),
    ("database", &["auth", "product", "cart", "order", "seed"], 5432),
];

/// The port of the OTLP endpoint, when telemetry is on (4317 unless the URL
/// names one).
pub fn otlp_port(shop: &Shop) -> Option<u16> {
    let endpoint = &shop.spec.telemetry.as_ref()?.otlp_endpoint;
    let authority = endpoint.split("://").nth(1).unwrap_or(endpoint).split('/').next().unwrap_or_default();
    Some(authority.rsplit_once(':').and_then(|(_, p)| p.parse().ok()).unwrap_or(4317))
}

/// Egress of each component: its targets, plus DNS.
pub fn egress_targets(component: &str) -> Vec<(&'static str, u16)> {
    FLOWS.iter().filter(|(_, from, _)| from.contains(&component)).map(|(to, _, port)| (*to, *port)).collect()
}

pub fn network_policies(shop: &Shop) -> Vec<NetworkPolicy> {
    let instance = shop.name_any();
    let peer = |component: &str| json!({"podSelector": {"matchLabels": {"app.kubernetes.io/instance": instance, "app.kubernetes.io/component": component}}});
    let mut components: Vec<&str> = FLOWS.iter().map(|(c, _, _)| *c).collect();
    components.push("seed");
    components
        .into_iter()
        .filter(|c| *c != "database" || shop.spec.database.kind == "managed")
        .map(|component| {
            let ingress: Vec<Value> = FLOWS
                .iter()
                .filter(|(to, _, _)| *to == component)
                .map(|(_, from, port)| {
                    if from.contains(&"*") {
                        json!({"ports": [{"port": port}]})
                    } else {
                        json!({"from": from.iter().map(|f| peer(f)).collect::<Vec<_>>(), "ports": [{"port": port}]})
                    }
                })
                .collect();
            let mut egress: Vec<Value> = egress_targets(component)
                .into_iter()
                .filter(|(to, _)| *to != "database" || shop.spec.database.kind == "managed")
                .map(|(to, port)| json!({"to": [peer(to)], "ports": [{"port": port}]}))
                .collect();
            if shop.spec.database.kind == "external" && egress_targets(component).iter().any(|(t, _)| *t == "database") {
                // An external database lives outside the cluster's pods.
                egress.push(json!({"ports": [{"port": 5432}]}));
            }
            egress.push(json!({"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}));
            if let Some(port) = otlp_port(shop)
                && component != "database"
            {
                // Spans go to the collector, wherever it runs.
                egress.push(json!({"ports": [{"port": port, "protocol": "TCP"}]}));
            }
            if component == "database" {
                egress.clear();
            }
            let mut ingress = ingress;
            if !matches!(component, "database" | "seed") {
                // Prometheus scrapes /metrics from the namespaces the Shop names (any, by default).
                let namespaces = match &shop.spec.monitoring {
                    Some(m) => json!({"matchLabels": m.namespace_selector.match_labels}),
                    None => json!({}),
                };
                ingress.push(json!({"from": [{"namespaceSelector": namespaces}], "ports": [{"port": METRICS_PORT}]}));
            }
            typed(json!({
                "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": metadata(shop, &name(shop, component), component),
                "spec": {"podSelector": {"matchLabels": selector(shop, component)}, "policyTypes": ["Ingress", "Egress"], "ingress": ingress, "egress": egress}
            }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::ShopSpec;

    fn shop() -> Shop {
        let mut s = Shop::new("s", ShopSpec::default());
        s.metadata.namespace = Some("ns".into());
        s
    }

    #[test]
    fn probes_are_grpc_for_services_and_http_for_the_gateway() {
        let (live, ready) = probes("cart", 50053);
        assert_eq!((live["grpc"]["port"].as_u64(), ready["grpc"]["port"].as_u64()), (Some(50053), Some(50053)));
        let (live, ready) = probes("gateway", 3000);
        assert_eq!(
            (live["httpGet"]["path"].as_str(), ready["httpGet"]["path"].as_str()),
            (Some("/healthz"), Some("/readyz"))
        );
        assert_eq!(ready["httpGet"]["port"].as_u64(), Some(METRICS_PORT.into()), "not on the public port");
    }

    #[test]
    fn telemetry_opens_egress_to_the_collector_only() {
        let mut s = shop();
        assert_eq!(otlp_port(&s), None);
        s.spec.telemetry = Some(crate::crd::TelemetrySpec {
            otlp_endpoint: "http://otel-collector.observability:4318".into(),
            sampling_ratio: None,
        });
        assert_eq!(otlp_port(&s), Some(4318));
        for p in network_policies(&s) {
            let component = p.labels()["app.kubernetes.io/component"].clone();
            let to_collector = p.spec.as_ref().unwrap().egress.iter().flatten().any(|r| {
                r.ports
                    .iter()
                    .flatten()
                    .any(|port| port.port == Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(4318)))
            });
            assert_eq!(to_collector, component != "database", "{component}");
        }
        s.spec.telemetry.as_mut().unwrap().otlp_endpoint = "http://collector".into();
        assert_eq!(otlp_port(&s), Some(4317));
    }

    #[test]
    fn containers_are_hardened() {
        let sc = container_security();
        assert_eq!(sc["runAsNonRoot"], true);
        assert_eq!(sc["readOnlyRootFilesystem"], true);
        assert_eq!(sc["allowPrivilegeEscalation"], false);
        assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));
        assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");
    }

    /// (from, to) pairs a NetworkPolicy set allows, by component.
    fn allowed(policies: &[NetworkPolicy]) -> Vec<(String, String)> {
        let mut pairs = vec![];
        for p in policies {
            let to = p.labels()["app.kubernetes.io/component"].clone();
            for rule in p.spec.as_ref().unwrap().ingress.iter().flatten() {
                match &rule.from {
                    None => pairs.push(("*".into(), to.clone())),
                    Some(peers) => {
                        for peer in peers {
                            // Metrics scrapes (a namespace selector) are checked on their own.
                            let Some(pods) = peer.pod_selector.as_ref() else { continue };
                            let from = pods.match_labels.as_ref().unwrap()["app.kubernetes.io/component"].clone();
                            pairs.push((from, to.clone()));
                        }
                    }
                }
            }
        }
        pairs.sort();
        pairs
    }

    #[test]
    fn network_policies_allow_exactly_the_data_flow_arrows() {
        let got = allowed(&network_policies(&shop()));
        let mut want: Vec<(String, String)> = [
            ("*", "gateway"),
            ("gateway", "auth"),
            ("gateway", "product"),
            ("gateway", "cart"),
            ("gateway", "order"),
            ("cart", "product"),
            ("order", "product"),
            ("order", "cart"),
            ("auth", "database"),
            ("product", "database"),
            ("cart", "database"),
            ("order", "database"),
            ("seed", "database"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        want.sort();
        assert_eq!(got, want);
        // Every policy restricts both directions; the database reaches nothing.
        for p in network_policies(&shop()) {
            assert_eq!(p.spec.as_ref().unwrap().policy_types.as_ref().unwrap(), &["Ingress", "Egress"]);
            if p.name_any() == "s-database" {
                assert!(p.spec.as_ref().unwrap().egress.as_ref().unwrap().is_empty());
            }
        }
        assert_eq!(egress_targets("cart"), [("product", 50052), ("database", 5432)]);
        // The metrics port of every service and the gateway may be scraped; nothing else opens up.
        for p in network_policies(&shop()) {
            let component = p.labels()["app.kubernetes.io/component"].clone();
            let scraped = p.spec.as_ref().unwrap().ingress.iter().flatten().any(|r| {
                r.ports.iter().flatten().any(|port| {
                    port.port
                        == Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(METRICS_PORT.into()))
                })
            });
            assert_eq!(scraped, SERVICES.contains(&component.as_str()) || component == "gateway", "{component}");
        }
        assert!(
            egress_targets("gateway").iter().all(|(t, _)| *t != "database"),
            "the gateway never reaches the database"
        );
    }
}
