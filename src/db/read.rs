//! Reading Heat's rows, on any backend: the stack, resource, template, lock and engine
//! rows heat-converge uses, as typed values. A conversion run reads in batches: a handful
//! of queries for the whole cloud (stacks, locks, engines), then one query per batch of
//! trees for resources and templates, never one per resource or per stack.
//!
//! Only rows live here: what a stack *means* (its definition, its graph) is built above,
//! in [`crate::source`].

use super::{query_as, Connection, FromRow, Param, Row};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// How many ids go into one `IN (...)` list.
pub const BATCH: usize = 500;
/// How many stack ids go into one read of resources (see [`resources`]).
pub const STACKS_PER_RESOURCE_READ: usize = 5000;

/// The state of the whole cloud a run starts from.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    /// Every live stack, by id (shared with the trees built from it, not copied).
    pub stacks: BTreeMap<Word, std::sync::Arc<StackRow>>,
    /// stack id -> engine id holding Heat's lock on it.
    pub locks: HashMap<String, String>,
    /// engine id -> its service record.
    pub engines: HashMap<String, Engine>,
    /// Where each live stack's resource rows are, for a run that reads them by id (one
    /// that creates no index: see [`ResourceIds`]); None: it reads them by stack.
    pub resource_ids: Option<ResourceIds>,
}

/// A heat-engine's `service` row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Engine {
    pub host: String,
    /// The row is soft-deleted: the engine stopped for good.
    pub deleted: bool,
    /// Its last heartbeat (`updated_at`, else `created_at`), as the database wrote it (UTC).
    pub heartbeat: Option<String>,
    /// Seconds between heartbeats.
    pub report_interval: Option<i64>,
}

/// A resource row, the columns the conversion uses.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceRow {
    pub id: i64,
    pub uuid: Option<String>,
    pub name: String,
    pub stack_id: String,
    pub action: String,
    pub status: String,
    /// The physical id of the cloud resource (`nova_instance`).
    pub physical_id: Option<String>,
    pub attr_data_id: Option<i64>,
}

impl ResourceRow {
    /// Heat's "active" resources: every row but those deleted and done.
    pub fn is_active(&self) -> bool {
        !(self.action == "DELETE" && self.status == "COMPLETE")
    }
}

impl FromRow for ResourceRow {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(ResourceRow {
            id: r.int("id")?.unwrap_or_default(),
            uuid: r.text("uuid")?,
            name: r.string("name")?,
            stack_id: r.string("stack_id")?,
            action: r.text("action")?.unwrap_or_default(),
            status: r.text("status")?.unwrap_or_default(),
            physical_id: r.text("nova_instance")?,
            attr_data_id: r.int("attr_data_id")?,
        })
    }
}

/// A row of `sql/stack_locks.sql`.
struct LockRow {
    stack_id: String,
    engine_id: String,
}

impl FromRow for LockRow {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(LockRow {
            stack_id: r.string("stack_id")?,
            engine_id: r.text("engine_id")?.unwrap_or_default(),
        })
    }
}

/// A row of `sql/engine_services.sql`.
struct EngineRow {
    engine_id: Option<String>,
    engine: Engine,
}

impl FromRow for EngineRow {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(EngineRow {
            engine_id: r.text("engine_id")?,
            engine: Engine {
                host: r.text("host")?.unwrap_or_default(),
                deleted: r.flag("deleted")?,
                heartbeat: r.text("heartbeat")?.map(|t| t.trim().to_string()),
                report_interval: r.int("report_interval")?,
            },
        })
    }
}

/// The whole cloud's stacks, Heat's locks and its engines, read as of one moment.
pub fn inventory(conn: &mut dyn Connection) -> Result<Inventory> {
    in_snapshot(conn, inventory_now)
}

/// [`inventory`] with where the resource rows of its stacks are ([`ResourceIds`]), read as
/// of the same moment: for a run that creates no index.
pub fn inventory_with_resource_ids(conn: &mut dyn Connection) -> Result<Inventory> {
    in_snapshot(conn, |conn| {
        let mut inv = inventory_now(conn)?;
        inv.resource_ids = Some(ResourceIds::read(conn, inv.stacks.keys().map(|k| &**k))?);
        Ok(inv)
    })
}

