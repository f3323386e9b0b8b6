//! `heat-converge man` and `heat-converge completions`: the documentation the command
//! line gives of itself.

use super::*;

/// The man page: every subcommand's help in one roff document, heat-converge(1), the only
/// page there is.
pub fn man() -> Result<()> {
    let cmd = <crate::Cli as clap::CommandFactory>::command();
    let mut out = std::io::stdout().lock();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    subcommands_section(&cmd).to_writer(&mut out)?;
    for sub in documented(&cmd) {
        let name = section_name(sub);
        let page = clap_mangen::Man::new(sub.clone().name(name.clone()));
        writeln!(out, ".SH \"{}\"", name.to_uppercase())?;
        page.render_synopsis_section(&mut out)?;
        page.render_description_section(&mut out)?;
        page.render_options_section(&mut out)?;
        page.render_extra_section(&mut out)?;
    }
    man.render_version_section(&mut out)?;
    out.flush()?;
    Ok(())
}

/// The subcommands that have a section of the page.
fn documented(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands().filter(|s| !s.is_hide_set())
}

/// A subcommand as the page names it: `heat-converge migrate`.
fn section_name(sub: &clap::Command) -> String {
    format!("{BIN} {}", sub.get_name())
}

/// The SUBCOMMANDS section: each subcommand with its summary and the section of this page
/// that describes it. clap_mangen's own section names a page per subcommand
/// (`heat-converge-migrate(1)`), which is not shipped: everything is on this one page.
fn subcommands_section(cmd: &clap::Command) -> roff::Roff {
    let mut page = roff::Roff::new();
    page.control("SH", ["SUBCOMMANDS"]);
    for sub in documented(cmd) {
        let name = section_name(sub);
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        page.control("TP", []);
        page.text([roff::bold(name.as_str())]);
        page.text([roff::roman(format!(
            "{about}: see {} below.",
            name.to_uppercase()
        ))]);
    }
    page.control("TP", []);
    page.text([
        roff::bold(format!("{BIN} help")),
        roff::roman(" ["),
        roff::italic("SUBCOMMAND"),
        roff::roman("]"),
    ]);
    page.text([roff::roman(
        "Print the help of heat-converge, or of SUBCOMMAND (as --help does).",
    )]);
    page
}

/// Shell completions for `shell`, on stdout.
pub fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut cmd = <crate::Cli as clap::CommandFactory>::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, BIN, &mut script);
    let mut script = String::from_utf8(script).context("the completion script is not UTF-8")?;
    if shell == clap_complete::Shell::Bash {
        script = bash_labels_fixed(&script);
    }
    let mut out = std::io::stdout().lock();
    out.write_all(script.as_bytes())?;
    out.flush()?;
    Ok(())
}

const BIN: &str = "heat-converge";

/// A work-around, not a fix upstream: clap_complete's bash script (4.6.11, and every
/// release up to now: clap-rs/clap#6421, #6529, open) spells a subcommand's state two ways
/// for a program name with a hyphen. Its dispatch loop escapes the name and each
/// subcommand apart (`heat__converge__subcmd__migrate`), its case labels the whole path
/// at once (`heat__subcmd__converge__subcmd__migrate`), so no label matches and nothing
/// after a subcommand completes. The labels are rewritten to the dispatch's spelling; a
/// release that fixes it generates none of them, and this changes nothing.
fn bash_labels_fixed(script: &str) -> String {
    const SEP: &str = "__subcmd__";
    let labels = format!("{}{SEP}", BIN.replace('-', SEP));
    let dispatch = format!("{}{SEP}", BIN.replace('-', "__"));
    script.replace(&labels, &dispatch)
}
