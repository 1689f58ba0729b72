//! `livestream-operator`: the command line.

use clap::{Parser, Subcommand};
use livestream_operator::{api, controller, telemetry};

#[derive(Parser)]
#[command(
    name = "livestream-operator",
    version,
    about = "Runs LiveStream resources as AWS Elemental MediaLive + MediaPackage channels"
)]
struct Cli {
    /// Log format.
    #[arg(long, value_enum, default_value_t, global = true, env = "LOG_FORMAT")]
    log_format: telemetry::LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the controller against the cluster of the current kubeconfig (or in-cluster config).
    Run,
    /// Print the LiveStream CustomResourceDefinition as YAML.
    Crd,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Crd => {
            print!("{}", api::crd_yaml());
            Ok(())
        }
        Command::Run => {
            telemetry::init(cli.log_format);
            let client = kube::Client::try_default().await?;
            controller::run(client).await
        }
    }
}