/// Runs `read` in one read-only snapshot.
pub(crate) fn in_snapshot<T>(
    conn: &mut dyn Connection,
    read: impl FnOnce(&mut dyn Connection) -> Result<T>,
) -> Result<T> {
    conn.begin_snapshot()
        .context("cannot start a read-only transaction")?;
    let read = read(conn);
    let ended = conn.commit();
    let value = read?;
    ended?;
    Ok(value)
}

fn inventory_now(conn: &mut dyn Connection) -> Result<Inventory> {
    let mut inv = Inventory::default();
    // Row by row into the map: the whole cloud's stacks are never held twice.
    let stacks = &mut inv.stacks;
    let mut words = Words::default();
    conn.query_each(include_str!("../../sql/live_stacks.sql"), &[], &mut |row| {
        let mut s = StackRow::from_row(&row)?;
        words.share(&mut s.tenant);
        words.share(&mut s.action);
        words.share(&mut s.status);
        if let Some(owner) = &mut s.owner_id {
            if let Some((known, _)) = stacks.get_key_value(&**owner) {
                *owner = Word::clone(known);
            }
        }
        stacks.insert(Word::clone(&s.id), std::sync::Arc::new(s));
        Ok(())
    })
    .context("reading Heat's stack table")?;
    for l in query_as::<LockRow>(conn, include_str!("../../sql/stack_locks.sql"), &[])? {
        inv.locks.insert(l.stack_id, l.engine_id);
    }
    for e in query_as::<EngineRow>(conn, include_str!("../../sql/engine_services.sql"), &[])? {
        if let Some(id) = e.engine_id {
            inv.engines.insert(id, e.engine);
        }
    }
    Ok(inv)
}

/// Runs `sql` (with `{each: :id}`) over `ids` in batches and collects the rows.
fn in_batches(conn: &mut dyn Connection, sql: &str, ids: &[Param]) -> Result<Vec<Row>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(BATCH) {
        let b = super::named::ids(sql, chunk)?;
        out.extend(conn.query(&b.sql, &b.params)?);
    }
    Ok(out)
}

/// The resources of the given stacks, by stack id: read by id where the inventory knows
/// where they are ([`Inventory::resource_ids`]), else by stack.
pub fn batch_resources(
    conn: &mut dyn Connection,
    inv: &Inventory,
    stack_ids: &[String],
) -> Result<HashMap<String, Vec<ResourceRow>>> {
    match &inv.resource_ids {
        Some(ids) => ids.resources(conn, stack_ids),
        None => resources(conn, stack_ids),
    }
}

/// The resources of the given stacks, by stack id.
pub fn resources(
    conn: &mut dyn Connection,
    stack_ids: &[String],
) -> Result<HashMap<String, Vec<ResourceRow>>> {
    let ids: Vec<Param> = stack_ids.iter().map(|s| Param::Text(s.clone())).collect();
    let mut out: HashMap<String, Vec<ResourceRow>> = HashMap::new();
    // Long lists: where `resource.stack_id` has no index (a read-only run on PostgreSQL or
    // SQLite), each query is a scan of the whole table, so the fewer the better.
    for chunk in ids.chunks(STACKS_PER_RESOURCE_READ) {
        let b = super::named::ids(include_str!("../../sql/resources_of_stacks.sql"), chunk)?;
        conn.query_each(&b.sql, &b.params, &mut |r| {
            let res = ResourceRow::from_row(&r)?;
            out.entry(res.stack_id.clone()).or_default().push(res);
            Ok(())
        })?;
    }
    for v in out.values_mut() {
        v.sort_by_key(|r| r.id);
    }
    Ok(out)
}

