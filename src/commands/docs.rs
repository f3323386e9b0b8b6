//! `heat-converge man` and `heat-converge completions`: the documentation the command
//! line gives of itself.

use super::*;

/// The man page: every subcommand's help in one roff document.
pub fn man() -> Result<()> {
    let cmd = <crate::Cli as clap::CommandFactory>::command();
    let mut out = std::io::stdout().lock();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_subcommands_section(&mut out)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("heat-converge {}", sub.get_name());
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
