//! `complaints healthcheck`: for container probes in images without curl. Asks the running
//! service on its bind address for `/healthz` (or `/readyz` with `--ready`) and exits 0 only
//! on a 200.

use crate::error::ApiError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Probes `bind` (an unspecified address means this host) at `/healthz`, or `/readyz`.
pub async fn probe(bind: SocketAddr, ready: bool) -> Result<(), ApiError> {
    let host = match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let target = SocketAddr::new(host, bind.port());
    let path = if ready { "/readyz" } else { "/healthz" };
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(target).await?;
        stream
            .write_all(format!("GET {path} HTTP/1.0\r\nHost: {target}\r\n\r\n").as_bytes())
            .await?;
        let mut head = vec![0u8; 64];
        let n = stream.read(&mut head).await?;
        head.truncate(n);
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&head).into_owned())
    };
    let head = tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .map_err(|_| ApiError::Unavailable(format!("{target}{path} did not answer in 5 s")))?
        .map_err(|e| ApiError::Unavailable(format!("{target}{path}: {e}")))?;
    let status = head.split_whitespace().nth(1).unwrap_or_default();
    if status == "200" {
        Ok(())
    } else {
        Err(ApiError::Unavailable(format!(
            "{target}{path} answered {}",
            head.lines().next().unwrap_or("nothing")
        )))
    }
}