/// Where the resource rows of some stacks are, learned in one pass over `resource`, so
/// that a run that creates no index reads each batch's resources by primary key.
///
/// Heat's PostgreSQL and SQLite schemas have no index on `resource.stack_id`, and no run
/// creates one: a read-only run (`status`, `plan`, `migrate --dry-run`, `verify`) writes
/// nothing to Heat's database, DDL included, and a writing run would pay for one on
/// every resource it updates ([`super::indexes`]). Without it every read of resources by
/// stack is a scan of the whole table: one scan per
/// stack made `verify` quadratic (18 minutes for 26,000 stacks on PostgreSQL), and even
/// one per batch of 1,000 trees is (28 s of `status`'s 35 s at 100,000 roots on SQLite).
/// Instead such a run reads `id, stack_id` of every row once (`sql/resource_ids.sql`: one
/// sequential scan; on MySQL, whose stack_id index holds the primary key, that index
/// alone), keeps the ids of the stacks it wants, and reads a batch's rows by id, which
/// every backend indexes: linear in the size of the cloud, on every backend.
///
/// The pass is read with the inventory, as of one moment. Rows an engine adds to a stack
/// later are not seen, rows deleted later are not found: the stack is then no longer as
/// the inventory read it (a plan made from it is refused by `migrate --plan`; `verify`
/// sees it moved on).
#[derive(Clone, Debug, Default)]
pub struct ResourceIds {
    /// (key of the stack id, resource id), sorted: 8 bytes a resource (Heat's resource
    /// ids are 32-bit integers). Two stacks whose ids hash alike share a key; the rows
    /// read carry their stack id, so each row still goes to its own stack only.
    entries: Vec<(u32, u32)>,
}

/// A row of `sql/resource_ids.sql`.
struct ResourceIdRow {
    id: i64,
    stack_id: String,
}

impl FromRow for ResourceIdRow {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(ResourceIdRow {
            id: r
                .int("id")?
                .ok_or_else(|| anyhow::anyhow!("a resource row without id"))?,
            stack_id: r.string("stack_id")?,
        })
    }
}

impl ResourceIds {
    /// Where the resource rows of `stacks` are (one pass over the table).
    pub fn read<'a>(
        conn: &mut dyn Connection,
        stacks: impl Iterator<Item = &'a str>,
    ) -> Result<ResourceIds> {
        let wanted: std::collections::HashSet<u32> = stacks.map(stack_key).collect();
        let mut entries = Vec::new();
        conn.query_each(include_str!("../../sql/resource_ids.sql"), &[], &mut |r| {
            let row = ResourceIdRow::from_row(&r)?;
            let key = stack_key(&row.stack_id);
            if wanted.contains(&key) {
                let id = u32::try_from(row.id).map_err(|_| {
                    anyhow::anyhow!(
                        "resource {} of stack {}: its id is not the 32-bit integer of Heat's schema",
                        row.id,
                        row.stack_id
                    )
                })?;
                entries.push((key, id));
            }
            Ok(())
        })
        .context("reading where the resource rows are")?;
        entries.sort_unstable();
        entries.shrink_to_fit();
        Ok(ResourceIds { entries })
    }

    /// The resource ids filed under these stacks, ascending (with, rarely, those of a
    /// stack whose id hashes alike: the caller keeps the rows of the stacks it asked for).
    fn of(&self, stack_ids: &[String]) -> Vec<i64> {
        let mut keys: Vec<u32> = stack_ids.iter().map(|s| stack_key(s)).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut ids = Vec::new();
        for key in keys {
            let from = self.entries.partition_point(|e| e.0 < key);
            ids.extend(
                self.entries[from..]
                    .iter()
                    .take_while(|e| e.0 == key)
                    .map(|e| i64::from(e.1)),
            );
        }
        ids.sort_unstable();
        ids
    }

    /// The resources of the given stacks, by stack id: the rows [`resources`] reads by
    /// stack, read by primary key.
    pub fn resources(
        &self,
        conn: &mut dyn Connection,
        stack_ids: &[String],
    ) -> Result<HashMap<String, Vec<ResourceRow>>> {
        self.rows(
            conn,
            include_str!("../../sql/resources_by_id.sql"),
            stack_ids,
            |r: &ResourceRow| (r.stack_id.as_str(), r.id),
        )
    }

    /// The resources of the given stacks with what a conversion writes (for `verify`), by
    /// stack id.
    pub fn resources_written(
        &self,
        conn: &mut dyn Connection,
        stack_ids: &[String],
    ) -> Result<HashMap<String, Vec<ResourceWritten>>> {
        self.rows(
            conn,
            include_str!("../../sql/resources_written.sql"),
            stack_ids,
            |r: &ResourceWritten| (r.row.stack_id.as_str(), r.row.id),
        )
    }

    /// The rows of `sql` (by `{ids}`) of the given stacks, by stack, each stack's by id;
    /// `key` gives a row's stack and id.
    fn rows<T: FromRow>(
        &self,
        conn: &mut dyn Connection,
        sql: &str,
        stack_ids: &[String],
        key: impl Fn(&T) -> (&str, i64),
    ) -> Result<HashMap<String, Vec<T>>> {
        let asked: std::collections::HashSet<&str> = stack_ids.iter().map(String::as_str).collect();
        let ids: Vec<Param> = self.of(stack_ids).into_iter().map(Param::Int).collect();
        let mut out: HashMap<String, Vec<T>> = HashMap::new();
        for chunk in ids.chunks(BATCH) {
            let b = super::named::ids(sql, chunk)?;
            conn.query_each(&b.sql, &b.params, &mut |r| {
                let row = T::from_row(&r)?;
                let stack = key(&row).0;
                if asked.contains(stack) {
                    out.entry(stack.to_string()).or_default().push(row);
                }
                Ok(())
            })?;
        }
        for v in out.values_mut() {
            v.sort_by_key(|r| key(r).1);
        }
        Ok(out)
    }
}

