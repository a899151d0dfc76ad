//! Who a request comes from, and whether it came over TLS. The TCP peer is
//! the truth; `X-Forwarded-For` and `X-Forwarded-Proto` are believed only
//! from peers configured as trusted proxies (the ingress controller), because
//! anyone else can write them. Used for the failed-login limits, secure
//! cookies and HSTS.

use http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// A comma-separated list of CIDRs or single addresses; empty trusts none.
    pub fn parse(list: &str) -> anyhow::Result<Self> {
        let nets = list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| anyhow::anyhow!("not a CIDR or an IP address: {s:?}"))
        });
        Ok(Self(nets.collect::<anyhow::Result<_>>()?))
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client: from the peer back through `X-Forwarded-For`, right to
    /// left, the first hop that is not a trusted proxy (hops further left
    /// were written by that client and prove nothing).
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let mut client = peer?;
        let hops = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        let hops: Vec<&str> = hops.flat_map(|v| v.split(',')).map(str::trim).collect();
        for hop in hops.into_iter().rev() {
            if !self.trusts(client) {
                break;
            }
            match hop.parse::<IpAddr>() {
                Ok(ip) => client = ip,
                Err(_) => break, // a garbled hop: stop at the last proxy we trust
            }
        }
        Some(client.to_canonical())
    }

    /// True when a trusted proxy says the client spoke HTTPS to it.
    pub fn came_over_tls(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> bool {
        peer.is_some_and(|p| self.trusts(p))
            && headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|v| {
                // The first value is the one the outermost proxy saw.
                v.split(',').next().is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
            })
    }
}

/// The TCP peer of a request, when the server recorded it.
pub fn peer(extensions: &http::Extensions) -> Option<IpAddr> {
    extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_writes() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let peer = Some("198.51.100.7".parse().unwrap());
        assert_eq!(proxies.client(peer, &headers("203.0.113.9")), peer);
    }

    #[test]
    fn the_rightmost_untrusted_hop_behind_trusted_proxies_is_the_client() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 192.0.2.1").unwrap();
        let peer = Some("10.1.2.3".parse().unwrap());
        // The client wrote "1.2.3.4" itself; the ingress appended its peer.
        let got = proxies.client(peer, &headers("1.2.3.4, 203.0.113.9, 192.0.2.1"));
        assert_eq!(got, Some("203.0.113.9".parse().unwrap()));
        assert_eq!(proxies.client(peer, &headers("garbage")), peer);
        assert_eq!(proxies.client(peer, &HeaderMap::new()), peer);
    }

    #[test]
    fn tls_is_believed_only_from_a_trusted_proxy() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        assert!(proxies.came_over_tls(Some("10.0.0.5".parse().unwrap()), &h));
        assert!(!proxies.came_over_tls(Some("198.51.100.7".parse().unwrap()), &h));
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
    }
}
