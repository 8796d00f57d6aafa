//! Carrying out each command: turn parsed arguments into a pipeline call and an exit code.
//!
//! Exit codes: 0 when the run completed (and no check FAILed, or `--exit-code` is 0); the
//! `--exit-code` value when any check FAILed; 2 for usage errors, unusable definitions,
//! unreadable snapshots or objects, and output that cannot be written.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::audit::ObjectsState;
use crate::benchmark::config::Config;
use crate::benchmark::load::{self, DefinitionSource};
use crate::cli::{ChecksArgs, Cli, CollectArgs, Command, DefinitionArgs, Format, RunArgs};
use crate::facts::{Facts, Snapshot};
use crate::policies::objects::Objects;
use crate::report::{self, model::Report, text::TextOptions};
use crate::runner::{choose_benchmark, Runner, Selection};

/// Usage and definition errors, unreadable inputs.
pub const EXIT_ERROR: u8 = 2;

/// Runs the parsed command line; the exit code on success.
pub fn execute(cli: Cli) -> Result<u8> {
    match cli.command {
        None => run(&cli.run),
        Some(Command::Run(args)) => run(&args),
        Some(Command::Collect(args)) => collect(&args),
        Some(Command::Demo(args)) => crate::demo::run(&args),
        Some(Command::Checks(args)) => checks(&args),
        Some(Command::Scan(args)) => Ok(exit_code(crate::policies::scan::run_stdio(&args))),
        Some(Command::WhoCan(args)) => {
            rbac_command(|out, err| crate::policies::rbac::commands::who_can(&args, out, err))
        }
        Some(Command::CanI(args)) => {
            rbac_command(|out, err| crate::policies::rbac::commands::can_i(&args, out, err))
        }
        Some(Command::Version) => {
            println!("kubecis {}", env!("CARGO_PKG_VERSION"));
            Ok(0)
        }
    }
}

fn selection(args: &RunArgs) -> Selection {
    Selection {
        benchmark: args.defs.benchmark.clone(),
        kubernetes_version: args.defs.kubernetes_version.clone(),
        targets: args.targets.clone(),
        checks: args.check.clone(),
        groups: args.group.clone(),
        skip: args.skip.clone(),
        scored: args.scored,
        unscored: args.unscored,
        strict: args.defs.strict,
    }
}

/// `kubecis run`.
pub fn run(args: &RunArgs) -> Result<u8> {
    let facts = match &args.snapshot {
        Some(path) => Facts::replay(read_snapshot(path)?),
        None => Facts::live(&args.node.root, &args.node.proc_dir),
    };
    let objects = objects(args)?;
    let report = evaluate(args, &facts, &objects)?;
    write_report(&report, args)?;
    Ok(if report.totals.fail > 0 {
        args.exit_code
    } else {
        0
    })
}

/// The definitions `defs` names: where they are, `config.yaml` merged with the chosen
/// benchmark's own, and that benchmark's name.
fn definitions(defs: &DefinitionArgs) -> Result<(DefinitionSource, Config, String)> {
    let source = DefinitionSource::locate(defs.config_dir.as_deref());
    let base = load::load_config(&source, defs.config.as_deref(), None)?;
    let benchmark = choose_benchmark(
        &base,
        &Selection {
            benchmark: defs.benchmark.clone(),
            kubernetes_version: defs.kubernetes_version.clone(),
            ..Selection::default()
        },
    )?;
    let config = load::load_config(&source, defs.config.as_deref(), Some(&benchmark))?;
    Ok((source, config, benchmark))
}

/// Loads definitions and runs the selection against `facts`.
pub fn evaluate(args: &RunArgs, facts: &Facts, objects: &ObjectsState) -> Result<Report> {
    let (source, config, benchmark) = definitions(&args.defs)?;
    let mut sel = selection(args);
    sel.benchmark = Some(benchmark);
    let runner = Runner {
        source: &source,
        config: &config,
        facts,
        objects,
    };
    Ok(runner.run(&sel)?)
}

fn exit_code(code: i32) -> u8 {
    u8::try_from(code).unwrap_or(EXIT_ERROR)
}

