//! NetworkPolicies, enforced as a CNI plugin such as Calico or Cilium
//! would: a pod that any policy selects accepts (or sends) only what those
//! policies allow, in each direction they name; replies to allowed
//! connections, loopback and the node's own traffic (the kubelet's probes)
//! always pass. Each pod's rules are one nftables table in its network
//! namespace, replaced atomically when they change.

use k8s_openapi::{
    api::networking::v1::{NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort},
    apimachinery::pkg::{apis::meta::v1::LabelSelector, util::intstr::IntOrString},
};
use kube::core::{Selector, SelectorExt};
use std::{collections::BTreeMap, fmt::Write as _};

/// A pod as policies see it: where it lives and who it is.
#[derive(Debug, Clone)]
pub struct Peer {
    pub key: String,
    pub namespace: String,
    pub namespace_labels: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub ip: String,
}

fn selects(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    Selector::try_from(selector.clone()).is_ok_and(|s| s.matches(labels))
}

/// The addresses a policy peer stands for (pods, namespaces, CIDRs).
fn addresses(peer: &NetworkPolicyPeer, policy_namespace: &str, peers: &[Peer]) -> Vec<String> {
    if let Some(block) = &peer.ip_block {
        return vec![block.cidr.clone()];
    }
    peers
        .iter()
        .filter(|p| match &peer.namespace_selector {
            Some(ns) => selects(ns, &p.namespace_labels),
            None => p.namespace == policy_namespace,
        })
        .filter(|p| peer.pod_selector.as_ref().is_none_or(|s| selects(s, &p.labels)))
        .map(|p| p.ip.clone())
        .collect()
}

/// One rule's nftables lines: `peers` None means from (or to) anywhere.
fn rule_lines(out: &mut String, direction: &str, peers: Option<Vec<String>>, ports: &[NetworkPolicyPort]) {
    let address = match peers {
        None => String::new(),
        // Peers were named but none exists: the rule allows nothing.
        Some(ips) if ips.is_empty() => return,
        Some(ips) => format!("ip {direction} {{ {} }} ", ips.join(", ")),
    };
    if ports.is_empty() {
        let _ = writeln!(out, "    {address}accept");
    }
    for port in ports {
        let protocol = port.protocol.as_deref().unwrap_or("TCP").to_lowercase();
        match &port.port {
            None => {
                let _ = writeln!(out, "    {address}meta l4proto {protocol} accept");
            }
            Some(IntOrString::Int(p)) => {
                let range = port.end_port.map(|end| format!("{p}-{end}")).unwrap_or_else(|| p.to_string());
                let _ = writeln!(out, "    {address}{protocol} dport {range} accept");
            }
            // Named ports are not used by Atelier's policies.
            Some(IntOrString::String(name)) => eprintln!("cluster: named port {name} in a NetworkPolicy is ignored"),
        }
    }
}

/// The nftables script for the pod `me`, or None when no policy selects it.
pub fn ruleset(me: &Peer, policies: &[NetworkPolicy], peers: &[Peer], node_ip: &str) -> Option<String> {
    let mine: Vec<&NetworkPolicy> = policies
        .iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some(me.namespace.as_str()))
        .filter(|p| p.spec.as_ref().is_some_and(|s| selects(&s.pod_selector.clone().unwrap_or_default(), &me.labels)))
        .collect();
    let types = |p: &NetworkPolicy| -> Vec<String> {
        let spec = p.spec.clone().unwrap_or_default();
        spec.policy_types.unwrap_or_else(|| {
            let mut t = vec!["Ingress".to_string()];
            if spec.egress.is_some() {
                t.push("Egress".into());
            }
            t
        })
    };
    let ingress: Vec<&&NetworkPolicy> = mine.iter().filter(|p| types(p).iter().any(|t| t == "Ingress")).collect();
    let egress: Vec<&&NetworkPolicy> = mine.iter().filter(|p| types(p).iter().any(|t| t == "Egress")).collect();
    if ingress.is_empty() && egress.is_empty() {
        return None;
    }
    let mut table = String::new();
    if !ingress.is_empty() {
        let always = format!("iifname \"lo\" accept\n    ip saddr {node_ip} accept");
        chain(&mut table, "ingress", "input", &always, &ingress, peers, |spec| {
            spec.ingress.clone().unwrap_or_default().into_iter().map(|r| (r.from, r.ports)).collect()
        });
    }
    if !egress.is_empty() {
        chain(&mut table, "egress", "output", "oifname \"lo\" accept", &egress, peers, |spec| {
            spec.egress.clone().unwrap_or_default().into_iter().map(|r| (r.to, r.ports)).collect()
        });
    }
    Some(format!("table inet atelier_policy {{\n{table}}}\n"))
}

type Rules = Vec<(Option<Vec<NetworkPolicyPeer>>, Option<Vec<NetworkPolicyPort>>)>;

/// One direction's chain: drop by default; replies, `always` and what the
/// policies' rules (peers and ports, from `rules`) allow pass.
fn chain(
    table: &mut String,
    name: &str,
    hook: &str,
    always: &str,
    policies: &[&&NetworkPolicy],
    peers: &[Peer],
    rules: impl Fn(&k8s_openapi::api::networking::v1::NetworkPolicySpec) -> Rules,
) {
    let _ = writeln!(table, "  chain {name} {{\n    type filter hook {hook} priority 0; policy drop;");
    let _ = writeln!(table, "    ct state established,related accept\n    {always}");
    let direction = if name == "ingress" { "saddr" } else { "daddr" };
    for policy in policies {
        let namespace = policy.metadata.namespace.clone().unwrap_or_default();
        for (named, ports) in rules(&policy.spec.clone().unwrap_or_default()) {
            let addresses = named.map(|n| n.iter().flat_map(|p| addresses(p, &namespace, peers)).collect::<Vec<_>>());
            rule_lines(table, direction, addresses, ports.as_deref().unwrap_or_default());
        }
    }
    table.push_str("  }\n");
}

/// The script that puts `ruleset` in place of the pod's current table (or
/// removes it, for None) in one transaction.
pub fn replacement(ruleset: Option<&str>) -> String {
    format!("table inet atelier_policy\ndelete table inet atelier_policy\n{}", ruleset.unwrap_or_default())
}
