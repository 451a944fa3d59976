//! A TCP proxy to put between a server and its database, to cut the database off and bring
//! it back without touching the cluster other tests share.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Forwards connections from a local port to `target` while it is up.
pub struct TcpProxy {
    port: u16,
    shared: Arc<Shared>,
}

struct Shared {
    target: String,
    up: AtomicBool,
    /// Every socket of every forwarded connection, to cut them all at once.
    open: Mutex<Vec<TcpStream>>,
}

impl TcpProxy {
    /// A proxy on a free local port to `target` (`host:port`), up.
    pub fn start(target: &str) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            target: target.to_string(),
            up: AtomicBool::new(true),
            open: Mutex::new(Vec::new()),
        });
        let accepting = shared.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if !accepting.up.load(Ordering::SeqCst) {
                    // Down: the connection is closed at once, as by a host that is gone.
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect_timeout(
                    &accepting.target.parse().unwrap(),
                    Duration::from_secs(2),
                ) else {
                    continue;
                };
                {
                    let mut open = accepting.open.lock().unwrap();
                    open.push(client.try_clone().unwrap());
                    open.push(server.try_clone().unwrap());
                }
                pump(client.try_clone().unwrap(), server.try_clone().unwrap());
                pump(server, client);
            }
        });
        TcpProxy { port, shared }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `url` (a `postgres://` URL to `target`) going through the proxy instead.
    pub fn url_for(&self, url: &str) -> String {
        url.replace(&self.shared.target, &format!("127.0.0.1:{}", self.port))
    }

    /// Cuts every open connection and refuses new ones: the database is gone.
    pub fn down(&self) {
        self.shared.up.store(false, Ordering::SeqCst);
        for s in self.shared.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// Forwards new connections again.
    pub fn up(&self) {
        self.shared.up.store(true, Ordering::SeqCst);
    }
}

/// Copies `from` to `to` until either side closes.
fn pump(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}
