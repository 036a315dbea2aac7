//! The language server of `sourcing lsp`: JSON-RPC with Content-Length framing over any
//! reader and writer (the command passes stdin and stdout; tests may pass buffers).
//!
//! It answers with what the command line says: diagnostics are `sourcing check`'s (the
//! checker and the engine's script compilation, same codes, spans, messages and help),
//! formatting is `sourcing fmt`'s, and hovers, completions and definitions come from
//! `sourcing_dsl::ide`. No input stops it: a body that is not JSON gets a parse error, a
//! request it cannot read an error response, and a query that fails answers an internal
//! error while the server goes on.

pub mod position;

use std::collections::HashMap;
use std::io::{BufRead, Read, Write};

use lsp_server::{Message, Notification, Request, Response, ResponseError};
use lsp_types as lt;
use serde_json::Value;

/// The largest message body read; a larger one is skipped and answered with an error.
const MAX_BODY: usize = 64 << 20;

/// An open document.
struct Doc {
    text: String,
}

/// The server's state between messages.
#[derive(Default)]
struct Server {
    docs: HashMap<String, Doc>,
    initialized: bool,
    shut_down: bool,
}

/// What the server must do after a message.
enum Next {
    Go,
    Exit,
}

/// Serves one editor until `exit` or the end of the input. Fails only when the output
/// cannot be written.
pub fn serve(input: &mut impl BufRead, output: &mut impl Write) -> Result<(), String> {
    let mut server = Server::default();
    loop {
        let body = match read_frame(input) {
            Frame::End => return Ok(()),
            Frame::Body(body) => body,
            Frame::Bad(why) => {
                eprintln_quiet(&format!("sourcing lsp: {why}"));
                write_value(output, &error_value(Value::Null, -32700, &why))?;
                continue;
            }
        };
        let msg: Message = match serde_json::from_slice(&body) {
            Ok(m) => m,
            Err(e) => {
                let why = format!("not a JSON-RPC message: {e}");
                write_value(output, &error_value(Value::Null, -32700, &why))?;
                continue;
            }
        };
        let mut out: Vec<Message> = Vec::new();
        let next = match msg {
            Message::Request(req) => {
                let id = req.id.clone();
                let method = req.method.clone();
                let answer =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| server.request(req)));
                match answer {
                    Ok(response) => out.push(response.into()),
                    Err(_) => out.push(
                        Response {
                            id,
                            response_result: Err(error(-32603, &format!("`{method}` failed"))),
                        }
                        .into(),
                    ),
                }
                Next::Go
            }
            Message::Notification(n) => {
                let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    server.notification(n, &mut out)
                }));
                done.unwrap_or(Next::Go)
            }
            Message::Response(_) => Next::Go,
        };
        for m in out {
            m.write(output)
                .map_err(|e| format!("cannot write to the editor: {e}"))?;
        }
        if let Next::Exit = next {
            return Ok(());
        }
    }
}

impl Server {
    fn request(&mut self, req: Request) -> Response {
        let id = req.id.clone();
        let result = if req.method == "initialize" {
            self.initialized = true;
            Ok(initialize_result())
        } else if !self.initialized {
            Err(error(-32002, "the server is not initialized"))
        } else {
            match req.method.as_str() {
                "shutdown" => {
                    self.shut_down = true;
                    Ok(Value::Null)
                }
                "textDocument/hover" => self.with_params(req, |s, p| s.hover(p)),
                "textDocument/completion" => self.with_params(req, |s, p| s.completion(p)),
                "textDocument/definition" => self.with_params(req, |s, p| s.definition(p)),
                "textDocument/formatting" => self.with_params(req, |s, p| s.formatting(p)),
                other => Err(error(-32601, &format!("`{other}` is not supported"))),
            }
        };
        Response {
            id,
            response_result: result,
        }
    }

