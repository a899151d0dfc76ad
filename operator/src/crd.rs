//! The `Shop` custom resource (`atelier.dev/v1alpha1`).

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A running Atelier shop: its services, gateway, database, seed data and
/// ingress. Every field is optional.
#[derive(CustomResource, KubeSchema, Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "atelier.dev",
    version = "v1alpha1",
    kind = "Shop",
    namespaced,
    shortname = "shop",
    status = "ShopStatus",
    derive = "Default",
    doc = "An Atelier online shop: the operator runs its four services, gateway and (managed) database, seeds it and reports its health in status. `kubectl explain shop.spec` documents every field.",
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"URL","type":"string","jsonPath":".status.url"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct ShopSpec {
    /// Container image with Atelier's binaries (`/atelier` and one per role,
    /// `/atelier-<role>`, as this version's image holds them). Default: the
    /// operator's own image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self != ''").message("image must not be empty (leave it out for the operator's own)"))]
    pub image: Option<String>,
    /// Image pull policy: Always, IfNotPresent or Never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^(Always|IfNotPresent|Never)$"))]
    pub image_pull_policy: Option<String>,
    /// The web site and JSON API.
    #[serde(default)]
    pub gateway: ComponentSpec,
    /// Users, passwords and sessions.
    #[serde(default)]
    pub auth: ComponentSpec,
    /// Catalogue and stock.
    #[serde(default)]
    pub product: ComponentSpec,
    /// Carts.
    #[serde(default)]
    pub cart: ComponentSpec,
    /// Checkout and orders.
    #[serde(default)]
    pub order: ComponentSpec,
    #[serde(default)]
    pub database: DatabaseSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<IngressSpec>,
    #[serde(default)]
    pub seed: SeedSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telemetry: Option<TelemetrySpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<MonitoringSpec>,
    /// The shop's time zone, an IANA name such as Europe/Rome: dates on the
    /// site and "today" on the admin dashboard follow it. Default UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$"), length(max = 64))]
    pub time_zone: Option<String>,
    /// Stop reconciling this shop (children are left as they are).
    #[serde(default)]
    pub paused: bool,
}

/// How one component runs.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComponentSpec {
    /// Pods to run (default 1). Ignored while autoscaling is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub replicas: Option<i32>,
    /// Container resources; default requests 50m CPU / 32Mi, limit 128Mi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Resources>,
    /// Scale on CPU with a HorizontalPodAutoscaler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<AutoscalingSpec>,
}

/// A bounded map of resource name to quantity: bounds keep the CEL rules'
/// estimated cost within what the API server accepts.
fn quantities(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "maxProperties": 3,
        "additionalProperties": {"type": "string", "maxLength": 32}
    })
}

/// Requests and limits, as in a Pod spec (e.g. cpu: 100m, memory: 64Mi).
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, KubeSchema)]
pub struct Resources {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "quantities")]
    #[x_kube(validation = Rule::new("self.all(k, k in ['cpu', 'memory', 'ephemeral-storage'])").message("resources are cpu, memory or ephemeral-storage"))]
    #[x_kube(validation = Rule::new("self.all(k, isQuantity(self[k]))").message("each request must be a quantity, e.g. 100m or 64Mi"))]
    pub requests: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "quantities")]
    #[x_kube(validation = Rule::new("self.all(k, k in ['cpu', 'memory', 'ephemeral-storage'])").message("resources are cpu, memory or ephemeral-storage"))]
    #[x_kube(validation = Rule::new("self.all(k, isQuantity(self[k]))").message("each limit must be a quantity, e.g. 500m or 128Mi"))]
    pub limits: BTreeMap<String, String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.minReplicas <= self.maxReplicas").message("minReplicas must not exceed maxReplicas"))]
pub struct AutoscalingSpec {
    #[schemars(range(min = 1))]
    pub min_replicas: i32,
    #[schemars(range(min = 1, max = 100))]
    pub max_replicas: i32,
    /// Average CPU utilisation to aim for, in percent (default 70).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub target_cpu_utilization: Option<i32>,
}

/// Where the four services keep their data.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.kind == 'managed' || has(self.secretName)").message("an external database needs secretName"))]
#[x_kube(validation = Rule::new("!has(oldSelf.storage) || (has(self.storage) && self.storage == oldSelf.storage)").message("database.storage cannot change once set: a StatefulSet's volume claims are immutable"))]
#[x_kube(validation = Rule::new("!has(oldSelf.storageClassName) || (has(self.storageClassName) && self.storageClassName == oldSelf.storageClassName)").message("database.storageClassName cannot change once set"))]
pub struct DatabaseSpec {
    /// `managed`: the operator runs PostgreSQL (a StatefulSet) with one
    /// database and login per service. `external`: connection URLs come from
    /// `secretName` (keys auth, product, cart, order).
    #[serde(default = "managed")]
    #[schemars(regex(pattern = "^(managed|external)$"))]
    pub kind: String,
    /// Volume size of the managed database (default 1Gi); fixed once set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    #[x_kube(validation = Rule::new("isQuantity(self)").message("storage must be a quantity, e.g. 10Gi"))]
    pub storage: Option<String>,
    /// Storage class of the managed database's volume; fixed once set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class_name: Option<String>,
    /// Secret with the connection URL of each service (external only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
}

