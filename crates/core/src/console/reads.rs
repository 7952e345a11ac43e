//! Reads: sync, the table's search and facets, one user, email and form checks,
//! responsibilities, the password policy and the audit log.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use muster_scim::user::{self as scim_user, User};
use reqwest::Method;
use serde_json::Value;
use time::OffsetDateTime;

use crate::actions::Invite;
use crate::cache::PackedUser;
use crate::error::Error;
use crate::rules::{self, Offer};
use crate::search::SearchQuery;
use crate::sync::{self, Phase as SyncPhase};
use crate::user_name;

use super::input::{invite_problem, problems_of};
use super::status::{capabilities_of, rules_account, session_held, status_of};
use super::view::{
    AssigneeView, AuditPage, AuditQuery, EmailCheck, FacetValue, Facets, InputCheck,
    PasswordPolicyView, ResponsibilityView, StatusView, SyncProgressView, UserDetail, UserInput,
    UserRow, UserWindow,
};
use super::writes::note_save;
use super::{Console, Data, MAX_WINDOW, active, active_mut, not_signed_in, org_of, view};

impl Console {
    /// Brings the offline copy up to date (the first time, everything, with progress).
    ///
    /// # Errors
    ///
    /// [`Error::Offline`] (the console goes offline, the copy is unchanged) and whatever
    /// else the server answers.
    pub async fn sync(
        &self,
        mut progress: impl FnMut(SyncProgressView),
    ) -> Result<StatusView, Error> {
        let _gate = self.sync_gate.lock().await;
        let (client, data, store, known) = {
            let state = self.state.lock().await;
            let active = active(&state)?;
            let client = active.session.client.clone().ok_or_else(not_signed_in)?;
            let known = active.capabilities().cloned();
            (client, active.data.clone(), active.store.clone(), known)
        };
        // A working copy: it shares every user with `data` until the sync replaces them.
        let mut snapshot = data.snapshot.clone();
        // A system admin's copy keeps deleted users, to find and restore them, where the
        // server lists them: what the server offers is read afresh for each of their
        // syncs, and the first sync that includes deleted users pages through everything
        // (users deleted earlier changed nothing since). Other copies take the
        // capabilities of their first sync, renewed by `refresh`.
        let mut options = sync::SyncOptions::default();
        if client.account().is_some_and(|a| a.system_admin) {
            let fresh = self.note_and_save_session(client.discover().await).await?;
            options.include_deleted = fresh.list_deleted;
            options.force_full = fresh.list_deleted && !known.is_some_and(|k| k.list_deleted);
            options.discovered = true;
            snapshot.capabilities = Some(fresh);
        }
        let now = self.clock.now();
        let started = std::time::Instant::now();
        let result = sync::sync_with(&client, &mut snapshot, now, &options, |p| {
            progress(SyncProgressView {
                phase: match p.phase {
                    SyncPhase::Users => "users",
                    SyncPhase::Groups => "groups",
                    SyncPhase::Changes => "changes",
                    SyncPhase::Ids => "ids",
                }
                .to_owned(),
                fetched: view::clamp(p.fetched),
                total: p.total.map(view::clamp),
            });
        })
        .await;
        let report = self.note_and_save_session(result).await?;
        let fetched_ms = started.elapsed().as_millis();
        let before = data.clone();
        // After the walk, when the server no longer needs the cores: indexing the pages as
        // they came was measured slower, the two sharing both cores.
        let data = tokio::task::spawn_blocking(move || Data::indexed(&data, snapshot))
            .await
            .map_err(|_| Error::Storage {
                message: "The synced data could not be indexed.".to_owned(),
            })?;
        // The screen reads the new copy at once, while the file is written: a full copy at
        // 100,000 users takes about half a second to save. Quitting waits for the write
        // from the moment the new copy is on show.
        let _saving = self.save_gate.lock().await;
        tracing::info!(
            full = report.full,
            fetched = report.fetched,
            fetched_ms,
            indexed_ms = started.elapsed().as_millis() - fetched_ms,
            "synced"
        );
        {
            let mut state = self.state.lock().await;
            let active = active_mut(&mut state)?;
            if !Arc::ptr_eq(&active.data, &before) {
                // Another profile or organisation was opened meanwhile: this sync was not
                // of the copy on show now.
                return Ok(status_of(&state));
            }
            active.data = data.clone();
            // Users read in part stay so in the copy until read again: an incremental
            // sync that read none of them does not clear what a full one found.
            let notice = report.unread_notice();
            if report.full || notice.is_some() {
                active.notices.sync = notice;
            }
        }
        let Some(store) = store else {
            return Ok(status_of(&*self.state.lock().await));
        };
        progress(SyncProgressView {
            phase: "saving".to_owned(),
            fetched: view::clamp(data.snapshot.users.len() as u64),
            total: None,
        });
        let saving = data.clone();
        let saved = tokio::task::spawn_blocking(move || {
            store.save_indexed(&saving.snapshot, &saving.index)
        })
        .await
        .unwrap_or_else(|_| {
            Err(Error::Storage {
                message: "The synced data could not be saved.".to_owned(),
            })
        });
        let mut state = self.state.lock().await;
        let active = active_mut(&mut state)?;
        if Arc::ptr_eq(&active.data, &data) {
            note_save(active, Some(saved));
        }
        Ok(status_of(&state))
    }