/// The key [`ResourceIds`] files a stack's rows under.
fn stack_key(stack_id: &str) -> u32 {
    use std::hash::{Hash, Hasher};
    // `DefaultHasher::new` gives the same keys every time in one process: the pass and
    // the reads agree. Half the hash is plenty: keys alike only cost a row read and left.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    stack_id.hash(&mut h);
    h.finish() as u32
}

/// Raw templates by id, with their files; a template that cannot be read is an error
/// value for that id only (its tree is skipped, the run goes on).
pub fn raw_templates(
    conn: &mut dyn Connection,
    ids: &[i64],
) -> Result<HashMap<i64, Result<RawTemplateRow, String>>> {
    let params: Vec<Param> = ids.iter().map(|i| Param::Int(*i)).collect();
    let rows = in_batches(conn, include_str!("../../sql/raw_templates.sql"), &params)?
        .iter()
        .map(StoredTemplate::from_row)
        .collect::<Result<Vec<_>>>()?;
    let files_ids: Vec<Param> = rows
        .iter()
        .filter_map(|r| r.files_id)
        .map(Param::Int)
        .collect();
    // A files row is shared by every template of a tree (and of its updates): parsed
    // once, held once.
    let mut files_rows: HashMap<i64, Result<Files, String>> = HashMap::new();
    for r in in_batches(
        conn,
        include_str!("../../sql/raw_template_files.sql"),
        &files_ids,
    )? {
        let f = FilesRow::from_row(&r)?;
        let mut files = HashMap::new();
        let parsed = json_column(f.id, f.files, "raw_template_files")
            .and_then(|v| add_files(&mut files, f.id, v, "raw_template_files"))
            .map(|()| Files::new(files))
            .map_err(|e| format!("{e:#}"));
        files_rows.insert(f.id, parsed);
    }
    let mut texts = SameText::default();
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.id,
                r.parse(&files_rows, &mut texts)
                    .map_err(|e| format!("{e:#}")),
            )
        })
        .collect())
}

/// A row of `sql/raw_templates.sql`: a template's columns as stored (JSON text).
struct StoredTemplate {
    id: i64,
    template: Option<String>,
    environment: Option<String>,
    files: Option<String>,
    files_id: Option<i64>,
}

impl FromRow for StoredTemplate {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(StoredTemplate {
            id: r
                .int("id")?
                .ok_or_else(|| anyhow::anyhow!("a raw_template row without id"))?,
            template: r.text("template")?,
            environment: r.text("environment")?,
            files: r.text("files")?,
            files_id: r.int("files_id")?,
        })
    }
}

