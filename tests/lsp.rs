//! `sourcing lsp` driven as an editor drives it: the real binary, JSON-RPC with
//! Content-Length framing on its stdin and stdout. Every read has a deadline, so a server
//! that does not answer fails the test instead of hanging it.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests"
)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);
const URI: &str = "file:///home/analyst/rules/shop.rules";

struct Editor {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
}

impl Editor {
    fn start() -> Editor {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sourcing"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sourcing lsp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, messages) = mpsc::channel();
        // Reads frames on a thread, so the test can wait with a deadline.
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        length = v.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.unwrap_or(0)];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
                let Ok(v) = serde_json::from_slice::<Value>(&body) else {
                    return;
                };
                if tx.send(v).is_err() {
                    return;
                }
            }
        });
        Editor {
            child,
            stdin,
            messages,
            next_id: 1,
        }
    }

    fn send(&mut self, v: &Value) {
        let text = v.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{text}", text.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns its response, skipping notifications.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let v = self.receive();
            if v.get("id") == Some(&json!(id)) {
                return v;
            }
        }
    }

    fn receive(&mut self) -> Value {
        self.messages
            .recv_timeout(DEADLINE)
            .unwrap_or_else(|_| panic!("the server did not answer within {DEADLINE:?}"))
    }

    /// The next diagnostics published.
    fn diagnostics(&mut self) -> Vec<Value> {
        loop {
            let v = self.receive();
            if v["method"] == "textDocument/publishDiagnostics" {
                assert_eq!(v["params"]["uri"], URI);
                return v["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
        }
    }
}

fn at(line: u32, character: u32) -> Value {
    json!({"textDocument": {"uri": URI}, "position": {"line": line, "character": character}})
}

#[test]
fn an_editor_session() {
    let mut ed = Editor::start();
    let init = ed.request(
        "initialize",
        json!({"processId": null, "rootUri": null, "capabilities": {}}),
    );
    let caps = &init["result"]["capabilities"];
    assert_eq!(caps["hoverProvider"], true);
    assert_eq!(caps["definitionProvider"], true);
    assert_eq!(caps["documentFormattingProvider"], true);
    ed.notify("initialized", json!({}));

    // Garbage is answered, and the session goes on.
    write!(ed.stdin, "Content-Length: 9\r\n\r\n{{not json").expect("write");
    ed.stdin.flush().expect("flush");
    let answer = ed.receive();
    assert_eq!(
        (answer["id"].clone(), answer["error"]["code"].clone()),
        (Value::Null, json!(-32700))
    );
    let unknown = ed.request("textDocument/rename", json!({}));
    assert_eq!(unknown["error"]["code"], -32601);

    // A misspelt term, after a non-ASCII comment: the column counts UTF-16 units.
    let broken = "const keep = 2\n# Größe 𝄞\nstrategy \"a\" {\n  candidates stores\n  exclude store when atp - line.qty < keep\n  score cots\n}\n";
    ed.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": URI, "languageId": "sourcing-rules", "version": 1, "text": broken}}),
    );
    let diags = ed.diagnostics();
    assert_eq!(diags.len(), 1, "{diags:?}");
    let d = &diags[0];
    assert_eq!(d["code"], "C001");
    assert_eq!(d["severity"], 1);
    assert_eq!(
        d["range"],
        json!({"start": {"line": 5, "character": 8}, "end": {"line": 5, "character": 12}})
    );
    let (_, check) = sourcing_dsl::compile_source("x.rules", broken);
    let expected = check
        .iter()
        .next()
        .map(|d| d.message.clone())
        .unwrap_or_default();
    let message = d["message"].as_str().unwrap_or_default();
    assert!(message.starts_with(&expected), "{message}");
    assert!(message.contains("help: "), "{message}");

    // Fixed, but badly laid out: no diagnostics; formatting lays it out.
    let fixed = broken
        .replace("cots", "cost")
        .replace("  score", "       score");
    ed.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    assert_eq!(ed.diagnostics(), Vec::<Value>::new());
    let edits = ed.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": URI}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let new_text = edits["result"][0]["newText"].as_str().unwrap_or_default();
    assert_eq!(
        Ok(new_text.to_string()),
        sourcing_dsl::format("x.rules", &fixed).map_err(|_| ())
    );
    assert!(new_text.contains("\n  score cost\n"));

    // Hover on a keyword and on a fact.
    let hover = ed.request("textDocument/hover", at(3, 4));
    let text = hover["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(text.contains("`candidates <set>, <set>`"), "{hover}");
    let hover = ed.request("textDocument/hover", at(4, 33));
    let text = hover["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(
        text.contains("`line.qty`") && text.contains("the units ordered"),
        "{text}"
    );
    assert_eq!(
        hover["result"]["range"]["start"],
        json!({"line": 4, "character": 27})
    );

    // Completion after `order.`, then in a fresh clause line.
    let with_dot = fixed.replace(
        "  candidates stores\n",
        "  when order.\n  candidates stores\n",
    );
    ed.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 3}, "contentChanges": [{"text": with_dot}]}),
    );
    ed.diagnostics();
    let items = ed.request("textDocument/completion", at(3, 13));
    let labels: Vec<&str> = items["result"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["label"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        labels.contains(&"channel") && labels.contains(&"promise_days"),
        "{labels:?}"
    );

    // Go to definition of the constant.
    let def = ed.request("textDocument/definition", at(5, 38));
    assert_eq!(def["result"]["uri"], URI);
    assert_eq!(
        def["result"]["range"],
        json!({"start": {"line": 0, "character": 6}, "end": {"line": 0, "character": 10}})
    );

    // A file that does not parse is not formatted.
    ed.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 4}, "contentChanges": [{"text": "strategy \"a\" {"}]}),
    );
    let diags = ed.diagnostics();
    assert_eq!(
        diags.first().map(|d| d["code"].clone()),
        Some(json!("S001"))
    );
    let refused = ed.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": URI}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("does not parse"));

    let down = ed.request("shutdown", Value::Null);
    assert_eq!(down["result"], Value::Null);
    ed.notify("exit", Value::Null);
    drop(ed.stdin);
    let status = wait(&mut ed.child);
    assert!(status.success(), "{status:?}");
}