    /// Decodes a request's parameters, answers, and encodes the answer.
    fn with_params<P, R>(
        &mut self,
        req: Request,
        f: impl FnOnce(&mut Self, P) -> Result<R, ResponseError>,
    ) -> Result<Value, ResponseError>
    where
        P: serde::de::DeserializeOwned,
        R: serde::Serialize,
    {
        let params: P = serde_json::from_value(req.params)
            .map_err(|e| error(-32602, &format!("`{}`: {e}", req.method)))?;
        let answer = f(self, params)?;
        serde_json::to_value(answer).map_err(|e| error(-32603, &e.to_string()))
    }

    fn notification(&mut self, n: Notification, out: &mut Vec<Message>) -> Next {
        match n.method.as_str() {
            "exit" => return Next::Exit,
            "textDocument/didOpen" => {
                if let Ok(p) = serde_json::from_value::<lt::DidOpenTextDocumentParams>(n.params) {
                    let uri = p.text_document.uri.as_str().to_string();
                    self.docs.insert(
                        uri.clone(),
                        Doc {
                            text: p.text_document.text,
                        },
                    );
                    out.push(self.diagnostics(&uri, Some(p.text_document.version)));
                }
            }
            "textDocument/didChange" => {
                if let Ok(p) = serde_json::from_value::<lt::DidChangeTextDocumentParams>(n.params) {
                    let uri = p.text_document.uri.as_str().to_string();
                    let doc = self.docs.entry(uri.clone()).or_insert(Doc {
                        text: String::new(),
                    });
                    for change in p.content_changes {
                        match change.range {
                            // Ranges are accepted though full text is asked for.
                            Some(r) => {
                                let a = position::offset(&doc.text, r.start);
                                let b = position::offset(&doc.text, r.end).max(a);
                                doc.text.replace_range(a..b, &change.text);
                            }
                            None => doc.text = change.text,
                        }
                    }
                    out.push(self.diagnostics(&uri, Some(p.text_document.version)));
                }
            }
            "textDocument/didClose" => {
                if let Ok(p) = serde_json::from_value::<lt::DidCloseTextDocumentParams>(n.params) {
                    let uri = p.text_document.uri;
                    self.docs.remove(uri.as_str());
                    out.push(publish(uri, Vec::new(), None));
                }
            }
            _ => {}
        }
        Next::Go
    }

    fn doc(&self, uri: &lt::Uri) -> Result<&Doc, ResponseError> {
        self.docs
            .get(uri.as_str())
            .ok_or_else(|| error(-32803, &format!("`{}` is not open", uri.as_str())))
    }

    /// `sourcing check`'s diagnostics of an open document, as a notification.
    fn diagnostics(&self, uri: &str, version: Option<i32>) -> Message {
        let Ok(parsed) = uri.parse::<lt::Uri>() else {
            return publish_raw(uri, Vec::new(), version);
        };
        let Some(doc) = self.docs.get(uri) else {
            return publish(parsed, Vec::new(), version);
        };
        let name = file_name(uri);
        let (_, diags) = crate::cmd::check::check_bytes(&name, doc.text.as_bytes());
        // The checker skips a byte-order mark; the editor's text may hold it.
        let skip = if doc.text.starts_with('\u{feff}') {
            3
        } else {
            0
        };
        let text = &doc.text;
        let list = diags
            .iter()
            .map(|d| {
                let range =
                    |s: sourcing_dsl::Span| position::range(text, s.start + skip, s.end + skip);
                let mut message = d.message.clone();
                if let Some(help) = &d.help {
                    message.push_str("\nhelp: ");
                    message.push_str(help);
                }
                let related: Vec<lt::DiagnosticRelatedInformation> = d
                    .secondary
                    .iter()
                    .map(|l| lt::DiagnosticRelatedInformation {
                        location: lt::Location::new(parsed.clone(), range(l.span)),
                        message: if l.message.is_empty() {
                            d.message.clone()
                        } else {
                            l.message.clone()
                        },
                    })
                    .collect();
                lt::Diagnostic {
                    range: range(d.primary.span),
                    severity: Some(if d.is_error() {
                        lt::DiagnosticSeverity::ERROR
                    } else {
                        lt::DiagnosticSeverity::WARNING
                    }),
                    code: Some(lt::NumberOrString::String(d.code.to_string())),
                    source: Some("sourcing".to_string()),
                    message,
                    related_information: (!related.is_empty()).then_some(related),
                    ..lt::Diagnostic::default()
                }
            })
            .collect();
        publish(parsed, list, version)
    }

