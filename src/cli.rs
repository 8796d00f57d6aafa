//! Every command and flag, with its help text, in one place. kube-bench's flags keep their
//! names and meaning (`--version` is the Kubernetes version, as in kube-bench; the tool's own
//! version is `kubecis version`), so existing Jobs and scripts work unchanged.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "kubecis",
    about = "Audit a Kubernetes node and cluster against the CIS Kubernetes Benchmark",
    disable_version_flag = true,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Without a command, kubecis runs the checks (as `kube-bench` without `run` does).
    #[command(flatten)]
    pub run: Box<RunArgs>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the checks of a benchmark against this node (and cluster).
    Run(Box<RunArgs>),
    /// Record the facts the checks read on this node, for `run --snapshot` elsewhere.
    ///
    /// The snapshot is versioned JSON (docs/snapshot.md). Secrets no check compares
    /// (encryption keys, tokens, private keys) are redacted before it is written.
    Collect(Box<CollectArgs>),
    /// Run the bundled benchmark on the embedded demo node: no Kubernetes needed.
    Demo(DemoArgs),
    /// List the checks of a benchmark (Markdown with --markdown, as in docs/checks.md).
    Checks(ChecksArgs),
    /// Judge manifests against a Pod Security Standards level, for CI (exit 0: all meet it,
    /// 1: violations, 2: unreadable or malformed input).
    Scan(crate::policies::scan::ScanArgs),
    /// Who may do VERB on RESOURCE: every subject, with the binding and role that allow it.
    WhoCan(crate::policies::rbac::commands::WhoCanArgs),
    /// May SUBJECT do VERB on RESOURCE? Prints yes or no; exit 0 for yes, 1 for no.
    CanI(crate::policies::rbac::commands::CanIArgs),
    /// Print kubecis's version.
    Version,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Junit,
    Sarif,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Targets to run (master, etcd, controlplane, node, policies), comma separated. Default:
    /// the targets whose components run on this node.
    #[arg(long, value_delimiter = ',')]
    pub targets: Vec<String>,
    #[command(flatten)]
    pub defs: DefinitionArgs,
    /// Only these check ids, comma separated.
    #[arg(short = 'c', long, value_delimiter = ',')]
    pub check: Vec<String>,
    /// Only these group ids, comma separated.
    #[arg(long, value_delimiter = ',')]
    pub group: Vec<String>,
    /// Report these check or group ids as INFO without running them, comma separated.
    #[arg(long, value_delimiter = ',')]
    pub skip: Vec<String>,
    /// Run the scored checks (--scored=false leaves them out).
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub scored: bool,
    /// Run the unscored checks (--unscored=false leaves them out).
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    pub unscored: bool,
    /// Print the results as JSON (same as --format json).
    #[arg(long)]
    pub json: bool,
    /// Print the results as JUnit XML (same as --format junit).
    #[arg(long)]
    pub junit: bool,
    /// Print the results as SARIF 2.1.0 (same as --format sarif).
    #[arg(long)]
    pub sarif: bool,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the report to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub outputfile: Option<PathBuf>,
    /// Leave out the remediations section.
    #[arg(long)]
    pub noremediations: bool,
    /// Leave out the results lines.
    #[arg(long)]
    pub noresults: bool,
    /// Leave out the per-target summaries.
    #[arg(long)]
    pub nosummary: bool,
    /// Leave out the total summary.
    #[arg(long)]
    pub nototals: bool,
    /// Print the observed value under each FAIL and WARN.
    #[arg(long = "include-test-output")]
    pub include_test_output: bool,
    /// Exit with this code when any check FAILs (default 0, as kube-bench).
    #[arg(long = "exit-code", value_name = "N", default_value_t = 0)]
    pub exit_code: u8,
    #[command(flatten)]
    pub node: NodeArgs,
    /// Evaluate a snapshot written by `kubecis collect` instead of this node.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Kubernetes objects for the policies target: files, directories, or - for stdin.
    /// Without it, `--targets policies` reads the live cluster (kubeconfig or in-cluster).
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub objects: Vec<PathBuf>,
    /// Kubeconfig for reading the live cluster (policies target).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context for reading the live cluster (policies target).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// No colours (also when NO_COLOR is set or the output is not a terminal).
    #[arg(long = "no-color")]
    pub no_color: bool,
}

/// Which definitions to use (`run`, `collect`).
#[derive(Debug, Clone, Args)]
pub struct DefinitionArgs {
    /// Benchmark, e.g. cis-1.23. Default: the one --version maps to, else the newest.
    #[arg(long)]
    pub benchmark: Option<String>,
    /// Kubernetes version (e.g. 1.23), mapped to a benchmark by config.yaml's version_mapping.
    #[arg(long = "version", value_name = "KUBERNETES_VERSION")]
    pub kubernetes_version: Option<String>,
    /// Directory of definitions. Default: ./cfg, else cfg/ beside the binary, else the copy
    /// embedded in the binary.
    #[arg(long = "config-dir", value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    /// An alternative config.yaml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Refuse definitions that cannot be used as written (an unknown compare op, an invalid
    /// regex or JSONPath, an audit that cannot run): exit 2 naming the file, line and field of
    /// each. Without it such a check alone is WARN with that reason. For definition authors
    /// and CI.
    #[arg(long)]
    pub strict: bool,
}

/// Which node to read (`run`, `collect`).
#[derive(Debug, Clone, Args)]
pub struct NodeArgs {
    /// The node's filesystem root (e.g. /host when the host is mounted there in a container).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// The proc filesystem to find running components in.
    #[arg(long = "proc", value_name = "DIR", default_value = "/proc")]
    pub proc_dir: PathBuf,
}

impl RunArgs {
    pub fn format(&self) -> Format {
        match self.format {
            Some(f) => f,
            None if self.json => Format::Json,
            None if self.junit => Format::Junit,
            None if self.sarif => Format::Sarif,
            None => Format::Text,
        }
    }
}

/// `kubecis collect`: which facts to record (those of the selected benchmark's checks) and
/// where to write them. See docs/snapshot.md.
#[derive(Debug, Clone, Args)]
pub struct CollectArgs {
    /// Where to write the snapshot; - is standard output, so nothing is written on the node.
    /// An existing file is never overwritten.
    #[arg(long, short = 'o', value_name = "FILE", default_value = "-")]
    pub output: String,
    /// Targets whose facts to record, comma separated. Default: every target of the
    /// benchmark that reads the node (all but policies), so any later `run --snapshot`
    /// selection finds its facts.
    #[arg(long, value_delimiter = ',')]
    pub targets: Vec<String>,
    #[command(flatten)]
    pub defs: DefinitionArgs,
    #[command(flatten)]
    pub node: NodeArgs,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,
    /// No colours.
    #[arg(long = "no-color")]
    pub no_color: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ChecksArgs {
    #[command(flatten)]
    pub defs: DefinitionArgs,
    /// Print the Markdown table of docs/checks.md.
    #[arg(long)]
    pub markdown: bool,
}