/// Waits for the server to end, killing it after the deadline.
fn wait(child: &mut Child) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!("the server did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Over the checker's corpus of faulty files, the server publishes exactly what
/// `sourcing check --error-format json` reports: codes, severities, places, messages, help.
#[test]
fn diagnostics_are_check_s() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dsl/tests/corpus/check/err");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    assert!(files.len() > 30);
    let mut ed = Editor::start();
    ed.request("initialize", json!({"capabilities": {}}));
    ed.notify("initialized", json!({}));
    let mut compared = 0;
    for (n, path) in files.iter().enumerate() {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        // Columns agree when every character is one UTF-16 unit and one column.
        if text.chars().any(|c| c.len_utf16() > 1 || c == '\u{feff}') {
            continue;
        }
        let out = Command::new(env!("CARGO_BIN_EXE_sourcing"))
            .args(["check", "--error-format", "json"])
            .arg(path)
            .output()
            .expect("run check");
        let expected: Value = serde_json::from_slice(&out.stdout)
            .or_else(|_| serde_json::from_slice(&out.stderr))
            .unwrap_or_else(|e| panic!("{}: check's JSON: {e}", path.display()));
        let expected = expected.as_array().cloned().unwrap_or_default();
        let uri = format!("file:///corpus/{n}.rules");
        ed.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "sourcing-rules", "version": 1, "text": text}}),
        );
        let got = loop {
            let v = ed.receive();
            if v["method"] == "textDocument/publishDiagnostics" && v["params"]["uri"] == uri {
                break v["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
        };
        assert_eq!(got.len(), expected.len(), "{}", path.display());
        for (g, e) in got.iter().zip(&expected) {
            let mut message = e["message"].as_str().unwrap_or_default().to_string();
            if let Some(help) = e["help"].as_str() {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            let severity = if e["severity"] == "error" { 1 } else { 2 };
            let pos = |l: &str, c: &str| json!({"line": e["span"][l].as_u64().unwrap_or(0) - 1, "character": e["span"][c].as_u64().unwrap_or(0) - 1});
            assert_eq!(
                (
                    &g["code"],
                    &g["severity"],
                    g["message"].as_str(),
                    &g["range"]
                ),
                (
                    &e["code"],
                    &json!(severity),
                    Some(message.as_str()),
                    &json!({"start": pos("line", "column"), "end": pos("end_line", "end_column")})
                ),
                "{}",
                path.display()
            );
            compared += 1;
        }
    }
    assert!(compared > 30, "{compared}");
    ed.request("shutdown", Value::Null);
    ed.notify("exit", Value::Null);
    let status = wait(&mut ed.child);
    assert!(status.success());
}
