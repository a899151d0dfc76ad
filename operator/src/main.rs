//! `atelier-operator`: runs the Shop controller, or prints the CRD.

use atelier_operator::{
    crd::Shop,
    leader::{Leadership, Timing},
    reconcile::{self, Context},
};
use clap::{Parser, Subcommand};
use futures::StreamExt;
use k8s_openapi::api::{
    apps::v1::{Deployment, StatefulSet},
    autoscaling::v2::HorizontalPodAutoscaler,
    batch::v1::Job,
    core::v1::{ConfigMap, Pod, Secret, Service},
    networking::v1::{Ingress, NetworkPolicy},
    policy::v1::PodDisruptionBudget,
};
use kube::{
    Api, Client, CustomResourceExt,
    runtime::{Controller, watcher},
};
use std::{net::SocketAddr, sync::Arc};

/// The Atelier operator: turns Shop resources into running shops.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Address of /metrics, /healthz and /readyz.
    #[arg(long, env = "ATELIER_OPERATOR_HTTP", default_value = "0.0.0.0:8080")]
    http: SocketAddr,
    /// Elect a leader on a Lease so that several replicas are safe.
    #[arg(long, env = "ATELIER_OPERATOR_LEADER_ELECTION", default_value_t = true, action = clap::ArgAction::Set)]
    leader_election: bool,
    /// Watch Shops (and their children) in this namespace only; the chart
    /// then grants a Role there instead of a ClusterRole. Default: all.
    #[arg(long, env = "ATELIER_OPERATOR_WATCH_NAMESPACE")]
    watch_namespace: Option<String>,
    /// Namespace of the leader Lease (default: the pod's namespace).
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    namespace: String,
    /// Image of a Shop without `spec.image`: the operator's own image, which
    /// holds every Atelier binary (the Helm chart sets it).
    #[arg(long, env = "ATELIER_DEFAULT_IMAGE", global = true)]
    default_image: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Print the Shop CustomResourceDefinition as YAML.
    Crd,
    /// Print, as a YAML stream, every object reconcile would apply for a Shop
    /// (generated Secrets with placeholder values).
    Render {
        /// The Shop manifest; `-` reads standard input.
        #[arg(short = 'f', long = "filename")]
        file: String,
    },
    /// Run the controller (the default).
    Run,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(image) = &cli.default_image {
        atelier_operator::crd::set_default_image(image);
    }
    match &cli.command {
        Some(Command::Crd) => {
            print!("{}", serde_yaml::to_string(&Shop::crd())?);
            return Ok(());
        }
        Some(Command::Render { file }) => {
            let text = if file == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("reading {file}: {e}"))?
            };
            let shop: Shop = serde_yaml::from_str(&text).map_err(|e| anyhow::anyhow!("{file} is not a Shop: {e}"))?;
            print!("{}", atelier_operator::render::render(shop)?);
            return Ok(());
        }
        _ => {}
    }
    let _telemetry = atelier_telemetry::init("atelier-operator");
    let client = Client::try_default().await?;
    let ctx = Context::new(client.clone());
    let ready = Arc::new(std::sync::atomic::AtomicBool::new(false));
    tokio::spawn(serve_http(cli.http, ctx.clone(), ready.clone()));
    // Ready once connected; a standby replica is healthy too, it just waits to lead.
    ready.store(true, std::sync::atomic::Ordering::Relaxed);

    let mut leadership = None;
    if cli.leader_election {
        let identity = std::env::var("POD_NAME").unwrap_or_else(|_| format!("atelier-operator-{}", std::process::id()));
        let mut joined = Leadership::join(client.clone(), &cli.namespace, &identity, Timing::default()).await?;
        tracing::info!(%identity, "waiting to lead");
        tokio::select! {
            _ = joined.acquired() => tracing::info!("leading"),
            // A standby asked to stop just leaves.
            _ = terminated() => {
                if let Err(e) = joined.release().await {
                    tracing::warn!(error = %format!("{e:#}"), "leaving the election; the lease expires by itself");
                }
                return Ok(());
            }
        }
        leadership = Some(joined);
    }
    // Reconciling stops on SIGTERM, or at once if another replica took the
    // lease (never two leaders reconciling).
    let lost = leadership.as_ref().map(Leadership::lost);
    let stop = async move {
        match lost {
            Some(lost) => {
                tokio::select! { _ = lost => tracing::error!("lost the leader lease"), _ = terminated() => {} }
            }
            None => terminated().await,
        }
    };

    let scope = Scope(cli.watch_namespace.clone());
    let owned = watcher::Config::default().labels("app.kubernetes.io/managed-by=atelier-operator");
    Controller::new(scope.api::<Shop>(&client), watcher::Config::default())
        .owns(scope.api::<Deployment>(&client), owned.clone())
        .owns(scope.api::<StatefulSet>(&client), owned.clone())
        .owns(scope.api::<Job>(&client), owned.clone())
        .owns(scope.api::<Service>(&client), owned.clone())
        .owns(scope.api::<Secret>(&client), owned.clone())
        .owns(scope.api::<Ingress>(&client), owned.clone())
        .owns(scope.api::<ConfigMap>(&client), owned.clone())
        .owns(scope.api::<PodDisruptionBudget>(&client), owned.clone())
        .owns(scope.api::<HorizontalPodAutoscaler>(&client), owned.clone())
        .owns(scope.api::<NetworkPolicy>(&client), owned.clone())
        .watches(scope.api::<Pod>(&client), owned, reconcile::shop_of_pod)
        .graceful_shutdown_on(stop)
        .run(reconcile::reconcile, reconcile::error_policy, ctx)
        .for_each(|result| async move {
            // Failed reconciles are logged by the error policy; what reaches
            // here also covers the watch streams (a 403, a missing CRD).
            if let Err(e) = result {
                tracing::warn!(error = %e, "controller error");
            }
        })
        .await;
    if let Some(leadership) = leadership {
        let lost = !leadership.is_leading();
        match leadership.release().await {
            Ok(()) => tracing::info!("leader lease released"),
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "the leader lease expires by itself"),
        }
        if lost {
            // Back as a standby, through a restart.
            std::process::exit(1);
        }
    }
    Ok(())
}

/// Where the operator watches: every namespace, or one.
struct Scope(Option<String>);

impl Scope {
    fn api<K>(&self, client: &Client) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        match &self.0 {
            Some(namespace) => Api::namespaced(client.clone(), namespace),
            None => Api::all(client.clone()),
        }
    }
}

/// Resolves on SIGTERM or SIGINT.
async fn terminated() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut term), Ok(mut int)) => tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} },
        _ => std::future::pending().await,
    }
}

async fn serve_http(
    addr: SocketAddr,
    ctx: Arc<Context>,
    ready: Arc<std::sync::atomic::AtomicBool>,
) -> anyhow::Result<()> {
    use axum::{Router, http::StatusCode, routing::get};
    let app =
        Router::new()
            .route("/healthz", get(|| async { "ok" }))
            .route(
                "/readyz",
                get(move || {
                    let ready = ready.load(std::sync::atomic::Ordering::Relaxed);
                    async move {
                        if ready { (StatusCode::OK, "ready") } else { (StatusCode::SERVICE_UNAVAILABLE, "starting") }
                    }
                }),
            )
            .route("/metrics", get(move || async move { ctx.metrics.render() }));
    axum::serve(tokio::net::TcpListener::bind(addr).await?, app).await?;
    Ok(())
}
