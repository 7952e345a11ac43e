#![allow(clippy::unwrap_used)]
use super::*;

fn report(target: &str, outcome: Outcome) -> Report {
    Report {
        target: target.to_owned(),
        user_id: Some(target.to_owned()),
        name: target.to_owned(),
        outcome,
    }
}

#[test]
fn retry_takes_the_failed_and_optionally_the_unreached() {
    let job = Job::new(Operation::Suspend, Targets::Ids(vec!["a".into()]));
    let failed = Outcome::Failed {
        code: Code::Conflict,
        message: "no".into(),
    };
    let summary = Summary {
        reports: vec![
            report(
                "a",
                Outcome::Skipped {
                    reason: "x".into(),
                    already_done: true,
                },
            ),
            report("b", failed.clone()),
            report("c", Outcome::NotRun),
        ],
        done: 0,
        skipped: 1,
        failed: 1,
        not_run: 1,
        cancelled: true,
        stopped: None,
        used_bulk: false,
        elapsed: Duration::ZERO,
    };
    assert_eq!(
        summary.retry(&job, false).unwrap().targets,
        Targets::Ids(vec!["b".into()])
    );
    assert_eq!(
        summary.retry(&job, true).unwrap().targets,
        Targets::Ids(vec!["b".into(), "c".into()])
    );
    let clean = Summary {
        reports: vec![report("a", Outcome::NotRun)],
        ..summary
    };
    assert!(clean.retry(&job, false).is_none(), "nothing failed");
}

#[test]
fn jobs_that_make_no_sense_are_refused_before_sending() {
    let job = Job::new(Operation::Suspend, Targets::New(vec![User::new("a")]));
    assert!(matches!(job.validate(), Err(Error::Validation { .. })));
    let job = Job::new(
        Operation::SetLicence(Licence::parse("gold")),
        Targets::Ids(vec!["a".into()]),
    );
    assert!(matches!(job.validate(), Err(Error::Validation { .. })));
    let job = Job::new(
        Operation::Invite { send_welcome: true },
        Targets::New(vec![User::new("a@x.test"), User::new("A@x.test")]),
    );
    assert!(
        job.items(&Context::default()).is_err(),
        "the same userName twice is refused"
    );
}

#[test]
fn ids_are_deduplicated_and_matched_to_records() {
    let mut known = User::new("k@x.test");
    known.id = Some("k".into());
    let users = [known];
    let job = Job::new(
        Operation::Suspend,
        Targets::Ids(vec!["k".into(), " k ".into(), "n".into(), String::new()]),
    );
    let items = job
        .items(&Context {
            users: &users.map(PackedUser::from),
            ..Context::default()
        })
        .unwrap();
    assert_eq!(items.len(), 2);
    assert!(items[0].record.is_some() && items[1].record.is_none());
    assert_eq!(items[1].index, 1, "indices follow the deduplicated order");
}
