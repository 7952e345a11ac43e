//! `muster account ...`: the signed-in person's own account at a Muster server, as the
//! app's "My account" has it — show it, change the password (the current one is needed),
//! set up two-factor sign-in (the key and its QR code drawn in the terminal, then a code
//! to confirm), turn it off, and end one's other sessions. Secrets come from the
//! environment or a prompt, never the command line (see [`crate::credentials`]).

use std::io::IsTerminal;

use clap::Subcommand;
use muster_core::account::{MfaEnrolmentView, QrView};
use serde_json::json;

use crate::Target;
use crate::credentials::{current_password, new_password, one_time_code};
use crate::failure::Failure;
use crate::output::{Output, say};

/// `muster account ...`.
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Show who you are signed in as: role, two-factor, open sessions.
    Show,
    /// Choose a new password: the current one (MUSTER_PASSWORD or a prompt), then the new
    /// one (asked twice, or read from stdin when piped), and with two-factor on a code not
    /// used to sign in (MUSTER_TOTP or a prompt). Your other sessions end.
    Password,
    /// Two-factor sign-in with an authenticator app.
    Mfa {
        #[command(subcommand)]
        command: MfaCommand,
    },
    /// Sign out everywhere but here.
    EndSessions,
}

/// `muster account mfa ...`.
#[derive(Debug, Subcommand)]
pub enum MfaCommand {
    /// Start: with your password, print the key for the authenticator app and its QR
    /// code; on a terminal, then ask for a code and turn it on.
    Setup,
    /// Turn it on with a code the app shows now (MUSTER_TOTP or a prompt).
    Confirm,
    /// Turn it off, with your password and a code not used to sign in (MUSTER_TOTP or a
    /// prompt).
    Disable,
}

/// Runs `muster account ...`.
pub async fn run(command: AccountCommand, target: &Target, out: &Output) -> Result<(), Failure> {
    // Read what is typed before signing in, so a mistyped confirmation costs no request.
    let (current, new) = match &command {
        AccountCommand::Password => (Some(current_password()?), Some(new_password()?)),
        AccountCommand::Mfa {
            command: MfaCommand::Setup | MfaCommand::Disable,
        } => (Some(current_password()?), None),
        _ => (None, None),
    };
    let client = target.client().await?;
    let own = client.own_account();
    match (command, current, new) {
        (AccountCommand::Show, ..) => {
            let me = own.me().await?;
            out.value(&me, || describe(&me))
        }
        (AccountCommand::Password, Some(current), Some(new)) => {
            // With two-factor on, a code too: one not used to sign in (the server takes
            // each once), so `muster login` first, or the next code.
            let code = if own.me().await?.mfa_enabled {
                Some(one_time_code("A new code from the app: ")?)
            } else {
                None
            };
            own.change_password(&current, &new, code.as_deref()).await?;
            out.value(&json!({"passwordChanged": true}), || {
                "Your password is changed; your other sessions are ended.".to_owned()
            })
        }
        (
            AccountCommand::Mfa {
                command: MfaCommand::Setup,
            },
            Some(password),
            _,
        ) => set_up_mfa(&own, &password, out).await,
        (
            AccountCommand::Mfa {
                command: MfaCommand::Confirm,
            },
            ..,
        ) => {
            let code = one_time_code("Code from the app: ")?;
            own.confirm_mfa(&code).await?;
            out.value(&json!({"mfaEnabled": true}), || {
                "Two-factor sign-in is on.".to_owned()
            })
        }
        (
            AccountCommand::Mfa {
                command: MfaCommand::Disable,
            },
            Some(password),
            _,
        ) => {
            let code = one_time_code("A new code from the app: ")?;
            own.disable_mfa(&password, &code).await?;
            out.value(&json!({"mfaEnabled": false}), || {
                "Two-factor sign-in is off.".to_owned()
            })
        }
        (AccountCommand::EndSessions, ..) => {
            let ended = own.end_other_sessions().await?;
            out.value(&json!({"sessionsEnded": ended}), || {
                format!(
                    "Ended {ended} other session{}.",
                    if ended == 1 { "" } else { "s" }
                )
            })
        }
        _ => Err(Failure::Local(
            "The command's input was not read.".to_owned(),
        )),
    }
}

/// `account show` in words.
fn describe(me: &muster_core::account::MyAccountView) -> String {
    format!(
        "{} ({}{}), two-factor {}, {} open session{}{}.",
        me.name.as_deref().unwrap_or("?"),
        me.role,
        if me.system_admin {
            ", system admin"
        } else {
            ""
        },
        if me.mfa_enabled { "on" } else { "off" },
        me.active_sessions,
        if me.active_sessions == 1 { "" } else { "s" },
        if me.must_change_password {
            "; a new password must be chosen (muster account password)"
        } else {
            ""
        },
    )
}

/// `account mfa setup`: the key and its QR code, then (on a terminal) the first code.
async fn set_up_mfa(
    own: &muster_core::account::OwnAccount<'_>,
    password: &muster_core::Secret,
    out: &Output,
) -> Result<(), Failure> {
    let enrolment = own.start_mfa(password).await?;
    if out.json {
        return out.json(&enrolment);
    }
    print_enrolment(&enrolment);
    if !std::io::stdin().is_terminal() {
        say!("Then turn it on with: muster account mfa confirm");
        return Ok(());
    }
    let code = one_time_code("Code from the app: ")?;
    own.confirm_mfa(&code).await?;
    say!("Two-factor sign-in is on.");
    Ok(())
}

/// The key and its QR code, for the authenticator app.
fn print_enrolment(enrolment: &MfaEnrolmentView) {
    say!(
        "Scan this with the authenticator app, or type the key: {}",
        enrolment.secret
    );
    say!("{}", terminal_qr(&enrolment.qr));
}

/// A QR code in a terminal: two module rows per line with half blocks, light modules
/// drawn (terminals are mostly dark), inside a quiet zone of two modules.
fn terminal_qr(qr: &QrView) -> String {
    let size = usize::try_from(qr.size).unwrap_or(0);
    let quiet = 2;
    let side = size + 2 * quiet;
    let dark = |x: usize, y: usize| {
        x >= quiet
            && y >= quiet
            && x < quiet + size
            && y < quiet + size
            && qr
                .modules
                .get((y - quiet) * size + (x - quiet))
                .copied()
                .unwrap_or(false)
    };
    let mut lines = Vec::new();
    for y in (0..side).step_by(2) {
        let line: String = (0..side)
            .map(|x| match (dark(x, y), y + 1 < side && dark(x, y + 1)) {
                (false, false) if y + 1 < side => '█',
                (false, false) => '▀',
                (false, true) => '▀',
                (true, false) if y + 1 < side => '▄',
                (true, false) => ' ',
                (true, true) => ' ',
            })
            .collect();
        lines.push(line);
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_is_drawn_light_on_dark_with_a_quiet_zone() {
        let qr = QrView::of("otpauth://totp/Muster:a@b.test?secret=JBSWY3DPEHPK3PXP").unwrap();
        let drawn = terminal_qr(&qr);
        let lines: Vec<&str> = drawn.lines().collect();
        let side = qr.size as usize + 4;
        assert_eq!(lines.len(), side.div_ceil(2), "two module rows per line");
        assert!(lines.iter().all(|l| l.chars().count() == side));
        assert!(
            lines[0].chars().all(|c| c == '█'),
            "the quiet zone is light"
        );
        // The finder pattern's top-left corner (dark) starts at column 2 of line 1.
        assert_eq!(lines[1].chars().nth(2), Some(' '));
    }
}
