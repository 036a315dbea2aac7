//! A service on 127.0.0.1 over the contract's example data and a ledger in a temporary
//! folder, served on its own thread, stopped (gracefully) when dropped.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sourcing_serve::auth::Tokens;
use sourcing_serve::client::{Client, Reply};
use sourcing_serve::core::Core;
use sourcing_serve::ledger::sqlite::SqliteLedger;
use sourcing_serve::ledger::Ledger;
use sourcing_serve::Options;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub fn example(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data/example")
        .join(file)
}

pub fn rules_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../rules")
        .join(name)
}

pub fn network() -> sourcing_engine::Network {
    sourcing_engine::load::load_network(&example("network.json")).expect("example network")
}

/// The example orders, one JSON text each.
pub fn orders() -> Vec<String> {
    std::fs::read_to_string(example("orders.jsonl"))
        .expect("example orders")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// An order for `qty` units of one SKU shipped to Frankfurt, with the given id.
pub fn order(id: &str, sku: &str, qty: u32) -> String {
    format!(
        r#"{{"id":"{id}","placed_at":"2026-11-23T09:00:00Z","ship_to":{{"lat":50.11092,"lon":8.68213,"country":"DE"}},"fulfillment":"ship","lines":[{{"sku":"{sku}","qty":{qty},"unit_weight_kg":0.25}}]}}"#
    )
}

/// Opens a core on the ledger at `path` (the example inventory on the first start).
pub fn open_at(path: &Path, rules: Option<&Path>) -> Arc<Core> {
    let ledger: Arc<dyn Ledger> = Arc::new(SqliteLedger::open(path).expect("ledger"));
    open_with(ledger, rules)
}

pub fn open_with(ledger: Arc<dyn Ledger>, rules: Option<&Path>) -> Arc<Core> {
    let rules = rules.map(|p| {
        (
            p.file_name().unwrap().to_string_lossy().into_owned(),
            std::fs::read(p).expect("rules"),
        )
    });
    sourcing_serve::open(
        network(),
        ledger,
        |n| {
            sourcing_engine::load::load_inventory(&example("inventory.csv"), n)
                .map_err(|e| e.to_string())
        },
        rules,
    )
    .expect("opens")
    .core
}

pub struct Server {
    pub addr: SocketAddr,
    pub core: Arc<Core>,
    pub dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(Options::default(), None)
    }

    pub fn start_with(options: Options, rules: Option<&Path>) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let core = open_at(&dir.path().join("ledger.db"), rules);
        Server::serve(dir, core, options)
    }

    /// A server over `network.json` and `inventory.csv` in `dir`, its ledger
    /// `dir/ledger.db` (made from the inventory on the first start, read again on later
    /// ones): start it, drop it, start it again on the same folder to restart.
    pub fn start_in(dir: tempfile::TempDir) -> Server {
        let network =
            sourcing_engine::load::load_network(&dir.path().join("network.json")).expect("network");
        let ledger: Arc<dyn Ledger> =
            Arc::new(SqliteLedger::open(&dir.path().join("ledger.db")).expect("ledger"));
        let inventory = dir.path().join("inventory.csv");
        let core = sourcing_serve::open(
            network,
            ledger,
            |n| sourcing_engine::load::load_inventory(&inventory, n).map_err(|e| e.to_string()),
            None,
        )
        .expect("opens")
        .core;
        Server::serve(dir, core, Options::default())
    }

    /// Stops the server (gracefully) and hands back its folder.
    pub fn stop(mut self) -> tempfile::TempDir {
        self.halt();
        let dir = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.dir, dir)
    }

    fn halt(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn serve(dir: tempfile::TempDir, core: Arc<Core>, options: Options) -> Server {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let serving = Arc::clone(&core);
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                addr_tx
                    .send(listener.local_addr().expect("addr"))
                    .expect("send");
                sourcing_serve::serve(serving, listener, options, async {
                    let _ = stopped.await;
                })
                .await
                .expect("serves");
            });
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("listening");
        Server {
            addr,
            core,
            dir,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn client(&self) -> Client {
        Client::new(self.addr)
    }

    pub fn client_with(&self, token: &str) -> Client {
        let mut c = Client::new(self.addr);
        c.token = Some(token.to_string());
        c
    }

    /// One request on a new connection.
    pub fn call(&self, method: &str, path: &str, body: &str) -> Reply {
        self.client().send(method, path, &[], body).expect("answer")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.halt();
    }
}

pub fn tokens(lines: &[String]) -> Tokens {
    Tokens::parse("tokens", &lines.join("\n")).expect("tokens")
}
