//! CSV in the real app, through the native file dialogs a person uses (answered with
//! xdotool, since they are GTK windows outside the webview): the export of a filtered view
//! holds exactly that view's users, and an import of a file with bad rows shows every
//! problem before anything is sent, then invites only the good rows.

use muster_e2e::{App, PASSWORD, Server, answer_file_dialog, fresh_dir, wait_for_file};

const ORG: &str = "e2e-csv";
const DOMAIN: &str = "e2e-csv.test";
/// The technicians the table shows by default: deactivated people are left out of it.
const TECHNICIANS: &str = "urn:muster:params:scim:schemas:extension:shop:2.0:User:role eq \
                           \"technician\" and urn:muster:params:scim:schemas:extension:shop:2.0:User:status \
                           ne \"deactivated\"";

async fn signed_in(server: &Server) -> App {
    let app = App::launch().await;
    app.connect_and_sign_in(
        "Csv",
        &server.url,
        ORG,
        &format!("admin@{DOMAIN}"),
        PASSWORD,
    )
    .await;
    app.wait_text("user-count", |t| t.contains("120")).await;
    app
}

/// The first number in a text such as "57 of 121 users".
fn first_number(text: &str) -> usize {
    let digits: String = text
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no count in {text:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_holds_exactly_the_filtered_view_and_import_sends_only_good_rows() {
    let mut server = Server::start(ORG, 120).await;
    let app = signed_in(&server).await;
    let dir = fresh_dir("csv");

    // --- export: the technicians, as the table shows them -----------------------------
    app.click("chip-role-technician").await;
    let shown = app.wait_text("user-count", |t| t.contains(" of ")).await;
    let count = first_number(&shown);
    assert!(count > 0, "{shown}");
    app.click("users-export").await;
    let file = dir.join("technicians.csv");
    answer_file_dialog(&file).await;
    let text = wait_for_file(&file).await;
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let email_at = header
        .iter()
        .position(|h| h.eq_ignore_ascii_case("email"))
        .unwrap_or_else(|| panic!("no email column in {header:?}"));
    let mut exported: Vec<String> = lines
        .map(|l| l.split(',').nth(email_at).unwrap_or_default().to_owned())
        .collect();
    exported.sort();
    assert_eq!(exported.len(), count, "one row per user in the view");
    assert_eq!(
        exported,
        server.emails_matching(ORG, TECHNICIANS).await,
        "the same people the server calls technicians"
    );
    app.screenshot("csv-01-exported").await;
    app.click("chip-role-technician").await;

    // --- import: a file with bad rows ---------------------------------------------------
    let good = [format!("gail.good@{DOMAIN}"), format!("gus.good@{DOMAIN}")];
    let people = dir.join("people.csv");
    std::fs::write(
        &people,
        format!(
            "E-mail,First name,Surname,Licence\n\
             {},Gail,Good,field\n\
             {},Gus,Good,desk\n\
             not-an-email,Bad,Email,field\n\
             dee.dup@{DOMAIN},Dee,Dup,field\n\
             dee.dup@{DOMAIN},Dee,Again,field\n\
             admin@{DOMAIN},Already,There,desk\n\
             gold.licence@{DOMAIN},Goldie,Licence,gold\n",
            good[0], good[1]
        ),
    )
    .expect("writing the file");
    app.click("users-import").await;
    app.click("import-pick").await;
    answer_file_dialog(&people).await;
    app.find("import-mapping").await;
    app.click("import-check").await;
    app.find("import-preview").await;
    assert_eq!(app.text("import-ready-count").await, "2");
    let mut kinds = Vec::new();
    for problem in app
        .client
        .find_all(fantoccini::Locator::Css("[data-testid=\"import-problem\"]"))
        .await
        .expect("the problems")
    {
        kinds.push(
            problem
                .attr("data-kind")
                .await
                .expect("attr")
                .unwrap_or_default(),
        );
    }
    for kind in ["badEmail", "duplicate", "exists", "unknown"] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{kind} not shown: {kinds:?}"
        );
    }
    app.screenshot("csv-02-preview").await;
    assert!(
        server
            .emails_matching(ORG, &format!("userName eq \"{}\"", good[0]))
            .await
            .is_empty(),
        "nothing is sent before the admin says so"
    );

    app.click("import-run").await;
    app.find("import-summary").await;
    app.screenshot("csv-03-imported").await;
    for email in &good {
        assert_eq!(
            server
                .emails_matching(ORG, &format!("userName eq \"{email}\""))
                .await,
            vec![email.clone()],
            "{email} was invited"
        );
        assert!(server.link_sent_to(email).await.contains("http"));
    }
    for email in [
        format!("dee.dup@{DOMAIN}"),
        format!("gold.licence@{DOMAIN}"),
    ] {
        assert!(
            server
                .emails_matching(ORG, &format!("userName eq \"{email}\""))
                .await
                .is_empty(),
            "{email} had a problem and was not sent"
        );
    }

    app.close().await;
    server.stop().await;
}
