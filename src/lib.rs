//! heat-converge: converts OpenStack Heat's legacy stacks to the convergence engine,
//! straight in Heat's database, with Heat's own semantics.
//!
//! The crate is being built issue by issue; see README.md for what works today.
