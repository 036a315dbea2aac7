//! Access control: a tokens file of `ROLE SHA256` lines (the file holds no secret), roles
//! `read` < `write` < `admin`, tokens compared in constant time and never logged.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What a token may do; each role may do everything the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Quote and read.
    Read,
    /// Also route, reserve, confirm, release and move stock.
    Write,
    /// Also replace the rules.
    Admin,
}

impl Role {
    /// Reads `read`, `write` or `admin`.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "read" => Some(Role::Read),
            "write" => Some(Role::Write),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// The role's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Write => "write",
            Role::Admin => "admin",
        }
    }
}

/// The tokens that may call the service.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    entries: Vec<(Role, [u8; 32])>,
}

/// What a request's credentials allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token, or one the file does not hold: 401.
    Unknown,
    /// A known token of this role.
    Known(Role),
}

impl Tokens {
    /// Reads a tokens file's text; problems are `file:line:col: …`.
    pub fn parse(file: &str, text: &str) -> Result<Tokens, String> {
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let mut words = trimmed.split_whitespace();
            let (role, hash) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
            let col = line.len() - line.trim_start().len() + 1;
            let Some(role) = Role::parse(role) else {
                problems.push(format!(
                    "{file}:{}:{col}: role: expected `read`, `write` or `admin`, found `{}`",
                    n + 1,
                    role.escape_debug()
                ));
                continue;
            };
            match parse_hash(hash) {
                Some(h) if words.next().is_none() => entries.push((role, h)),
                _ => problems.push(format!(
                    "{file}:{}:{}: sha256: expected 64 lowercase hex digits (the SHA-256 of a token) and nothing after",
                    n + 1,
                    line.find(hash).map_or(col, |i| i + 1)
                )),
            }
        }
        if !problems.is_empty() {
            return Err(problems.join("\n"));
        }
        if entries.is_empty() {
            return Err(format!(
                "{file}:1:1: the file holds no token; add `ROLE SHA256` lines (`sourcing token --role ROLE` prints one)"
            ));
        }
        Ok(Tokens { entries })
    }

    /// What a bearer token allows. Every entry is compared, in constant time, whatever
    /// matched before.
    pub fn check(&self, token: &str) -> Access {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found: Option<Role> = None;
        for (role, hash) in &self.entries {
            if bool::from(hash.ct_eq(&digest)) {
                found = found.max(Some(*role));
            }
        }
        found.map_or(Access::Unknown, Access::Known)
    }
}

fn parse_hash(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// A new random token (64 hex digits) and its tokens-file line.
pub fn new_token(role: Role) -> (String, String) {
    let token = crate::engine_port::hex(&crate::engine_port::random_bytes::<32>());
    let line = format!(
        "{} {}",
        role.as_str(),
        crate::engine_port::content_hash(token.as_bytes())
    );
    (token, line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_token_is_known_with_its_role_and_others_are_not() {
        let (admin, admin_line) = new_token(Role::Admin);
        let (reader, read_line) = new_token(Role::Read);
        let tokens = Tokens::parse("t", &format!("# ops\n{admin_line}\n\n{read_line}\n"))
            .expect("valid lines");
        assert_eq!(tokens.check(&admin), Access::Known(Role::Admin));
        assert_eq!(tokens.check(&reader), Access::Known(Role::Read));
        assert_eq!(tokens.check("nope"), Access::Unknown);
        assert_ne!(admin, reader);
    }

    #[test]
    fn bad_lines_are_located() {
        let e = Tokens::parse("tokens.txt", "reader abc\nread 12\n").expect_err("bad");
        assert!(e.contains("tokens.txt:1:1: role"), "{e}");
        assert!(e.contains("tokens.txt:2:6: sha256"), "{e}");
        assert!(Tokens::parse("t", "\n# none\n").is_err());
    }
}
