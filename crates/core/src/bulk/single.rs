//! The one-user path: read when needed, decide, write, and settle the user's outcome;
//! also what a `/Bulk` batch hands back when it could not settle a user.

use muster_scim::user::{User, UserStatus};

use super::plan::{Plan, Write};
use super::work::{Interrupt, Item, Shared, Subject, backoff, lost_answer};
use super::{Operation, Outcome, Report, Stop};
use crate::actions::Action;
use crate::error::{Code, Error};
use crate::query::{ListQuery, attr};

/// Settles one target; always returns its report.
pub(super) async fn settle(shared: &Shared, item: &Item) -> Report {
    match &item.subject {
        Subject::Existing(id) => existing(shared, item, id).await,
        Subject::New(person) => invite(shared, item, person).await,
    }
}

/// An existing user: decide on the record at hand, write, and on a stale record or a lost
/// answer read the user again and decide again.
async fn existing(shared: &Shared, item: &Item, id: &str) -> Report {
    let mut record = if item.uncertain {
        None
    } else {
        item.record.clone()
    };
    let mut fresh = item.fresh && record.is_some();
    // A write's answer was lost: whether it took effect shows on the next read.
    let mut lost = item.uncertain;
    let mut sends = u32::from(item.uncertain);
    let mut conflicts = 0;
    loop {
        let user = match record.take() {
            Some(user) => user,
            None => match shared
                .call(|| async { shared.client.users().get(id).await })
                .await
            {
                Ok(got) => {
                    fresh = true;
                    got.value
                }
                Err(Interrupt::Stopped) => return unfinished(item, lost),
                Err(Interrupt::Failed(error)) => return failed_read(shared, item, error),
            },
        };
        match shared.plan(&user) {
            Plan::Skip { reason, already } => {
                if !fresh {
                    // Decided on a cached record: make sure with the server's.
                    continue;
                }
                if lost && already {
                    // The write whose answer was lost took effect.
                    return item.report(Some(&user), done(user.clone()));
                }
                return item.report(
                    Some(&user),
                    Outcome::Skipped {
                        reason,
                        already_done: already,
                    },
                );
            }
            Plan::Act(write) => {
                if sends >= shared.options.max_attempts {
                    // Only lost answers use up sends.
                    return item.report(Some(&user), lost_answer());
                }
                let etag = user.meta.as_ref().and_then(|m| m.version.clone());
                let sent = shared
                    .call(|| send(shared, id, &write, etag.as_deref()))
                    .await;
                sends += 1;
                match sent {
                    Ok(changed) => return item.report(Some(&changed), done(changed.clone())),
                    Err(Interrupt::Stopped) => return unfinished(item, lost),
                    Err(Interrupt::Failed(Error::Conflict { stale, .. }))
                        if !fresh || (stale && conflicts == 0) =>
                    {
                        // The record was out of date (or changed under us): read again,
                        // decide again.
                        conflicts += 1;
                        sends -= 1;
                    }
                    Err(Interrupt::Failed(
                        Error::Offline { .. }
                        | Error::Server {
                            status: 502..=504, ..
                        },
                    )) => {
                        // No answer, or a gateway's or a deadline's: the change may have
                        // been made. Read the user before sending again.
                        lost = true;
                        if !shared.back_off(sends).await {
                            return unfinished(item, true);
                        }
                    }
                    Err(Interrupt::Failed(error)) => {
                        return item.report(Some(&user), failed(&error));
                    }
                }
            }
        }
    }
}

/// Sends the write for one user and returns the user as the server answered.
async fn send(shared: &Shared, id: &str, write: &Write, etag: Option<&str>) -> Result<User, Error> {
    match write {
        Write::Action(action) => shared
            .client
            .actions()
            .run(id, action.clone())
            .await
            .map(|v| v.value),
        Write::Patch(operations) => shared
            .client
            .users()
            .patch(id, operations.clone(), etag)
            .await
            .map(|v| v.value),
    }
}

/// A new person: create (unless a batch did, or they exist), then send the welcome if
/// asked. A create whose answer was lost is checked by userName before it is sent again.
async fn invite(shared: &Shared, item: &Item, person: &User) -> Report {
    let send_welcome = matches!(shared.operation, Operation::Invite { send_welcome: true });
    let mut created = item.record.clone();
    let mut uncertain = item.uncertain && created.is_none();
    // Whether the person existed before this job (a re-run, or someone else made them).
    let mut existed = false;
    let mut sends = u32::from(uncertain);
    while created.is_none() {
        if uncertain {
            match find(shared, &person.user_name).await {
                Ok(Some(user)) => {
                    created = Some(user);
                    break;
                }
                Ok(None) => uncertain = false,
                Err(Interrupt::Stopped) => return unfinished(item, true),
                Err(Interrupt::Failed(error)) => return failed_read(shared, item, error),
            }
        }
        if sends >= shared.options.max_attempts {
            return item.report(None, lost_answer());
        }
        let sent = shared
            .call(|| async { shared.client.users().create(person).await })
            .await;
        sends += 1;
        match sent {
            Ok(user) => created = Some(user.value),
            Err(Interrupt::Stopped) => return unfinished(item, false),
            Err(Interrupt::Failed(error @ Error::Conflict { .. })) => {
                // Taken: the same person from an earlier run, or someone else.
                match find(shared, &person.user_name).await {
                    Ok(Some(user)) => {
                        existed = true;
                        created = Some(user);
                    }
                    Ok(None) => return item.report(None, failed(&error)),
                    Err(Interrupt::Stopped) => return unfinished(item, false),
                    Err(Interrupt::Failed(error)) => return failed_read(shared, item, error),
                }
            }
            Err(Interrupt::Failed(Error::Offline { .. })) => {
                uncertain = true;
                if !shared.back_off(sends).await {
                    return unfinished(item, true);
                }
            }
            Err(Interrupt::Failed(error)) => return item.report(None, failed(&error)),
        }
    }
    let Some(user) = created else {
        return item.report(None, lost_answer());
    };
    let invited = user.status() == UserStatus::Invited;
    if !send_welcome || !invited || (invitation_sent(&user) && !item.uncertain) {
        return if existed {
            item.report(
                Some(&user),
                Outcome::Skipped {
                    reason: "Exists already.".to_owned(),
                    already_done: true,
                },
            )
        } else {
            item.report(Some(&user), done(user.clone()))
        };
    }
    // A welcome sent by a batch whose answer was lost: look before sending again.
    welcome(shared, item, user, item.uncertain).await
}

