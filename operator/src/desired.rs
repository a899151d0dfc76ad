//! Everything one Shop asks for, built once from its spec: reconcile applies
//! it and `atelier-operator render` prints it, from the same code.

use crate::{
    builders::{self, COMPONENTS},
    crd::Shop,
};
use k8s_openapi::api::{
    apps::v1::{Deployment, StatefulSet},
    autoscaling::v2::HorizontalPodAutoscaler,
    batch::v1::Job,
    core::v1::{ConfigMap, Service},
    networking::v1::{Ingress, NetworkPolicy},
    policy::v1::PodDisruptionBudget,
};

/// The Shop's children by kind, in the order they are applied.
#[derive(Debug, Clone)]
pub struct Desired {
    pub config_maps: Vec<ConfigMap>,
    pub stateful_sets: Vec<StatefulSet>,
    pub services: Vec<Service>,
    pub deployments: Vec<Deployment>,
    pub jobs: Vec<Job>,
    pub disruption_budgets: Vec<PodDisruptionBudget>,
    pub autoscalers: Vec<HorizontalPodAutoscaler>,
    pub ingresses: Vec<Ingress>,
    pub network_policies: Vec<NetworkPolicy>,
}

impl Desired {
    /// `checksum` covers every Secret the components read (a change rolls
    /// them), `database_checksum` the managed database's credentials.
    pub fn of(shop: &Shop, checksum: &str, database_checksum: &str) -> Self {
        let managed = shop.spec.database.kind == "managed";
        let (stateful_sets, mut services) = match builders::database(shop, database_checksum) {
            Some((set, svc)) => (vec![set], vec![svc]),
            None => (vec![], vec![]),
        };
        services.extend(COMPONENTS.iter().map(|(c, port)| builders::service(shop, c, *port)));
        Self {
            config_maps: if managed { vec![builders::config_map(shop)] } else { vec![] },
            stateful_sets,
            services,
            deployments: COMPONENTS.iter().map(|(c, port)| builders::deployment(shop, c, *port, checksum)).collect(),
            jobs: vec![builders::seed_job(shop)],
            disruption_budgets: COMPONENTS.iter().filter_map(|(c, _)| builders::pdb(shop, c)).collect(),
            autoscalers: COMPONENTS.iter().filter_map(|(c, _)| builders::hpa(shop, c)).collect(),
            ingresses: builders::ingress(shop).into_iter().collect(),
            network_policies: builders::network_policies(shop),
        }
    }

    /// Every object, as JSON, in apply order.
    pub fn objects(&self) -> Vec<serde_json::Value> {
        fn all<T: serde::Serialize>(items: &[T]) -> impl Iterator<Item = serde_json::Value> + '_ {
            items.iter().map(|i| serde_json::to_value(i).expect("Kubernetes objects serialize"))
        }
        all(&self.config_maps)
            .chain(all(&self.stateful_sets))
            .chain(all(&self.services))
            .chain(all(&self.deployments))
            .chain(all(&self.jobs))
            .chain(all(&self.disruption_budgets))
            .chain(all(&self.autoscalers))
            .chain(all(&self.ingresses))
            .chain(all(&self.network_policies))
            .collect()
    }
}