/// Runs `who-can` / `can-i` on standard output; their errors are exit 2.
fn rbac_command<E: std::fmt::Display>(
    f: impl FnOnce(&mut dyn Write, &mut dyn Write) -> std::result::Result<i32, E>,
) -> Result<u8> {
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    match f(&mut out, &mut err) {
        Ok(code) => Ok(exit_code(code)),
        Err(e) => bail!("{e}"),
    }
}

/// The objects policy checks read: `--objects` files; else the live cluster when the policies
/// target is asked for (or a kubeconfig/context is named); else why there are none.
fn objects(args: &RunArgs) -> Result<ObjectsState> {
    if !args.objects.is_empty() {
        return Ok(Ok(Objects::load(&args.objects)?));
    }
    let wants_live = args.targets.iter().any(|t| t == "policies")
        || args.kubeconfig.is_some()
        || args.context.is_some();
    if !wants_live || args.snapshot.is_some() {
        return Ok(Err(
            "no Kubernetes API objects to judge: pass --objects FILE|DIR|- or --targets policies with cluster access"
                .into(),
        ));
    }
    let options = crate::policies::live::LiveOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        ..Default::default()
    };
    Ok(crate::policies::live::fetch_objects(&options)
        .map_err(|e| format!("cannot read the cluster's objects: {e}")))
}

pub fn read_snapshot(path: &Path) -> Result<Snapshot> {
    Ok(crate::collect::read(path)?)
}

/// `kubecis collect`.
fn collect(args: &CollectArgs) -> Result<u8> {
    let source = DefinitionSource::locate(args.defs.config_dir.as_deref());
    let facts = Facts::live(&args.node.root, &args.node.proc_dir);
    let sel = Selection {
        benchmark: args.defs.benchmark.clone(),
        kubernetes_version: args.defs.kubernetes_version.clone(),
        targets: args.targets.clone(),
        scored: true,
        unscored: true,
        strict: args.defs.strict,
        ..Selection::default()
    };
    let snapshot = crate::collect::collect(&source, args.defs.config.as_deref(), &sel, &facts)?;
    crate::collect::write(&snapshot, &crate::collect::Output::parse(&args.output))?;
    Ok(0)
}

pub fn write_report(report: &Report, args: &RunArgs) -> Result<()> {
    let to_terminal = args.outputfile.is_none() && std::io::stdout().is_terminal();
    let color = to_terminal && !args.no_color && std::env::var_os("NO_COLOR").is_none();
    colored::control::set_override(color);
    let mut out: Box<dyn Write> = match &args.outputfile {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    match args.format() {
        Format::Json => report::json::write(report, &mut out)?,
        Format::Junit => report::junit::write(report, &mut out)?,
        Format::Sarif => report::sarif::write(report, &mut out)?,
        Format::Text => {
            let opts = TextOptions {
                results: !args.noresults,
                remediations: !args.noremediations,
                summary: !args.nosummary,
                totals: !args.nototals,
                test_output: args.include_test_output,
                color,
            };
            report::text::write(report, &opts, &mut out)?
        }
    }
    out.flush()?;
    Ok(())
}

/// `kubecis checks`.
fn checks(args: &ChecksArgs) -> Result<u8> {
    let (source, config, benchmark) = definitions(&args.defs)?;
    let targets = config
        .target_mapping
        .get(&benchmark)
        .cloned()
        .unwrap_or_default();
    let mut files = Vec::new();
    for target in crate::runner::ordered(&targets) {
        if let Some(c) = load::load_controls(&source, &benchmark, &target, &config)? {
            files.push((target, c));
        }
    }
    if args.defs.strict {
        load::strict(&files.iter().map(|(_, c)| c).collect::<Vec<_>>())?;
    }
    let mut text = String::new();
    if args.markdown {
        text = crate::benchmark::doc::markdown(&benchmark, &files);
    } else {
        for (target, c) in &files {
            for g in &c.groups {
                for check in &g.checks {
                    text += &format!("{target}\t{}\t{}\n", check.id, check.text);
                }
            }
        }
    }
    // A reader that stops early (`| head`) closes the pipe: that is not an error.
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(0),
    }
}