    /// Whether a sync's copy is being written to its file now: quitting then should wait
    /// for [`settled`](Self::settled), or the sync's copy is not kept.
    pub fn saving(&self) -> bool {
        self.save_gate.try_lock().is_err()
    }

    /// Returns once no sync's copy is being written.
    pub async fn settled(&self) {
        drop(self.save_gate.lock().await);
    }

    /// A window of the users table from the offline copy.
    pub async fn search(&self, query: &SearchQuery) -> UserWindow {
        let data = self.data().await;
        let search = windowed(query);
        let now = self.clock.now();
        let result = data.index.search(&search, now);
        UserWindow {
            total: view::clamp(result.total),
            hidden: view::clamp(result.hidden),
            offset: view::clamp(search.offset),
            rows: result
                .rows
                .iter()
                .filter_map(|&i| data.snapshot.users.get(i))
                .map(|user| UserRow::of(&user.user(), now))
                .collect(),
        }
    }

    /// The values the filter chips offer, with counts.
    pub async fn facets(&self) -> Facets {
        let data = self.data().await;
        // One user read at a time: the counts need every user, the memory only one.
        facets_of(
            data.snapshot.users.iter().map(PackedUser::user),
            self.clock.now(),
        )
    }

    /// One user: fresh from the server when it answers, else from the offline copy.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`]; [`Error::Offline`] when offline and the user is not cached.
    pub async fn user(&self, id: &str) -> Result<UserDetail, Error> {
        if let Some(client) = self.client().await? {
            let fetched = match client.users().get(id).await {
                // A deleted user, for a system admin who can restore them.
                Err(Error::NotFound { .. }) if self.lists_deleted().await => {
                    client.users().get_including_deleted(id).await
                }
                other => other,
            };
            match self.note_and_save_session(fetched).await {
                Ok(got) => {
                    self.apply(&got.value).await;
                    return Ok(self.detail(&got.value, got.etag, false).await);
                }
                Err(Error::Offline { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        let data = self.data().await;
        let cached = data
            .snapshot
            .users
            .iter()
            .find(|u| u.id() == Some(id))
            .map(PackedUser::user)
            .ok_or_else(|| Error::NotFound {
                message: "That user is not in the offline copy.".to_owned(),
            })?;
        Ok(self.detail(&cached, None, true).await)
    }

    /// What the create form should say about an email address: its shape, whether a
    /// cached user has it (`except` is the user being edited), and for a clash a free
    /// `+contractor` address for the same person's second account.
    pub async fn check_email(&self, email: &str, except: Option<&str>) -> EmailCheck {
        let email = email.trim();
        if !scim_user::looks_like_email(email) {
            return EmailCheck {
                valid: false,
                message: Some("Enter an address like name@example.com.".to_owned()),
                taken_by: None,
                suggestion: None,
            };
        }
        let data = self.data().await;
        let taken = |address: &str| {
            data.snapshot.users.iter().find(|u| {
                u.id() != except
                    && u.addresses().is_some_and(|known| {
                        known.user_name.eq_ignore_ascii_case(address)
                            || known.emails.iter().any(|e| e.eq_ignore_ascii_case(address))
                    })
            })
        };
        match taken(email) {
            None => EmailCheck {
                valid: true,
                message: None,
                taken_by: None,
                suggestion: None,
            },
            Some(user) => {
                let suggestion = email.rsplit_once('@').and_then(|(local, domain)| {
                    let base = local.split('+').next().unwrap_or(local);
                    ["contractor", "desk", "field"]
                        .iter()
                        .map(|tag| format!("{base}+{tag}@{domain}"))
                        .find(|candidate| taken(candidate).is_none())
                });
                EmailCheck {
                    valid: false,
                    message: Some(
                        "This address is in use. Someone with two roles needs a second address."
                            .to_owned(),
                    ),
                    taken_by: Some(user.user().display_name().into_owned()),
                    suggestion,
                }
            }
        }
    }

    /// The user form as typed: each problem that shows without the server (the list a
    /// save is refused with before sending, with the invitation `welcome` would send), and
    /// the free sign-in name the person's name makes, numbered past the names the copy has
    /// taken (`except` is the user being edited).
    pub async fn check_user_input(
        &self,
        input: &UserInput,
        except: Option<&str>,
        welcome: Option<Invite>,
    ) -> InputCheck {
        let data = self.data().await;
        // The user being edited, as the copy has them: a licence and role they hold
        // already are not refused again.
        let edited = except.and_then(|id| {
            data.snapshot
                .users
                .iter()
                .find(|u| u.id() == Some(id))
                .map(PackedUser::user)
        });
        let shop = edited.as_ref().and_then(|u| u.shop.as_ref());
        let held = edited.as_ref().map(|_| {
            (
                shop.and_then(|s| s.licence.as_ref()).map(|l| l.as_str()),
                shop.and_then(|s| s.role.as_ref()).map(|r| r.as_str()),
            )
        });
        let mut fields = problems_of(input, held);
        fields.extend(invite_problem(input, welcome));
        let Some(base) = user_name::base(&input.given_name, &input.family_name) else {
            return InputCheck {
                fields,
                user_name: None,
            };
        };
        // Only names that start like the base can be its candidates.
        let taken: HashSet<String> = data
            .snapshot
            .users
            .iter()
            .filter(|u| u.id() != except)
            .filter_map(|u| Some(u.addresses()?.user_name))
            .filter(|name| {
                name.get(..base.len())
                    .is_some_and(|start| start.eq_ignore_ascii_case(&base))
            })
            .map(str::to_ascii_lowercase)
            .collect();
        InputCheck {
            fields,
            user_name: user_name::suggest(&input.given_name, &input.family_name, |name| {
                taken.contains(name)
            }),
        }
    }

    /// A user's detail as the signed-in account sees it now, with what can be done to
    /// them by the engine's rules; while signed out or offline every action is held back
    /// with that reason.
    pub(super) async fn detail(
        &self,
        user: &User,
        version: Option<String>,
        from_cache: bool,
    ) -> UserDetail {
        let now = self.clock.now();
        let state = self.state.lock().await;
        let active = state.active.as_ref();
        let account = active.and_then(rules_account);
        let me = active
            .and_then(|a| a.session.account.as_ref())
            .map(|a| a.id.as_str());
        let mut detail = UserDetail::of(user, version, me, from_cache, now);
        let Some(active) = active else {
            return detail;
        };
        let capabilities = capabilities_of(active);
        let held = session_held(active);
        detail.actions = rules::offers(user, account.as_ref(), &capabilities)
            .into_iter()
            .map(|offer| match &held {
                Some(reason) if offer.available => Offer {
                    available: false,
                    reason: Some(reason.clone()),
                    ..offer
                },
                _ => offer,
            })
            .collect();
        detail.actions_note = rules::missing_actions_note(&capabilities).map(str::to_owned);
        detail.locked_fields =
            rules::locked_fields(user.id.as_deref(), account.as_ref(), &capabilities);
        detail
    }

    /// What a user is responsible for, for the deactivate wizard.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] on other providers.
    pub async fn responsibilities(&self, id: &str) -> Result<Vec<ResponsibilityView>, Error> {
        let client = self.require_client().await?;
        let held = self
            .note_and_save_session(client.actions().responsibilities(id).await)
            .await?;
        Ok(held
            .kinds
            .into_iter()
            .map(|r| ResponsibilityView {
                kind: r.kind.name().to_owned(),
                count: view::clamp(r.count),
                label: r.label,
            })
            .collect())
    }

    /// Active users matching `query`, to take over responsibilities.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] on other providers.
    pub async fn assignees(&self, query: &str) -> Result<Vec<AssigneeView>, Error> {
        let client = self.require_client().await?;
        let found = self
            .note_and_save_session(client.actions().assignees(query, 50).await)
            .await?;
        Ok(found
            .into_iter()
            .map(|a| AssigneeView {
                id: a.id,
                display_name: a.display_name,
                user_name: a.user_name,
            })
            .collect())
    }

    /// The organisation's password rules.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] on other providers.
    pub async fn password_policy(&self) -> Result<PasswordPolicyView, Error> {
        let client = self.require_client().await?;
        let org = org_of(&client)?;
        let url = format!("{}/o/{org}/policy", client.root());
        let value: Value = self
            .note_and_save_session(client.send(Method::GET, &url, &[], None, None, true).await)
            .await?
            .json()?;
        let number = |key: &str| {
            value
                .get(key)
                .and_then(Value::as_u64)
                .map_or(0, view::clamp)
        };
        let flag = |key: &str| value.get(key).and_then(Value::as_bool).unwrap_or(false);
        Ok(PasswordPolicyView {
            style: text(&value, "style").unwrap_or_default(),
            min_length: number("minLength"),
            max_length: number("maxLength"),
            require_upper: flag("requireUpper"),
            require_lower: flag("requireLower"),
            require_digit: flag("requireDigit"),
            require_special: flag("requireSpecial"),
            deny_common_passwords: flag("denyCommonPasswords"),
            rules: value
                .get("rules")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect(),
        })
    }

    /// A page of the organisation's audit log (admins, viewers and support staff).
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] on other providers; [`Error::Forbidden`].
    pub async fn audit(&self, query: &AuditQuery) -> Result<AuditPage, Error> {
        let client = self.require_client().await?;
        self.note_and_save_session(client.audit().page(query).await)
            .await
    }
}

pub(super) fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The table's query with its window held to between 1 and [`MAX_WINDOW`] rows.
pub(super) fn windowed(query: &SearchQuery) -> SearchQuery {
    SearchQuery {
        limit: query.limit.clamp(1, MAX_WINDOW),
        ..query.clone()
    }
}

pub(super) fn facets_of<U: Borrow<User>>(
    users: impl IntoIterator<Item = U>,
    now: OffsetDateTime,
) -> Facets {
    let mut counts: [BTreeMap<String, u32>; 9] = Default::default();
    let mut add = |slot: usize, value: &str| {
        let value = value.trim();
        if !value.is_empty() {
            *counts[slot].entry(value.to_owned()).or_default() += 1;
        }
    };
    for user in users {
        let user = user.borrow();
        add(2, user.status_name());
        let Some(shop) = user.shop.as_ref() else {
            continue;
        };
        if let Some(role) = &shop.role {
            add(0, role.as_str());
        }
        if let Some(licence) = &shop.licence {
            add(1, licence.as_str());
        }
        let mut branches: Vec<&str> = shop.branches.iter().map(String::as_str).collect();
        branches.extend(shop.home_branch.as_deref());
        branches.sort_unstable();
        branches.dedup();
        for branch in branches {
            add(3, branch);
        }
        for zone in &shop.zones {
            add(4, zone);
        }
        if let Some(group) = &shop.security_group {
            add(5, group);
        }
        for group in &shop.service_groups {
            add(6, group);
        }
        if let Some(method) = shop.last_sign_in.as_ref().and_then(|l| l.method.as_ref()) {
            add(7, method.as_str());
        }
        if let Some(state) = user.invitation_state(now) {
            add(8, state.as_str());
        }
    }
    let [
        roles,
        licences,
        statuses,
        branches,
        zones,
        security,
        service,
        methods,
        invitations,
    ] = counts.map(|map| {
        map.into_iter()
            .map(|(value, count)| FacetValue { value, count })
            .collect::<Vec<_>>()
    });
    Facets {
        roles,
        licences,
        statuses,
        branches,
        zones,
        security_groups: security,
        service_groups: service,
        sign_in_methods: methods,
        invitation_states: invitations,
    }
}

#[cfg(test)]
mod tests;
