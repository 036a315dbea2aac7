//! One module per subcommand.

pub mod bench;
pub mod charts;
pub mod check;
pub mod explain;
pub mod fmt;
pub mod gen;
pub mod input;
pub mod ledger;
pub mod lsp;
pub mod out_dir;
pub mod output;
pub mod report;
pub mod route;
pub mod scenario;
pub mod serve;
pub mod simulate;
pub mod test;
pub mod token;
