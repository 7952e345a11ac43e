//! Users and groups in the binary form of [`wire`](super::wire).

use muster_scim::group::{Group, Member, MemberType};
use muster_scim::meta::Meta;
use muster_scim::user::{
    Address, EnterpriseUser, Invitation, InvitationState, LastSignIn, Licence, Manager, MultiValue,
    Name, Password, Role, ShopUser, SignInMethod, Unread, User, UserStatus,
};

use super::wire::{In, Out, Read, bad};
use super::{CacheError, PackedUser};

/// A segment of users: their count, then each one's compact form (its length, then its
/// bytes), as the snapshot holds it.
pub(super) fn users_segment(users: &[PackedUser]) -> Vec<u8> {
    let total: usize = users.iter().map(|user| user.bytes().len() + 3).sum();
    let mut out = Out::with_capacity(total + 5);
    out.len(users.len());
    for user in users {
        out.len(user.bytes().len());
        out.bytes.extend_from_slice(user.bytes());
    }
    out.bytes
}

/// The length of [`users_segment`] of `users`, known without writing it (the file's
/// header gives it before the segment is written).
pub(super) fn users_segment_len(users: &[PackedUser]) -> usize {
    let varint = |value: usize| (usize::BITS - value.max(1).leading_zeros()).div_ceil(7) as usize;
    varint(users.len())
        + users
            .iter()
            .map(|user| varint(user.bytes().len()) + user.bytes().len())
            .sum::<usize>()
}

/// The `count` users of a segment written by [`users_segment`], each in its own shared
/// allocation; they are read into a `User` only when used.
pub(super) fn read_users(bytes: &[u8], count: usize) -> Read<Vec<PackedUser>> {
    let mut input = In::inline(bytes);
    if input.len()? != count {
        return Err(bad("user count"));
    }
    let mut users = Vec::with_capacity(count);
    for _ in 0..count {
        let len = input.len()?;
        users.push(PackedUser::from_bytes(input.take(len)?));
    }
    input.end()?;
    Ok(users)
}

pub(super) fn user<'a>(out: &mut Out<'a>, user: &'a User) -> Result<(), CacheError> {
    let User {
        id,
        external_id,
        user_name,
        name,
        display_name,
        nick_name,
        profile_url,
        title,
        user_type,
        preferred_language,
        locale,
        timezone,
        active,
        password,
        emails,
        phone_numbers,
        ims,
        photos,
        addresses,
        groups,
        entitlements,
        roles,
        x509_certificates,
        enterprise,
        shop,
        meta: user_meta,
        extra,
        unread,
    } = user;
    out.opt_str(id.as_deref());
    out.opt_str(external_id.as_deref());
    out.str(user_name);
    out.opt(name.as_ref(), self::name)?;
    for text in [
        display_name,
        nick_name,
        profile_url,
        title,
        user_type,
        preferred_language,
        locale,
        timezone,
    ] {
        out.opt_str(text.as_deref());
    }
    out.opt_bool(*active);
    out.opt_str(password.as_ref().map(Password::expose));
    for values in [emails, phone_numbers, ims, photos] {
        out.list(values, multi_value)?;
    }
    out.list(addresses, address)?;
    for values in [groups, entitlements, roles, x509_certificates] {
        out.list(values, multi_value)?;
    }
    out.opt(enterprise.as_ref(), self::enterprise)?;
    out.opt(shop.as_ref(), self::shop)?;
    out.opt(user_meta.as_ref(), |out, m| {
        meta(out, m);
        Ok(())
    })?;
    out.list(unread, |out, unread| {
        out.str(&unread.attribute);
        out.str(&unread.reason);
        out.str(&unread.raw);
        Ok(())
    })?;
    // Last: its length is bounded by what is left of the user.
    out.extra(extra)
}

/// Decodes a user into `slot`, field by field (a `User` is large: building one
/// aside and moving it in would copy it again).
pub(super) fn read_user(input: &mut In<'_>, slot: &mut User) -> Read<()> {
    let User {
        id,
        external_id,
        user_name,
        name,
        display_name,
        nick_name,
        profile_url,
        title,
        user_type,
        preferred_language,
        locale,
        timezone,
        active,
        password,
        emails,
        phone_numbers,
        ims,
        photos,
        addresses,
        groups,
        entitlements,
        roles,
        x509_certificates,
        enterprise,
        shop,
        meta,
        extra,
        unread,
    } = slot;
    *id = input.opt_string()?;
    *external_id = input.opt_string()?;
    *user_name = input.string()?;
    *name = input.opt(read_name)?;
    for text in [
        display_name,
        nick_name,
        profile_url,
        title,
        user_type,
        preferred_language,
        locale,
        timezone,
    ] {
        *text = input.opt_string()?;
    }
    *active = input.opt_bool()?;
    *password = input.opt_string()?.map(Password::new);
    for values in [emails, phone_numbers, ims, photos] {
        *values = input.list(read_multi_value)?;
    }
    *addresses = input.list(read_address)?;
    for values in [groups, entitlements, roles, x509_certificates] {
        *values = input.list(read_multi_value)?;
    }
    *enterprise = input.opt(read_enterprise)?;
    *shop = input.opt(read_shop)?;
    *meta = input.opt(|input| read_meta(input))?;
    *unread = input.list(|input| {
        Ok(Unread {
            attribute: input.string()?,
            reason: input.string()?,
            raw: input.string()?,
        })
    })?;
    *extra = input.extra()?;
    Ok(())
}

