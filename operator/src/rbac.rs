//! Exactly what the operator does with the Kubernetes API: the chart's
//! ClusterRole must grant these and nothing more (checked by a test).

/// (API group, resource, verbs)
pub const CLUSTER_RULES: &[(&str, &str, &[&str])] = &[
    ("atelier.dev", "shops", &["get", "list", "watch"]),
    ("atelier.dev", "shops/status", &["patch"]),
    ("", "configmaps", &["create", "delete", "list", "patch", "watch"]),
    ("", "pods", &["list", "watch"]),
    ("", "secrets", &["create", "delete", "get", "list", "watch"]),
    ("", "services", &["create", "delete", "list", "patch", "watch"]),
    ("apps", "deployments", &["create", "delete", "get", "list", "patch", "watch"]),
    ("apps", "statefulsets", &["create", "delete", "get", "list", "patch", "watch"]),
    ("autoscaling", "horizontalpodautoscalers", &["create", "delete", "list", "patch", "watch"]),
    ("batch", "jobs", &["create", "delete", "get", "list", "patch", "watch"]),
    ("events.k8s.io", "events", &["create", "patch"]),
    ("networking.k8s.io", "ingresses", &["create", "delete", "list", "patch", "watch"]),
    ("networking.k8s.io", "networkpolicies", &["create", "delete", "list", "patch", "watch"]),
    ("policy", "poddisruptionbudgets", &["create", "delete", "list", "patch", "watch"]),
];

/// In the operator's own namespace only: the leader Lease.
pub const NAMESPACE_RULES: &[(&str, &str, &[&str])] = &[("coordination.k8s.io", "leases", &["create", "get", "patch"])];
