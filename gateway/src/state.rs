//! What every handler gets.

use crate::{Backends, Clients, page_cache::PageCache, read_cache::ReadCache};
use std::sync::Arc;

/// Everything a handler needs, cheap to clone: axum clones the state for
/// every extractor and middleware, and cloning four gRPC channels each time
/// cost half the CPU of a cached page (measured with perf).
#[derive(Clone)]
pub struct AppState {
    pub clients: Arc<Clients>,
    pub(crate) pages: Arc<PageCache>,
    pub(crate) reads: Arc<ReadCache>,
    pub(crate) proxies: Arc<crate::proxies::TrustedProxies>,
    pub(crate) credential: Option<Arc<atelier_runtime::identity::ServiceCredential>>,
}

impl AppState {
    pub fn connect(backends: &Backends) -> anyhow::Result<Self> {
        crate::format::set_time_zone(crate::format::time_zone_from_env()?);
        Ok(Self {
            clients: Arc::new(Clients::connect(backends)?),
            pages: Arc::new(PageCache::new(crate::page_cache::ttl_from_env())),
            reads: Arc::new(ReadCache::new(crate::page_cache::ttl_from_env())),
            proxies: Arc::new(backends.trusted_proxies.clone()),
            credential: backends.credential.clone().map(Arc::new),
        })
    }
}
