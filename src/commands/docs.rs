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
    clap_complete::generate(shell, &mut cmd, "heat-converge", &mut std::io::stdout());
    Ok(())
}
