//! heat-converge: converts OpenStack Heat's legacy stacks to the convergence engine,
//! straight in Heat's database, with Heat's own semantics.
//!
//! # The house, from the top floor down
//!
//! No module imports one on a floor above it, and no two modules import each other.
//!
//! **The command line and what it says.** `main.rs` (clap: parses, dispatches, exit
//! codes), `commands/` (one file per subcommand, each turning its arguments into one
//! request; what they share: where the database and Heat's configuration are) and
//! [`report`] (the text and JSON of each command, one file each, and the exit code of a
//! run; every database value escaped in text by [`escape`], at the bottom of the house
//! since the log and the drivers escape too; durations in the log are written by
//! [`seconds`], at the bottom too).
//!
//! **Reviewing before.** [`plan_file`]: the plan a reviewer reads and `migrate --plan`
//! applies (each tree only while its rows are as planned).
//!
//! **Proving afterwards.** [`verify`]: every converted stack still holds what was written
//! (Heat's graph recomputed, the invariants of a converted stack checked on its rows
//! without the planner, and Heat's own graph where its Python is at hand), or the
//! convergence engine has moved it on.
//!
//! **The conversion.** [`convert`]: a run reads the inventory ([`convert::tree`]: trees
//! and stray stacks), decides per tree ([`convert::eligibility`]: the one eligibility
//! rule), plans its row changes ([`convert::plan`]), and writes them in one transaction
//! ([`convert::apply`]); [`convert::mode`] is the run's mode as a type (dry run, or
//! record and write); [`convert::outcome`] is what a run comes to. [`stop`] lets a
//! signal stop a run between batches.
//!
//! **The cloud's Heat.** [`site`]: what its installation gives every command (global
//! environment, hidden parameters' key, its resource plugins, its Python);
//! [`plugins`]: third-party plugin modules read as Heat's loader reads them, each type's
//! graph native or Heat's own.
//!
//! **Heat's semantics.** [`source`] (where a stack definition comes from: stored rows or
//! files) → [`stack`] (a stack definition: conditions evaluated, resources parsed) →
//! [`graph`] (the dependency graph Heat computes: explicit edges, and the plugins'
//! implicit rules in [`graph::implicit`]) over [`properties`] (Heat's property layer:
//! schemas, translation, Python-typed reads), [`parameters`], [`template`] (HOT and CFN,
//! function tables per version, snippets), [`environment`] (parameters and the resource
//! registry), [`crypt`] (Heat's encryption of hidden parameters) and [`python`]
//! (Python's `==`, truthiness, `str()`, which Heat's code has); [`yaql`] interprets the
//! YAQL expressions of Heat's `yaql` function.
//!
//! **I/O at the bottom.** [`db`] (one [`db::Connection`] trait, one short driver per
//! backend, typed rows read by column name from the SQL in `sql/`, writes bound by name
//! ([`db::named`]), the privileges a run needs checked first ([`db::preflight`]), the tool's own tables
//! through refinery's migrations in `migrations/`, the run lock, TLS) and [`config`]
//! (heat.conf as oslo.config reads it).
//!
//! # Where to add ...
//!
//! - **an implicit rule** (a plugin's `add_dependencies`): in its family's file under
//!   `src/graph/implicit/` (`neutron.rs`, `nova.rs`, `aws.rs`, `heat.rs`), with the
//!   property schema it reads; a new family is one more file and one entry in `FAMILIES`
//!   (`src/graph/implicit/mod.rs`).
//! - **an intrinsic function**: its key in the version tables of
//!   `src/template/functions.rs` ([`template::functions::FnKind`]), its dispatch in
//!   `src/stack/resolve.rs` (data functions in `src/stack/resolve/data.rs`, argument
//!   checks Heat makes at load time in `src/template/snippet.rs`), and its references (if
//!   it names resources) in
//!   `src/graph/explicit.rs`.
//! - **a database backend**: one driver file in `src/db/` implementing
//!   [`db::Connection`], [`db::history::Migrations`] and [`db::RunLock`], its arm in
//!   [`db::connect`], its scheme in `src/db/url.rs`, and its migrations folder under
//!   `migrations/`. Nothing above `db` changes.
//! - **a blocker** (a reason to leave a tree alone): a variant of
//!   [`convert::eligibility::Blocker`] with its `kind` and message, decided in
//!   [`convert::eligibility::blocker`] (or in [`convert::plan`] when only the plan can
//!   tell). Stray legacy stacks (in no tree) get a [`convert::tree::StrayReason`].
//! - **a query**: its SQL in `sql/`, with every column named (`AS name`), read into a
//!   row struct implementing [`db::FromRow`] in `src/db/read.rs`; a Heat column it uses
//!   goes into `src/db/heat_schema.rs` (a test checks).

pub mod config;
pub mod convert;
pub mod crypt;
pub mod db;
pub mod environment;
pub mod escape;
pub mod graph;
pub mod parameters;
pub mod plan_file;
pub mod plugins;
pub mod properties;
pub mod python;
pub mod report;
pub mod seconds;
pub mod site;
pub mod source;
pub mod stack;
pub mod stop;
pub mod template;
pub mod verify;
pub mod yaql;