fn managed() -> String {
    "managed".into()
}

impl Default for DatabaseSpec {
    fn default() -> Self {
        Self { kind: "managed".into(), storage: None, storage_class_name: None, secret_name: None }
    }
}

/// Exposure through the cluster's ingress controller.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngressSpec {
    /// Host name, e.g. shop.example.com.
    pub host: String,
    /// IngressClass to use (default: the cluster's default class).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    /// Secret with the TLS certificate for `host`; serves HTTPS when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_secret_name: Option<String>,
    /// Addresses (CIDRs) of the ingress controller's pods: only their
    /// X-Forwarded-For and X-Forwarded-Proto are believed, so a client cannot
    /// pick the address its failed logins count against. Empty: the gateway
    /// trusts no forwarding header.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32), inner(regex(pattern = r"^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$")))]
    pub trusted_proxies: Vec<String>,
}

/// What to create on first start.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeedSpec {
    /// The sample catalogue (default true).
    #[serde(default = "yes")]
    pub sample_catalog: bool,
    /// The demo accounts admin/admin123 and demo-client/demo123 (default true).
    #[serde(default = "yes")]
    pub demo_accounts: bool,
    /// Take the admin password from this Secret key. Without it, demo shops
    /// use admin123; with `demoAccounts: false` the operator generates one
    /// into the Secret `<shop>-admin` (key `password`), never a published one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_password_secret_ref: Option<SecretKeyRef>,
}

fn yes() -> bool {
    true
}

impl SeedSpec {
    /// Where the admin password comes from, if not the demo one: the given
    /// Secret key, or the generated `<shop>-admin` for a shop without demo accounts.
    pub fn admin_password_source(&self, shop_name: &str) -> Option<SecretKeyRef> {
        match (&self.admin_password_secret_ref, self.demo_accounts) {
            (Some(r), _) => Some(r.clone()),
            (None, true) => None,
            (None, false) => Some(SecretKeyRef { name: format!("{shop_name}-admin"), key: "password".into() }),
        }
    }

    /// True when the operator must generate the admin password Secret.
    pub fn generates_admin_password(&self) -> bool {
        self.admin_password_secret_ref.is_none() && !self.demo_accounts
    }
}

impl Default for SeedSpec {
    fn default() -> Self {
        Self { sample_catalog: true, demo_accounts: true, admin_password_secret_ref: None }
    }
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct SecretKeyRef {
    pub name: String,
    pub key: String,
}

/// OpenTelemetry export.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TelemetrySpec {
    /// OTLP/gRPC endpoint, e.g. http://otel-collector.observability:4317.
    pub otlp_endpoint: String,
    /// Fraction of traces to keep, 0 to 1 (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub sampling_ratio: Option<f64>,
}

/// Who scrapes the components' metrics (port 9090, never exposed by the
/// Ingress or the Services).
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MonitoringSpec {
    /// The namespaces whose pods may scrape, by their labels, e.g.
    /// `matchLabels: {kubernetes.io/metadata.name: monitoring}`. Without
    /// this section, pods of any namespace may.
    pub namespace_selector: NamespaceSelector,
}

/// Namespaces by labels (every label must match).
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceSelector {
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
}

/// What the operator sees.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShopStatus {
    /// The generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Where shoppers reach the shop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Per component: desired and ready pods, container restarts.
    #[serde(default)]
    pub components: BTreeMap<String, ComponentStatus>,
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct ComponentStatus {
    pub desired: i32,
    pub ready: i32,
    pub restarts: i32,
}

/// Ready, Progressing, Degraded, DatabaseReady, Seeded.
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    /// True, False or Unknown.
    pub status: String,
    pub reason: String,
    pub message: String,
    /// When `status` last changed (RFC 3339).
    pub last_transition_time: String,
}

/// The image a Shop without `spec.image` runs: the operator's own image,
/// which holds every Atelier binary (the Helm chart passes it in
/// `ATELIER_DEFAULT_IMAGE`). Set once at start-up.
static DEFAULT_IMAGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Sets the default image; later calls are ignored.
pub fn set_default_image(image: &str) {
    let _ = DEFAULT_IMAGE.set(image.to_string());
}

/// The default image: as set, else the locally built `atelier:<version>`.
pub fn default_image() -> String {
    DEFAULT_IMAGE.get().cloned().unwrap_or_else(|| format!("atelier:{}", env!("CARGO_PKG_VERSION")))
}

impl Shop {
    pub fn image(&self) -> String {
        self.spec.image.clone().unwrap_or_else(default_image)
    }
}