/// A row of `sql/raw_template_files.sql`.
struct FilesRow {
    id: i64,
    files: Option<String>,
}

impl FromRow for FilesRow {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(FilesRow {
            id: r.int("id")?.unwrap_or_default(),
            files: r.text("files")?,
        })
    }
}

/// JSON texts decoded once per read: text -> its value.
#[derive(Default)]
struct SameText(HashMap<String, std::sync::Arc<Value>>);

impl SameText {
    fn decode(&mut self, id: i64, v: Option<String>, what: &str) -> Result<std::sync::Arc<Value>> {
        let Some(text) = v else {
            return Ok(std::sync::Arc::new(Value::Null));
        };
        if let Some(known) = self.0.get(&text) {
            return Ok(known.clone());
        }
        let value = std::sync::Arc::new(json_column(id, Some(text.clone()), what)?);
        self.0.insert(text, value.clone());
        Ok(value)
    }
}

impl StoredTemplate {
    /// Its JSON columns decoded, its files merged from both places Heat keeps them.
    fn parse(
        self,
        files_rows: &HashMap<i64, Result<Files, String>>,
        texts: &mut SameText,
    ) -> Result<RawTemplateRow> {
        let id = self.id;
        let mut own = HashMap::new();
        add_files(&mut own, id, json_column(id, self.files, "files")?, "files")?;
        let stored = match self.files_id.and_then(|fid| files_rows.get(&fid)) {
            Some(Err(e)) => bail!("{e}"),
            Some(Ok(f)) => Some(f),
            None => None,
        };
        let files = match stored {
            // The usual case: the files row alone, shared with the tree's other templates.
            Some(f) if own.is_empty() => Files::clone(f),
            Some(f) => {
                own.extend(f.iter().map(|(k, v)| (k.clone(), v.clone())));
                Files::new(own)
            }
            None => Files::new(own),
        };
        Ok(RawTemplateRow {
            id,
            template: texts.decode(id, self.template, "template")?,
            environment: texts.decode(id, self.environment, "environment")?,
            files,
        })
    }
}

/// A JSON column of raw_template `id` (or of its files row) decoded; NULL or empty: null.
fn json_column(id: i64, v: Option<String>, what: &str) -> Result<Value> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(Value::Null),
        Some(t) => serde_json::from_str(t)
            .with_context(|| format!("raw_template {id}: {what} is not valid JSON")),
    }
}

/// Adds a map of files (name -> content) to `files`; a later one wins, as in Heat.
fn add_files(files: &mut HashMap<String, String>, id: i64, v: Value, what: &str) -> Result<()> {
    match v {
        Value::Null => Ok(()),
        Value::Object(m) => {
            for (k, v) in m {
                let content = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                files.insert(k, content);
            }
            Ok(())
        }
        _ => bail!("raw_template {id}: {what} is not a map of files"),
    }
}

/// A row of Heat's `stack` table, the columns heat-converge uses.
#[derive(Clone, Debug, PartialEq)]
pub struct StackRow {
    /// Shared with the inventory's key for it (and with its children's `owner_id` where
    /// the owner was read first): at 100,000 roots the ids were a tenth of the peak.
    pub id: Word,
    pub name: String,
    /// The project; shared between the stacks that have the same one (as are `action` and
    /// `status`): a cloud's inventory is held whole, and most of it repeats.
    pub tenant: Word,
    pub owner_id: Option<Word>,
    pub raw_template_id: Option<i64>,
    pub prev_raw_template_id: Option<i64>,
    pub action: Word,
    pub status: Word,
    pub convergence: bool,
    pub backup: bool,
    pub deleted: bool,
}

/// A short text many rows repeat (a project, an action, a status), held once.
pub type Word = std::sync::Arc<str>;

/// The words met so far in a read, so that each repeated one is held once.
#[derive(Default)]
struct Words(std::collections::HashSet<Word>);

impl Words {
    /// Makes `w` share the copy of its text met first.
    fn share(&mut self, w: &mut Word) {
        match self.0.get(w) {
            Some(known) => *w = Word::clone(known),
            None => {
                self.0.insert(Word::clone(w));
            }
        }
    }
}