pub(super) fn name<'a>(out: &mut Out<'a>, name: &'a Name) -> Result<(), CacheError> {
    let Name {
        formatted,
        family_name,
        given_name,
        middle_name,
        honorific_prefix,
        honorific_suffix,
        extra,
    } = name;
    for text in [
        formatted,
        family_name,
        given_name,
        middle_name,
        honorific_prefix,
        honorific_suffix,
    ] {
        out.opt_str(text.as_deref());
    }
    out.extra(extra)
}

pub(super) fn read_name(input: &mut In<'_>) -> Read<Name> {
    Ok(Name {
        formatted: input.opt_string()?,
        family_name: input.opt_string()?,
        given_name: input.opt_string()?,
        middle_name: input.opt_string()?,
        honorific_prefix: input.opt_string()?,
        honorific_suffix: input.opt_string()?,
        extra: input.extra()?,
    })
}

pub(super) fn multi_value<'a>(out: &mut Out<'a>, value: &'a MultiValue) -> Result<(), CacheError> {
    let MultiValue {
        value,
        display,
        kind,
        primary,
        reference,
        extra,
    } = value;
    out.opt_str(value.as_deref());
    out.opt_str(display.as_deref());
    out.opt_str(kind.as_deref());
    out.opt_bool(*primary);
    out.opt_str(reference.as_deref());
    out.extra(extra)
}

pub(super) fn read_multi_value(input: &mut In<'_>) -> Read<MultiValue> {
    Ok(MultiValue {
        value: input.opt_string()?,
        display: input.opt_string()?,
        kind: input.opt_string()?,
        primary: input.opt_bool()?,
        reference: input.opt_string()?,
        extra: input.extra()?,
    })
}

pub(super) fn address<'a>(out: &mut Out<'a>, address: &'a Address) -> Result<(), CacheError> {
    let Address {
        formatted,
        street_address,
        locality,
        region,
        postal_code,
        country,
        kind,
        primary,
        extra,
    } = address;
    for text in [
        formatted,
        street_address,
        locality,
        region,
        postal_code,
        country,
        kind,
    ] {
        out.opt_str(text.as_deref());
    }
    out.opt_bool(*primary);
    out.extra(extra)
}

pub(super) fn read_address(input: &mut In<'_>) -> Read<Address> {
    Ok(Address {
        formatted: input.opt_string()?,
        street_address: input.opt_string()?,
        locality: input.opt_string()?,
        region: input.opt_string()?,
        postal_code: input.opt_string()?,
        country: input.opt_string()?,
        kind: input.opt_string()?,
        primary: input.opt_bool()?,
        extra: input.extra()?,
    })
}

pub(super) fn enterprise<'a>(
    out: &mut Out<'a>,
    enterprise: &'a EnterpriseUser,
) -> Result<(), CacheError> {
    let EnterpriseUser {
        employee_number,
        cost_center,
        organization,
        division,
        department,
        manager,
        extra,
    } = enterprise;
    for text in [
        employee_number,
        cost_center,
        organization,
        division,
        department,
    ] {
        out.opt_str(text.as_deref());
    }
    out.opt(manager.as_ref(), |out, manager| {
        let Manager {
            value,
            reference,
            display_name,
        } = manager;
        out.opt_str(value.as_deref());
        out.opt_str(reference.as_deref());
        out.opt_str(display_name.as_deref());
        Ok(())
    })?;
    out.extra(extra)
}

pub(super) fn read_enterprise(input: &mut In<'_>) -> Read<EnterpriseUser> {
    Ok(EnterpriseUser {
        employee_number: input.opt_string()?,
        cost_center: input.opt_string()?,
        organization: input.opt_string()?,
        division: input.opt_string()?,
        department: input.opt_string()?,
        manager: input.opt(|input| {
            Ok(Manager {
                value: input.opt_string()?,
                reference: input.opt_string()?,
                display_name: input.opt_string()?,
            })
        })?,
        extra: input.extra()?,
    })
}

