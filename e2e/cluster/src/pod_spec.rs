//! What a container needs before it can start, read from the pod spec the
//! way the kubelet reads it: environment (`value`, `secretKeyRef`,
//! `configMapKeyRef`, `fieldRef`) and volumes (Secret, ConfigMap, emptyDir,
//! persistent claims).

use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, Secret};
use kube::{Api, Client, ResourceExt};
use std::{
    collections::BTreeMap,
    os::unix::fs::{PermissionsExt, chown},
    path::{Path, PathBuf},
};

/// The container's environment, or why it cannot be built (the kubelet's
/// `CreateContainerConfigError`).
pub async fn environment(
    client: &Client,
    pod: &Pod,
    container: &Container,
    pod_ip: &str,
) -> Result<BTreeMap<String, String>, String> {
    let ns = pod.namespace().unwrap_or_default();
    let mut env = BTreeMap::new();
    for var in container.env.iter().flatten() {
        let value = match (&var.value, &var.value_from) {
            (Some(v), _) => v.clone(),
            (None, Some(from)) => {
                if let Some(r) = &from.secret_key_ref {
                    let secret = Api::<Secret>::namespaced(client.clone(), &ns)
                        .get_opt(&r.name)
                        .await
                        .map_err(|e| e.to_string())?;
                    let value = secret.map(secret_data).and_then(|mut d| d.remove(&r.key));
                    match value {
                        Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                        None if r.optional == Some(true) => continue,
                        None => return Err(format!("secret {:?} has no key {:?} (or does not exist)", r.name, r.key)),
                    }
                } else if let Some(r) = &from.config_map_key_ref {
                    let map = Api::<ConfigMap>::namespaced(client.clone(), &ns)
                        .get_opt(&r.name)
                        .await
                        .map_err(|e| e.to_string())?;
                    match map.as_ref().and_then(|m| m.data.as_ref()?.get(&r.key).cloned()) {
                        Some(v) => v,
                        None if r.optional == Some(true) => continue,
                        None => return Err(format!("configmap {:?} has no key {:?}", r.name, r.key)),
                    }
                } else if let Some(f) = &from.field_ref {
                    match f.field_path.as_str() {
                        "metadata.name" => pod.name_any(),
                        "metadata.namespace" => ns.clone(),
                        "metadata.uid" => pod.uid().unwrap_or_default(),
                        "status.podIP" => pod_ip.to_string(),
                        "spec.nodeName" => "cluster-in-a-box".into(),
                        "spec.serviceAccountName" => {
                            pod.spec.as_ref().and_then(|s| s.service_account_name.clone()).unwrap_or_default()
                        }
                        other => return Err(format!("fieldRef {other} is not supported")),
                    }
                } else {
                    return Err(format!("env {}: unsupported valueFrom", var.name));
                }
            }
            (None, None) => String::new(),
        };
        env.insert(var.name.clone(), value);
    }
    Ok(env)
}

/// A Secret's content. The API server folds `stringData` into `data` on
/// write; the in-memory API keeps them apart, so read both.
fn secret_data(secret: Secret) -> BTreeMap<String, Vec<u8>> {
    let mut data: BTreeMap<String, Vec<u8>> =
        secret.data.unwrap_or_default().into_iter().map(|(k, v)| (k, v.0)).collect();
    for (k, v) in secret.string_data.unwrap_or_default() {
        data.insert(k, v.into_bytes());
    }
    data
}

/// A volume made ready on this node: where its content lives.
#[derive(Debug, Clone)]
pub struct Volume {
    pub name: String,
    pub host_path: PathBuf,
}

/// Creates the pod's volumes under `pod_dir`; claims live under `claims`
/// and outlive the pod. Owned by root, group `fs_group`, as the kubelet does.
pub async fn volumes(
    client: &Client,
    pod: &Pod,
    pod_dir: &Path,
    claims: &Path,
    fs_group: Option<u32>,
) -> Result<Vec<Volume>, String> {
    let ns = pod.namespace().unwrap_or_default();
    let mut out = vec![];
    let spec = pod.spec.as_ref().ok_or("pod without spec")?;
    let io = |e: std::io::Error| e.to_string();
    for v in spec.volumes.iter().flatten() {
        let mut dir = pod_dir.join("volumes").join(&v.name);
        if let Some(claim) = &v.persistent_volume_claim {
            dir = claims.join(&claim.claim_name);
            std::fs::create_dir_all(&dir).map_err(io)?;
            group_writable(&dir, fs_group).map_err(io)?;
        } else if v.empty_dir.is_some() {
            std::fs::create_dir_all(&dir).map_err(io)?;
            group_writable(&dir, fs_group).map_err(io)?;
        } else if let Some(s) = &v.secret {
            let name = s.secret_name.clone().unwrap_or_default();
            let secret = Api::<Secret>::namespaced(client.clone(), &ns)
                .get_opt(&name)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("secret {name:?} not found"))?;
            let files = secret_data(secret).into_iter().collect();
            write_files(&dir, files, s.default_mode.unwrap_or(0o644), fs_group).map_err(io)?;
        } else if let Some(c) = &v.config_map {
            let map = Api::<ConfigMap>::namespaced(client.clone(), &ns)
                .get_opt(&c.name)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("configmap {:?} not found", c.name))?;
            let files = map.data.unwrap_or_default().into_iter().map(|(k, v)| (k, v.into_bytes())).collect();
            write_files(&dir, files, c.default_mode.unwrap_or(0o644), fs_group).map_err(io)?;
        } else {
            return Err(format!("volume {}: unsupported source", v.name));
        }
        out.push(Volume { name: v.name.clone(), host_path: dir });
    }
    Ok(out)
}

fn group_writable(dir: &Path, fs_group: Option<u32>) -> std::io::Result<()> {
    chown(dir, Some(0), fs_group)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(if fs_group.is_some() { 0o2775 } else { 0o777 }))
}

fn write_files(dir: &Path, files: Vec<(String, Vec<u8>)>, mode: i32, fs_group: Option<u32>) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
    for (name, content) in files {
        let path = dir.join(name);
        std::fs::write(&path, content)?;
        chown(&path, Some(0), fs_group)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode as u32 & 0o777))?;
    }
    Ok(())
}
