//! kube-proxy (or an ingress controller) for one Service, seen from outside
//! the cluster: a port on the host whose connections each go to one of the
//! Service's ready endpoints, in turn, as cluster DNS lists them now.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};
use tokio::{net::TcpListener, task::JoinSet};

pub(crate) type Endpoints = Arc<Mutex<BTreeMap<String, Vec<String>>>>;

/// A Service reachable from the host; forwarding ends when it is dropped
/// (connections included).
pub struct ServiceProxy {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl ServiceProxy {
    pub(crate) async fn start(endpoints: Endpoints, service: &str, port: u16) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let service = service.to_string();
        let task = tokio::spawn(async move {
            let next = AtomicUsize::new(0);
            let mut connections = JoinSet::new();
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else { continue };
                let ready = endpoints.lock().unwrap().get(&service).cloned().unwrap_or_default();
                if ready.is_empty() {
                    // No endpoint: the connection is refused, as a Service without one does.
                    continue;
                }
                let target = format!("{}:{port}", ready[next.fetch_add(1, Ordering::Relaxed) % ready.len()]);
                while connections.try_join_next().is_some() {}
                connections.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                        let _ = outbound.set_nodelay(true);
                        let _ = inbound.set_nodelay(true);
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Ok(Self { addr, task })
    }
}

impl Drop for ServiceProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
