//! Connections per client address: one address may hold at most `open`
//! connections, and at most half of them before they send a byte, so a
//! flood of idle connections from one device cannot take the slots the
//! others (and the health check) need. Refused connections are closed at
//! once. Trusted proxies are not counted (every client comes through them).

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct Clients {
    max_open: usize,
    max_quiet: usize,
    /// Per address: connections open, and those that have sent nothing yet.
    counts: Mutex<HashMap<IpAddr, (usize, usize)>>,
    exempt: Vec<crate::cli::Network>,
}

impl Clients {
    pub fn new(max_open: usize, exempt: &[crate::cli::Network]) -> Arc<Clients> {
        let max_open = max_open.max(1);
        Arc::new(Clients {
            max_open,
            max_quiet: (max_open / 2).max(1),
            counts: Mutex::default(),
            exempt: exempt.to_vec(),
        })
    }

    /// A new connection from `ip`: its ticket, or `None` when the address
    /// holds its share already.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Ticket> {
        let ip = ip.to_canonical();
        if self.exempt.iter().any(|n| n.contains(ip)) {
            return Some(Ticket { clients: None, ip, quiet: false });
        }
        let mut counts = self.counts.lock().ok()?;
        let (open, quiet) = counts.entry(ip).or_default();
        if *open >= self.max_open || *quiet >= self.max_quiet {
            if *open == 0 {
                counts.remove(&ip);
            }
            return None;
        }
        *open += 1;
        *quiet += 1;
        Some(Ticket { clients: Some(self.clone()), ip, quiet: true })
    }

    /// Connections `ip` holds now.
    pub fn open(&self, ip: IpAddr) -> usize {
        self.counts.lock().map_or(0, |c| c.get(&ip.to_canonical()).map_or(0, |e| e.0))
    }

    /// Gives back one connection (`open`) and/or its quiet place (`quiet`).
    fn release(&self, ip: IpAddr, open: bool, quiet: bool) {
        let Ok(mut counts) = self.counts.lock() else { return };
        if let Some(e) = counts.get_mut(&ip) {
            e.0 -= usize::from(open);
            e.1 -= usize::from(quiet);
            if e.0 == 0 {
                counts.remove(&ip);
            }
        }
    }
}

/// A connection's place in its address's count, given back when dropped.
pub struct Ticket {
    clients: Option<Arc<Clients>>,
    ip: IpAddr,
    /// Nothing received yet.
    quiet: bool,
}

impl Ticket {
    /// The client sent its first bytes.
    fn spoke(&mut self) {
        if std::mem::take(&mut self.quiet) {
            if let Some(c) = &self.clients {
                c.release(self.ip, false, true);
            }
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(c) = &self.clients {
            c.release(self.ip, true, self.quiet);
        }
    }
}

/// A connection holding its ticket: the first bytes read mark it as no
/// longer quiet; dropping it gives the place back. Writes pass through.
pub struct Counted<S> {
    inner: S,
    ticket: Ticket,
}

impl<S> Counted<S> {
    pub fn new(inner: S, ticket: Ticket) -> Self {
        Counted { inner, ticket }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if self.ticket.quiet && buf.filled().len() > before {
            self.ticket.spoke();
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_holds_its_share_and_quiet_ones_less() {
        let clients = Clients::new(8, &["10.0.0.9".parse().unwrap()]);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        // Quiet connections: half the share.
        let mut tickets: Vec<Ticket> = (0..4).map(|_| clients.admit(a).unwrap()).collect();
        assert!(clients.admit(a).is_none(), "too many quiet ones");
        assert!(clients.admit("10.0.0.2".parse().unwrap()).is_some(), "others are not affected");
        tickets.iter_mut().for_each(Ticket::spoke);
        let mut t = clients.admit(a).unwrap();
        t.spoke();
        tickets.push(t);
        assert_eq!(clients.open(a), 5);
        while tickets.len() < 8 {
            let mut t = clients.admit(a).unwrap();
            t.spoke();
            tickets.push(t);
        }
        assert!(clients.admit(a).is_none(), "the share is full");
        tickets.pop();
        assert!(clients.admit(a).is_some(), "a place given back is taken again");
        drop(tickets);
        assert_eq!(clients.open(a), 0);
        assert!(clients.counts.lock().unwrap().is_empty(), "nothing kept for addresses gone");
        // A trusted proxy is not counted.
        let proxy: Vec<Ticket> = (0..100).map(|_| clients.admit("10.0.0.9".parse().unwrap()).unwrap()).collect();
        assert_eq!(proxy.len(), 100);
    }
}
