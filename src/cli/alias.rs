//! `loopbench alias add|del|list`: loopback aliases through rtnetlink.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};

use super::output::print;
use crate::error::UsageError;
use crate::loopback::alias::{self, Alias};

/// Manage loopback aliases (extra 127.0.0.0/8 addresses on lo) through netlink.
///
/// `add` adds the address, checks it is listed and carries a TCP and a UDP round trip, and prints
/// configuration snippets that make it persistent (netplan, ifupdown, systemd-networkd); no
/// system file is written. Changing addresses needs CAP_NET_ADMIN (root). Note that 127.0.0.1/8
/// already makes all of 127.0.0.0/8 reachable: an alias matters for tools that list addresses, or
/// when lo carries only a /32.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  loopbench alias list
  sudo loopbench alias add 127.0.0.2/8
  sudo loopbench alias del 127.0.0.2/8
  loopbench alias list --json")]
pub struct AliasArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Add 127.0.0.N[/prefix] to lo (default /32), verify it, print persistent configuration.
    #[command(after_help = "\
Examples:
  sudo loopbench alias add 127.0.0.2
  sudo loopbench alias add 127.0.0.10/8")]
    Add {
        /// The address, e.g. 127.0.0.2 or 127.0.0.2/8.
        address: Alias,
    },
    /// Delete 127.0.0.N[/prefix] from lo and verify it is gone.
    #[command(after_help = "\
Examples:
  sudo loopbench alias del 127.0.0.2")]
    Del {
        /// The address as it was added.
        address: Alias,
    },
    /// List lo's addresses.
    #[command(after_help = "\
Examples:
  loopbench alias list
  loopbench alias list --json")]
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the command.
pub fn execute(args: AliasArgs) -> Result<ExitCode> {
    match args.action {
        Action::Add { address } => {
            if !alias::lo_is_up()? {
                bail!(UsageError(format!(
                    "lo is down in this network namespace, so nothing could reach {address}; \
                     nothing was added. Bring it up first (ip link set lo up)"
                )));
            }
            let added = alias::add(address)?;
            if !alias::is_present(address)? {
                bail!("{address} was added but lo does not list it");
            }
            let probe = alias::probe(address.address);
            let mut out = format!(
                "{address} {} lo\n",
                if added { "added to" } else { "was already on" }
            );
            out.push_str(&format!(
                "probe: tcp {}, udp {}\n",
                probe.tcp_error.as_deref().unwrap_or("ok"),
                probe.udp_error.as_deref().unwrap_or("ok")
            ));
            out.push_str("\nTo keep it across reboots (nothing was written):\n\n");
            out.push_str(&alias::persistent_snippets(address));
            print(&out)?;
            if !probe.ok() {
                bail!("{address} is on lo but a probe failed");
            }
        }
        Action::Del { address } => {
            let prefixes = alias::prefixes_of(address.address)?;
            if !prefixes.is_empty() && !prefixes.contains(&address.prefix_len) {
                let on_lo: Vec<String> = prefixes
                    .iter()
                    .map(|p| format!("{}/{p}", address.address))
                    .collect();
                bail!(UsageError(format!(
                    "{} is on lo as {}, not as {address}: give that prefix \
                     (loopbench alias del {})",
                    address.address,
                    on_lo.join(" and "),
                    on_lo[0]
                )));
            }
            let removed = alias::del(address)?;
            if alias::is_present(address)? {
                bail!("{address} is still on lo after deleting it");
            }
            print(&format!(
                "{address} {}\n",
                if removed {
                    "deleted from lo"
                } else {
                    "was not on lo"
                }
            ))?;
        }
        Action::List { json } => {
            let list = alias::list()?;
            if json {
                let doc = alias::AliasList {
                    schema_version: alias::SCHEMA_VERSION,
                    addresses: list,
                };
                print(&(serde_json::to_string_pretty(&doc)? + "\n"))?;
            } else {
                let mut out = String::new();
                for a in list {
                    out.push_str(&format!(
                        "{}/{}{}\n",
                        a.address,
                        a.prefix_len,
                        a.label.map(|l| format!("  label {l}")).unwrap_or_default()
                    ));
                }
                print(&out)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
