//! Status from the children: typed conditions derived from Deployments,
//! Pods, the database and the seed Job; a condition's lastTransitionTime
//! changes only when its status does.

use crate::crd::{ComponentStatus, Condition};
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use std::collections::BTreeMap;

/// What the reconcile observed.
#[derive(Debug, Default)]
pub struct Observed {
    pub components: BTreeMap<String, ComponentStatus>,
    pub database_ready: bool,
    pub database_message: String,
    pub seeded: bool,
    /// Why the seed Job's last attempt failed, while it has not succeeded.
    pub seed_failure: Option<String>,
    /// Pods stuck restarting: (pod, component, reason).
    pub crashing: Vec<(String, String, String)>,
    /// The seed creates the demo accounts, whose passwords are published.
    pub demo_accounts: bool,
    /// The Secret holding the admin password the operator generated.
    pub generated_admin_secret: Option<String>,
    /// Children the API refused to apply: "Kind name: reason".
    pub refused: Vec<String>,
}

/// Pods whose containers are crash-looping or cannot start.
pub fn crashing_pods(pods: &[Pod]) -> Vec<(String, String, String)> {
    let mut out = vec![];
    for pod in pods {
        let component = pod.labels().get("app.kubernetes.io/component").cloned().unwrap_or_default();
        for cs in pod.status.iter().flat_map(|s| s.container_statuses.iter().flatten()) {
            let waiting = cs.state.as_ref().and_then(|s| s.waiting.as_ref()).and_then(|w| w.reason.clone());
            if let Some(reason) = waiting.filter(|r| {
                matches!(
                    r.as_str(),
                    "CrashLoopBackOff" | "ImagePullBackOff" | "ErrImagePull" | "CreateContainerConfigError"
                )
            }) {
                out.push((pod.name_any(), component.clone(), reason));
            }
        }
    }
    out
}

pub fn restarts(pods: &[Pod], component: &str) -> i32 {
    pods.iter()
        .filter(|p| p.labels().get("app.kubernetes.io/component").map(String::as_str) == Some(component))
        .flat_map(|p| p.status.iter().flat_map(|s| s.container_statuses.iter().flatten()))
        .map(|c| c.restart_count)
        .sum()
}

/// The conditions for what was observed, keeping transition times.
pub fn conditions(previous: &[Condition], observed: &Observed, now: &str) -> Vec<Condition> {
    let all_ready = !observed.components.is_empty() && observed.components.values().all(|c| c.ready >= c.desired);
    let (degraded, degraded_reason, degraded_message) = match observed.crashing.first() {
        Some((pod, component, reason)) => (true, "PodFailing", format!("pod {pod} ({component}) is in {reason}")),
        None => match &observed.seed_failure {
            Some(why) => (true, "SeedFailing", format!("the seed Job failed: {why}")),
            None => (false, "AsExpected", "no failing pods".to_string()),
        },
    };
    let waiting: Vec<String> = observed
        .components
        .iter()
        .filter(|(_, c)| c.ready < c.desired)
        .map(|(n, c)| format!("{n} {}/{}", c.ready, c.desired))
        .collect();
    let ready = all_ready && observed.seeded && observed.database_ready;
    let entries = [
        if observed.refused.is_empty() {
            ("Reconciled", true, "Applied", "every child object is applied".to_string())
        } else {
            ("Reconciled", false, "ApplyRefused", format!("the API refused: {}", observed.refused.join("; ")))
        },
        (
            "DatabaseReady",
            observed.database_ready,
            if observed.database_ready { "DatabaseUp" } else { "DatabaseStarting" },
            observed.database_message.clone(),
        ),
        match (&observed.seed_failure, observed.seeded) {
            (_, true) => ("Seeded", true, "SeedSucceeded", "default data is in place".to_string()),
            (Some(why), false) => ("Seeded", false, "SeedFailed", why.clone()),
            (None, false) => ("Seeded", false, "SeedPending", "the seed Job has not succeeded yet".to_string()),
        },
        (
            "Progressing",
            !ready && !degraded,
            if ready { "Complete" } else { "RollingOut" },
            if waiting.is_empty() {
                "all components ready".into()
            } else {
                format!("waiting for {}", waiting.join(", "))
            },
        ),
        ("Degraded", degraded, degraded_reason, degraded_message),
        if observed.demo_accounts {
            (
                "DemoAccounts",
                true,
                "DemoAccountsEnabled",
                "admin/admin123 and demo-client/demo123 can log in: their passwords are published. \
                 Set spec.seed.demoAccounts: false for a shop open to the public"
                    .to_string(),
            )
        } else if let Some(secret) = &observed.generated_admin_secret {
            (
                "DemoAccounts",
                false,
                "AdminPasswordGenerated",
                format!(
                    "no account has a published password; the admin's was generated: \
                     kubectl get secret {secret} -o jsonpath='{{.data.password}}' | base64 -d"
                ),
            )
        } else {
            ("DemoAccounts", false, "NoDemoAccounts", "no account has a published password".to_string())
        },
        (
            "Ready",
            ready,
            if ready { "ShopReady" } else { "NotReady" },
            if ready {
                "every component is ready and the shop is seeded".into()
            } else {
                "the shop is not ready yet".into()
            },
        ),
    ];
    entries
        .into_iter()
        .map(|(type_, status, reason, message)| condition(previous, type_, status, reason, &message, now))
        .collect()
}

pub fn condition(
    previous: &[Condition],
    type_: &str,
    status: bool,
    reason: &str,
    message: &str,
    now: &str,
) -> Condition {
    let status = if status { "True" } else { "False" };
    let last_transition_time = previous
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .map_or_else(|| now.to_string(), |c| c.last_transition_time.clone());
    Condition {
        type_: type_.into(),
        status: status.into(),
        reason: reason.into(),
        message: message.into(),
        last_transition_time,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(ready: i32) -> Observed {
        Observed {
            components: BTreeMap::from([("gateway".into(), ComponentStatus { desired: 2, ready, restarts: 0 })]),
            database_ready: true,
            seeded: true,
            ..Default::default()
        }
    }

    fn get<'a>(c: &'a [Condition], t: &str) -> &'a Condition {
        c.iter().find(|c| c.type_ == t).unwrap()
    }

    #[test]
    fn progressing_then_ready_keeps_transition_times() {
        let first = conditions(&[], &observed(1), "t1");
        assert_eq!(get(&first, "Ready").status, "False");
        assert_eq!(get(&first, "Progressing").status, "True");
        assert!(get(&first, "Progressing").message.contains("gateway 1/2"));
        let second = conditions(&first, &observed(2), "t2");
        assert_eq!(
            (get(&second, "Ready").status.as_str(), get(&second, "Ready").last_transition_time.as_str()),
            ("True", "t2")
        );
        assert_eq!(get(&second, "DatabaseReady").last_transition_time, "t1", "unchanged status keeps its time");
        let third = conditions(&second, &observed(2), "t3");
        assert_eq!(get(&third, "Ready").last_transition_time, "t2");
    }

    #[test]
    fn a_crash_loop_degrades_and_names_the_pod() {
        let mut o = observed(1);
        o.crashing.push(("shop-cart-abc".into(), "cart".into(), "CrashLoopBackOff".into()));
        let c = conditions(&[], &o, "t");
        assert_eq!(get(&c, "Degraded").status, "True");
        assert!(get(&c, "Degraded").message.contains("shop-cart-abc"));
        assert_eq!(get(&c, "Progressing").status, "False");
    }
}