    fn hover(&mut self, p: lt::HoverParams) -> Result<Option<lt::Hover>, ResponseError> {
        let at = &p.text_document_position_params;
        let doc = self.doc(&at.text_document.uri)?;
        let offset = position::offset(&doc.text, at.position);
        Ok(
            sourcing_dsl::ide::hover(&doc.text, offset).map(|h| lt::Hover {
                contents: lt::HoverContents::Markup(lt::MarkupContent {
                    kind: lt::MarkupKind::Markdown,
                    value: h.markdown,
                }),
                range: Some(position::range(&doc.text, h.span.start, h.span.end)),
            }),
        )
    }

    fn completion(
        &mut self,
        p: lt::CompletionParams,
    ) -> Result<Option<lt::CompletionResponse>, ResponseError> {
        use sourcing_dsl::ide::CompletionKind as K;
        let at = &p.text_document_position;
        let doc = self.doc(&at.text_document.uri)?;
        let offset = position::offset(&doc.text, at.position);
        let items = sourcing_dsl::ide::completions(&doc.text, offset)
            .into_iter()
            .map(|c| {
                let range = position::range(&doc.text, c.replace.start, c.replace.end);
                lt::CompletionItem {
                    kind: Some(match c.kind {
                        K::Keyword => lt::CompletionItemKind::KEYWORD,
                        K::Fact => lt::CompletionItemKind::FIELD,
                        K::Term => lt::CompletionItemKind::PROPERTY,
                        K::Constant => lt::CompletionItemKind::CONSTANT,
                        K::Group => lt::CompletionItemKind::MODULE,
                        K::Strategy => lt::CompletionItemKind::CLASS,
                        K::Script | K::Function => lt::CompletionItemKind::FUNCTION,
                        K::Value => lt::CompletionItemKind::VALUE,
                    }),
                    detail: c.detail,
                    documentation: c.documentation.map(|d| {
                        lt::Documentation::MarkupContent(lt::MarkupContent {
                            kind: lt::MarkupKind::Markdown,
                            value: d,
                        })
                    }),
                    text_edit: Some(lt::CompletionTextEdit::Edit(lt::TextEdit::new(
                        range,
                        c.insert.unwrap_or_else(|| c.label.clone()),
                    ))),
                    label: c.label,
                    ..lt::CompletionItem::default()
                }
            })
            .collect();
        Ok(Some(lt::CompletionResponse::Array(items)))
    }

    fn definition(
        &mut self,
        p: lt::GotoDefinitionParams,
    ) -> Result<Option<lt::GotoDefinitionResponse>, ResponseError> {
        let at = &p.text_document_position_params;
        let doc = self.doc(&at.text_document.uri)?;
        let offset = position::offset(&doc.text, at.position);
        Ok(
            sourcing_dsl::ide::definition(&doc.text, offset).map(|span| {
                lt::GotoDefinitionResponse::Scalar(lt::Location::new(
                    at.text_document.uri.clone(),
                    position::range(&doc.text, span.start, span.end),
                ))
            }),
        )
    }