pub(super) fn shop<'a>(out: &mut Out<'a>, shop: &'a ShopUser) -> Result<(), CacheError> {
    let ShopUser {
        licence,
        role,
        security_group,
        service_groups,
        zones,
        home_branch,
        branches,
        job_role,
        phone,
        permissions,
        status,
        invitation,
        last_sign_in,
        mfa_enabled,
        active_sessions,
        extra,
    } = shop;
    out.opt_str(licence.as_ref().map(Licence::as_str));
    out.opt_str(role.as_ref().map(Role::as_str));
    out.opt_str(security_group.as_deref());
    out.strings(service_groups);
    out.strings(zones);
    out.opt_str(home_branch.as_deref());
    out.strings(branches);
    out.opt_str(job_role.as_deref());
    out.opt_str(phone.as_deref());
    out.strings(permissions);
    out.opt_str(status.as_ref().map(UserStatus::as_str));
    out.opt(invitation.as_ref(), |out, invitation| {
        let Invitation {
            sent_at,
            expires_at,
            state,
        } = invitation;
        out.opt_time(*sent_at);
        out.opt_time(*expires_at);
        out.opt_str(state.as_ref().map(InvitationState::as_str));
        Ok(())
    })?;
    out.opt(last_sign_in.as_ref(), |out, last| {
        let LastSignIn { at, method } = last;
        out.opt_time(*at);
        out.opt_str(method.as_ref().map(SignInMethod::as_str));
        Ok(())
    })?;
    out.opt_bool(*mfa_enabled);
    match active_sessions {
        None => out.byte(0),
        Some(sessions) => {
            out.byte(1);
            out.varint(u64::from(*sessions));
        }
    }
    out.extra(extra)
}

pub(super) fn read_shop(input: &mut In<'_>) -> Read<ShopUser> {
    Ok(ShopUser {
        licence: input.opt_str()?.map(Licence::parse),
        role: input.opt_str()?.map(Role::parse),
        security_group: input.opt_string()?,
        service_groups: input.strings()?,
        zones: input.strings()?,
        home_branch: input.opt_string()?,
        branches: input.strings()?,
        job_role: input.opt_string()?,
        phone: input.opt_string()?,
        permissions: input.strings()?,
        status: input.opt_str()?.map(UserStatus::parse),
        invitation: input.opt(|input| {
            Ok(Invitation {
                sent_at: input.opt_time()?,
                expires_at: input.opt_time()?,
                state: input.opt_str()?.map(InvitationState::parse),
            })
        })?,
        last_sign_in: input.opt(|input| {
            Ok(LastSignIn {
                at: input.opt_time()?,
                method: input.opt_str()?.map(SignInMethod::parse),
            })
        })?,
        mfa_enabled: input.opt_bool()?,
        active_sessions: input
            .opt(|input| u32::try_from(input.varint()?).map_err(|_| bad("session count")))?,
        extra: input.extra()?,
    })
}

pub(super) fn meta<'a>(out: &mut Out<'a>, meta: &'a Meta) {
    let Meta {
        resource_type,
        created,
        last_modified,
        location,
        version,
    } = meta;
    out.opt_str(resource_type.as_deref());
    out.opt_time(*created);
    out.opt_time(*last_modified);
    out.opt_str(location.as_deref());
    out.opt_str(version.as_deref());
}

pub(super) fn read_meta(input: &mut In<'_>) -> Read<Meta> {
    Ok(Meta {
        resource_type: input.opt_string()?,
        created: input.opt_time()?,
        last_modified: input.opt_time()?,
        location: input.opt_string()?,
        version: input.opt_string()?,
    })
}

pub(super) fn group<'a>(out: &mut Out<'a>, group: &'a Group) -> Result<(), CacheError> {
    let Group {
        id,
        external_id,
        display_name,
        members,
        meta: group_meta,
        extra,
    } = group;
    out.opt_str(id.as_deref());
    out.opt_str(external_id.as_deref());
    out.str(display_name);
    out.list(members, |out, member| {
        let Member {
            value,
            reference,
            kind,
            display,
            extra,
        } = member;
        out.opt_str(value.as_deref());
        out.opt_str(reference.as_deref());
        out.opt_str(kind.as_ref().map(MemberType::as_str));
        out.opt_str(display.as_deref());
        out.extra(extra)
    })?;
    out.opt(group_meta.as_ref(), |out, m| {
        meta(out, m);
        Ok(())
    })?;
    out.extra(extra)
}

pub(super) fn read_group(input: &mut In<'_>) -> Read<Group> {
    Ok(Group {
        id: input.opt_string()?,
        external_id: input.opt_string()?,
        display_name: input.string()?,
        members: input.list(|input| {
            Ok(Member {
                value: input.opt_string()?,
                reference: input.opt_string()?,
                kind: input.opt_str()?.map(MemberType::parse),
                display: input.opt_string()?,
                extra: input.extra()?,
            })
        })?,
        meta: input.opt(|input| read_meta(input))?,
        extra: input.extra()?,
    })
}
