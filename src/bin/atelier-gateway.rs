//! `atelier-gateway`: the web site and JSON API, alone — the same as `atelier serve gateway`,
//! in a binary that holds this role's code only.

atelier::role_binary!("atelier-gateway", gateway(GatewayArgs), "Atelier's gateway: the web site and JSON API.");