    /// `sourcing fmt`'s text, as one edit of the whole document; a document that does not
    /// parse is not formatted (an error names its first problem).
    fn formatting(
        &mut self,
        p: lt::DocumentFormattingParams,
    ) -> Result<Option<Vec<lt::TextEdit>>, ResponseError> {
        let uri = p.text_document.uri;
        let doc = self.doc(&uri)?;
        let name = file_name(uri.as_str());
        let ast = match sourcing_dsl::parse_bytes(&name, doc.text.as_bytes()) {
            Ok(ast) => ast,
            Err(diags) => {
                let first = diags.render_short_all();
                let first = first.lines().next().unwrap_or_default();
                return Err(error(
                    -32803,
                    &format!("not formatted: the file does not parse: {first}"),
                ));
            }
        };
        let mut formatted = sourcing_dsl::format_ast(&ast);
        if doc.text.starts_with('\u{feff}') {
            formatted.insert(0, '\u{feff}');
        }
        if formatted == doc.text {
            return Ok(Some(Vec::new()));
        }
        let whole = position::range(&doc.text, 0, doc.text.len());
        Ok(Some(vec![lt::TextEdit::new(whole, formatted)]))
    }
}

fn initialize_result() -> Value {
    let capabilities = lt::ServerCapabilities {
        text_document_sync: Some(lt::TextDocumentSyncCapability::Kind(
            lt::TextDocumentSyncKind::FULL,
        )),
        hover_provider: Some(lt::HoverProviderCapability::Simple(true)),
        completion_provider: Some(lt::CompletionOptions {
            trigger_characters: Some(vec![".".to_string(), "\"".to_string()]),
            ..lt::CompletionOptions::default()
        }),
        definition_provider: Some(lt::OneOf::Left(true)),
        document_formatting_provider: Some(lt::OneOf::Left(true)),
        ..lt::ServerCapabilities::default()
    };
    serde_json::json!({
        "capabilities": capabilities,
        "serverInfo": { "name": "sourcing", "version": env!("CARGO_PKG_VERSION") },
    })
}

/// The name diagnostics use for a document: its path for a `file:` URI.
fn file_name(uri: &str) -> String {
    uri.strip_prefix("file://")
        .map(percent_decode)
        .unwrap_or_else(|| uri.to_string())
}

/// `%20` and the like back to their bytes (invalid sequences are kept as written).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn publish(uri: lt::Uri, diagnostics: Vec<lt::Diagnostic>, version: Option<i32>) -> Message {
    let params = lt::PublishDiagnosticsParams {
        uri,
        diagnostics,
        version,
    };
    Notification {
        method: "textDocument/publishDiagnostics".to_string(),
        params: serde_json::to_value(params).unwrap_or(Value::Null),
    }
    .into()
}

fn publish_raw(uri: &str, diagnostics: Vec<lt::Diagnostic>, version: Option<i32>) -> Message {
    Notification {
        method: "textDocument/publishDiagnostics".to_string(),
        params: serde_json::json!({ "uri": uri, "diagnostics": diagnostics, "version": version }),
    }
    .into()
}

fn error(code: i32, message: &str) -> ResponseError {
    ResponseError {
        code,
        message: message.to_string(),
        data: None,
    }
}

fn error_value(id: Value, code: i32, message: &str) -> Value {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": { "code": code, "message": message },
    })
}

fn write_value(output: &mut impl Write, v: &Value) -> Result<(), String> {
    let text = v.to_string();
    write!(output, "Content-Length: {}\r\n\r\n{text}", text.len())
        .and_then(|()| output.flush())
        .map_err(|e| format!("cannot write to the editor: {e}"))
}