/// A row of `raw_template`, its JSON columns parsed.
#[derive(Clone, Debug)]
pub struct RawTemplateRow {
    pub id: i64,
    /// Shared with the other templates of the same read that have the same text: a
    /// ResourceGroup's thousands of members are one provider template, stored a thousand
    /// times.
    pub template: std::sync::Arc<Value>,
    pub environment: std::sync::Arc<Value>,
    /// name -> content, from `raw_template.files` or its `raw_template_files` row.
    pub files: Files,
}

/// A template's files (name -> content): shared by the templates that have the same.
pub type Files = std::sync::Arc<HashMap<String, String>>;

/// A `StackRow` from a row of `sql/stack_by_id.sql` or `sql/live_stacks.sql`.
impl FromRow for StackRow {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(StackRow {
            id: r.string("id")?.into(),
            name: r.text("name")?.unwrap_or_default(),
            tenant: r.text("tenant")?.unwrap_or_default().into(),
            owner_id: r.text("owner_id")?.map(Word::from),
            raw_template_id: r.int("raw_template_id")?,
            prev_raw_template_id: r.int("prev_raw_template_id")?,
            action: r.text("action")?.unwrap_or_default().into(),
            status: r.text("status")?.unwrap_or_default().into(),
            convergence: r.flag("convergence")?,
            backup: r.flag("backup")?,
            deleted: r.flag("deleted")?,
        })
    }
}

pub fn stack(conn: &mut dyn Connection, id: &str) -> Result<Option<StackRow>> {
    Ok(query_as(
        conn,
        include_str!("../../sql/stack_by_id.sql"),
        &[Param::Text(id.into())],
    )?
    .into_iter()
    .next())
}

/// The live stacks named `name`, in the order of their ids (`sql/stacks_named.sql`).
pub fn stacks_named(conn: &mut dyn Connection, name: &str) -> Result<Vec<StackRow>> {
    query_as(
        conn,
        include_str!("../../sql/stacks_named.sql"),
        &[Param::Text(name.into())],
    )
}

/// The state of a stack read again under its lock (`sql/stack_state.sql`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackState {
    pub status: String,
    pub convergence: bool,
    pub raw_template_id: Option<i64>,
    pub deleted: bool,
}

impl FromRow for StackState {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(StackState {
            status: r.text("status")?.unwrap_or_default(),
            convergence: r.flag("convergence")?,
            raw_template_id: r.int("raw_template_id")?,
            deleted: r.flag("deleted")?,
        })
    }
}

/// The state of these stacks, read again (under the conversion's locks), by id; a stack
/// with no row is absent.
pub fn stack_states(
    conn: &mut dyn Connection,
    ids: &[&str],
) -> Result<HashMap<String, StackState>> {
    let ids: Vec<Param> = ids.iter().map(|id| Param::Text(id.to_string())).collect();
    let mut out = HashMap::new();
    for row in in_batches(conn, include_str!("../../sql/stack_state.sql"), &ids)? {
        out.insert(row.string("id")?, StackState::from_row(&row)?);
    }
    Ok(out)
}

/// Which of these stored templates exist, each with the `raw_template_files` row it uses
/// (`sql/raw_templates_files_ids.sql`).
pub fn template_files_ids(
    conn: &mut dyn Connection,
    template_ids: &[i64],
) -> Result<HashMap<i64, Option<i64>>> {
    let ids: Vec<Param> = template_ids.iter().map(|&id| Param::Int(id)).collect();
    let mut out = HashMap::new();
    for row in in_batches(
        conn,
        include_str!("../../sql/raw_templates_files_ids.sql"),
        &ids,
    )? {
        if let Some(id) = row.int("id")? {
            out.insert(id, row.int("files_id")?);
        }
    }
    Ok(out)
}

/// Of these `raw_template_files` rows, those no stored template uses any more.
pub fn unused_template_files(conn: &mut dyn Connection, files_ids: &[i64]) -> Result<Vec<i64>> {
    let ids: Vec<Param> = files_ids.iter().map(|&id| Param::Int(id)).collect();
    in_batches(
        conn,
        include_str!("../../sql/raw_template_files_unused.sql"),
        &ids,
    )?
    .iter()
    .filter_map(|r| r.int("id").transpose())
    .collect()
}

