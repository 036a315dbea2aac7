//! Plain data: the network, orders and decisions, shaped as the contract's files.

pub mod decision;
pub mod network;
pub mod order;