fn eprintln_quiet(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// One framed message, or why the frame was unreadable.
enum Frame {
    Body(Vec<u8>),
    Bad(String),
    End,
}

/// Reads headers up to the blank line, then the body. A frame without a readable
/// `Content-Length` is reported and the next one read.
fn read_frame(input: &mut impl BufRead) -> Frame {
    let mut length: Option<Result<usize, String>> = None;
    let mut line = Vec::new();
    let mut any = false;
    loop {
        line.clear();
        // Header lines are short; a longer one is read in part and refused.
        match input.by_ref().take(8192).read_until(b'\n', &mut line) {
            Ok(0) if !any => return Frame::End,
            Ok(0) => return Frame::Bad("the input ended inside a message's headers".into()),
            Ok(_) => {}
            Err(e) => return Frame::Bad(format!("cannot read the input: {e}")),
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if !any {
                continue;
            }
            break;
        }
        any = true;
        if let Some((name, value)) = text.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .trim()
                        .parse::<usize>()
                        .map_err(|_| format!("bad Content-Length `{}`", value.trim())),
                );
            }
        }
    }
    let length = match length {
        Some(Ok(n)) => n,
        Some(Err(why)) => return Frame::Bad(why),
        None => return Frame::Bad("a message without Content-Length".into()),
    };
    if length > MAX_BODY {
        let skipped = std::io::copy(
            &mut input.by_ref().take(length as u64),
            &mut std::io::sink(),
        );
        return match skipped {
            Ok(n) if n == length as u64 => Frame::Bad(format!(
                "a message of {length} bytes is larger than {MAX_BODY} bytes"
            )),
            _ => Frame::End,
        };
    }
    let mut body = vec![0; length];
    match input.read_exact(&mut body) {
        Ok(()) => Frame::Body(body),
        Err(_) => Frame::End,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    /// Every answer to an input, decoded.
    fn answers(input: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let done = serve(&mut input.as_bytes(), &mut out);
        assert!(done.is_ok());
        let text = String::from_utf8_lossy(&out).into_owned();
        text.split("Content-Length: ")
            .filter_map(|part| part.split_once("\r\n\r\n"))
            .filter_map(|(_, body)| serde_json::from_str(body).ok())
            .collect()
    }

    #[test]
    fn bad_input_is_answered_never_fatal() {
        let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#;
        let hover_bad =
            r#"{"jsonrpc":"2.0","id":2,"method":"textDocument/hover","params":{"x":1}}"#;
        let hover_closed = r#"{"jsonrpc":"2.0","id":3,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///a.rules"},"position":{"line":99999,"character":4294967295}}}"#;
        let odd = r#"{"jsonrpc":"2.0","id":4,"method":"workspace/symbol","params":{}}"#;
        let input = [
            frame("{not json"),
            "Content-Length: x\r\n\r\n".to_string(),
            frame(init),
            frame(hover_bad),
            frame(hover_closed),
            frame(odd),
            "Content-Length: 99999999999\r\n\r\n".to_string(),
        ]
        .concat();
        let got = answers(&input);
        let codes: Vec<i64> = got
            .iter()
            .filter_map(|v| v.pointer("/error/code").and_then(Value::as_i64))
            .collect();
        assert_eq!(codes, [-32700, -32700, -32602, -32803, -32601]);
        assert!(got
            .iter()
            .any(|v| v.pointer("/result/capabilities").is_some()));
    }

    #[test]
    fn diagnostics_count_a_byte_order_mark() {
        let text = "\u{feff}strategy \"é\" { candidates all score cots }";
        let open = serde_json::json!({"jsonrpc": "2.0", "method": "textDocument/didOpen",
            "params": {"textDocument": {"uri": "file:///a.rules", "languageId": "sourcing-rules",
            "version": 1, "text": text}}});
        let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#;
        let got = answers(&[frame(init), frame(&open.to_string())].concat());
        let d = got
            .iter()
            .find_map(|v| v.pointer("/params/diagnostics/0"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(d["code"], "C001");
        // The mark and `é` are one UTF-16 unit each.
        let at = text
            .find("cots")
            .map_or(0, |i| text[..i].encode_utf16().count());
        assert_eq!(
            d["range"]["start"],
            serde_json::json!({"line": 0, "character": at})
        );
        assert_eq!(d["range"]["end"]["character"], at + 4);
    }

    #[test]
    fn file_names_of_uris() {
        assert_eq!(file_name("file:///tmp/a%20b.rules"), "/tmp/a b.rules");
        assert_eq!(file_name("untitled:1"), "untitled:1");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