pub fn raw_template(conn: &mut dyn Connection, id: i64) -> Result<Option<RawTemplateRow>> {
    match raw_templates(conn, &[id])?.remove(&id) {
        None => Ok(None),
        Some(Ok(row)) => Ok(Some(row)),
        Some(Err(e)) => bail!("{e}"),
    }
}

/// A stack heat-converge converted, as its record says (`sql/converted_stacks.sql`).
#[derive(Clone, Debug)]
pub struct ConvertedStack {
    /// Shared by the records of the same run.
    pub run_id: Word,
    pub stack_id: String,
    pub root_stack_id: String,
    /// The traversal the conversion gave it (None: converted before V4 recorded it).
    pub traversal: Option<String>,
}

impl FromRow for ConvertedStack {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(ConvertedStack {
            run_id: r.string("run_id")?.into(),
            stack_id: r.string("stack_id")?,
            root_stack_id: r.string("root_stack_id")?,
            traversal: r.text("traversal")?,
        })
    }
}

/// Every stack heat-converge converted; none when it never ran here (no table of ours).
/// Reads only: a record older than V4 has no traversals.
pub fn converted_stacks(conn: &mut dyn Connection) -> Result<Vec<ConvertedStack>> {
    if conn
        .query("SELECT 1 FROM heat_converge_stack WHERE 1=0", &[])
        .is_err()
    {
        return Ok(Vec::new());
    }
    let with_traversal = conn
        .query("SELECT traversal FROM heat_converge_stack WHERE 1=0", &[])
        .is_ok();
    let sql = if with_traversal {
        include_str!("../../sql/converted_stacks.sql")
    } else {
        include_str!("../../sql/converted_stacks_v1.sql")
    };
    // Row by row, in the order the server gives them (the order they were written, since
    // V6 keys them so): a converted cloud's records are never held twice.
    let mut out = Vec::new();
    let mut runs = Words::default();
    conn.query_each(sql, &[], &mut |row| {
        let mut c = ConvertedStack::from_row(&row)?;
        runs.share(&mut c.run_id);
        out.push(c);
        Ok(())
    })?;
    Ok(out)
}

/// A stack as it is now (`sql/stacks_now.sql`).
#[derive(Clone, Debug)]
pub struct StackNow {
    pub row: StackRow,
    pub current_traversal: Option<String>,
    pub status_reason: Option<String>,
}

impl FromRow for StackNow {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(StackNow {
            row: StackRow::from_row(r)?,
            current_traversal: r.text("current_traversal")?,
            status_reason: r.text("status_reason")?,
        })
    }
}

/// These stacks as they are now, by id (`sql/stacks_now.sql`); a stack with no row (purged)
/// is absent.
pub fn stacks_now(conn: &mut dyn Connection, ids: &[String]) -> Result<HashMap<String, StackNow>> {
    let ids: Vec<Param> = ids.iter().map(|id| Param::Text(id.clone())).collect();
    let mut out = HashMap::new();
    for row in in_batches(conn, include_str!("../../sql/stacks_now.sql"), &ids)? {
        let now = StackNow::from_row(&row)?;
        out.insert(now.row.id.to_string(), now);
    }
    Ok(out)
}

/// A resource with the columns a conversion writes (`sql/resources_written.sql`).
#[derive(Clone, Debug)]
pub struct ResourceWritten {
    pub row: ResourceRow,
    pub status_reason: Option<String>,
    /// The JSON text of `requires` and `needed_by`, as stored.
    pub requires: Option<String>,
    pub needed_by: Option<String>,
    pub current_template_id: Option<i64>,
}

impl FromRow for ResourceWritten {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(ResourceWritten {
            row: ResourceRow::from_row(r)?,
            status_reason: r.text("status_reason")?,
            requires: r.text("requires")?,
            needed_by: r.text("needed_by")?,
            current_template_id: r.int("current_template_id")?,
        })
    }
}