/// Sends a new user's first invitation. The user exists whatever happens here, so a
/// failure says so. A cancel does not interrupt it: a person is created and invited as
/// one unit.
async fn welcome(shared: &Shared, item: &Item, user: User, check_first: bool) -> Report {
    let Some(id) = user.id.clone() else {
        return item.report(
            Some(&user),
            failed_welcome(&Error::protocol("the created user has no id", b"")),
        );
    };
    let mut sends = 0;
    if check_first {
        match invited_already(shared, &id).await {
            Ok(Some(invited)) => return item.report(Some(&invited), done(invited.clone())),
            Ok(None) => {}
            Err(_) => return item.report(Some(&user), lost_answer()),
        }
    }
    loop {
        let sent = shared
            .finish(|| async { shared.client.actions().run(&id, Action::welcome()).await })
            .await;
        sends += 1;
        match sent {
            Ok(invited) => return item.report(Some(&invited.value), done(invited.value.clone())),
            Err(Interrupt::Stopped) => {
                let code = shared.stopped_by().unwrap_or(Code::Offline);
                return item.report(
                    Some(&user),
                    Outcome::Failed {
                        code,
                        message: "Created, but the job stopped before the invitation was \
                                  sent; retry to send it."
                            .to_owned(),
                    },
                );
            }
            Err(Interrupt::Failed(error @ Error::Offline { .. }))
                if sends < shared.options.max_attempts =>
            {
                // Was it sent? The invitation shows on the user.
                tokio::time::sleep(backoff(sends)).await;
                match invited_already(shared, &id).await {
                    Ok(Some(invited)) => return item.report(Some(&invited), done(invited.clone())),
                    Ok(None) => {}
                    Err(_) => return item.report(Some(&user), failed_welcome(&error)),
                }
            }
            Err(Interrupt::Failed(error)) => {
                return item.report(Some(&user), failed_welcome(&error));
            }
        }
    }
}

/// The user as the server holds them when they have been sent an invitation (by an
/// earlier send whose answer was lost), `None` when they have not.
async fn invited_already(shared: &Shared, id: &str) -> Result<Option<User>, Interrupt> {
    let got = shared
        .finish(|| async { shared.client.users().get(id).await })
        .await?;
    Ok(invitation_sent(&got.value).then_some(got.value))
}

/// Whether the user has been sent an invitation.
fn invitation_sent(user: &User) -> bool {
    user.shop
        .as_ref()
        .is_some_and(|shop| shop.invitation.is_some())
}

/// The user with this userName, if any.
async fn find(shared: &Shared, user_name: &str) -> Result<Option<User>, Interrupt> {
    let query = ListQuery::filtered(attr("userName").eq(user_name)).with_count(2);
    let page = shared
        .call(|| async { shared.client.users().page(&query).await })
        .await?;
    Ok(page
        .resources
        .into_iter()
        .find(|u| u.user_name.eq_ignore_ascii_case(user_name)))
}

/// A read that failed. When the server cannot be reached (the transport has already
/// retried), the job stops: the rest would fail the same way.
fn failed_read(shared: &Shared, item: &Item, error: Error) -> Report {
    if let Error::Offline { .. } = error {
        shared.halt(Stop {
            code: Code::Offline,
            message: format!("{error} The users not reached were left as they were."),
        });
    }
    if item.uncertain {
        return item.report(None, lost_answer());
    }
    item.report(None, failed(&error))
}

fn unfinished(item: &Item, lost: bool) -> Report {
    if lost {
        item.report(None, lost_answer())
    } else {
        item.report(None, Outcome::NotRun)
    }
}

fn done(user: User) -> Outcome {
    Outcome::Done {
        user: Box::new(user),
    }
}

pub(super) fn failed(error: &Error) -> Outcome {
    Outcome::Failed {
        code: error.code(),
        message: error.to_string(),
    }
}

fn failed_welcome(error: &Error) -> Outcome {
    Outcome::Failed {
        code: error.code(),
        message: format!("Created, but the invitation was not sent: {error}"),
    }
}
