//! The web pages in a real browser: the real binary on the embedded default, headless
//! Chromium driven over WebDriver (`chromedriver`, Debian's `chromium-driver`). Signs in with
//! a login link, finds an overdue complaint on the deadline board, is refused an
//! acknowledgement dated before receipt (the rule in words), acknowledges it through the
//! form and sees the timeline gain the event, records a progress contact through its form
//! and sees it on the timeline, is refused an escalation before any response (the rule in
//! words), records a death and sees the flag it raises, filters the case list by channel, opens the annual report and downloads its CSV,
//! opens the national return (KO41) with its tables and downloads its CSV, reads the audit
//! page and verifies the case against the audit chain, signs out and signs in again through
//! an OpenID Connect provider running in the test (on another site, `localhost`, so the
//! flow cookie crosses sites as it would in service), and a caseworker of another
//! organisation gets 404 for the case. Then a joint complaint: a legal hold placed shows on
//! the case, joint handling dated before receipt is refused at its field, a body is added,
//! its part requested and an ombudsman's decision recorded; the body taking part follows
//! its deadline board to the lead's case and is offered the provide-part form only, sees no
//! one's name until consent to share is recorded, and supplies its part; the national
//! return is marked submitted and shows as submitted.
//! axe-core (vendored in `tests/vendor/`) runs on every page: no serious or critical
//! violation. `UPDATE_SCREENSHOTS=1` writes a screenshot of each page to `docs/screenshots/`.
//!
//! Skips (saying why) when chromedriver is missing; fails instead when `CI` is set.
//!
//! Long because one browser and one service walk every page in order (starting Chromium
//! and the binary is the slow part); each stretch of the walk is its own function.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Datelike;
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const AXE: &str = include_str!("vendor/axe.min.js");

/// Children killed when the test ends, however it ends.
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn chromedriver() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
    path.exists().then_some(path)
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

fn run(binary: &str, data: &Path, args: &[&str]) -> String {
    let out = Command::new(binary)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("NATS_URL")
        .env("COMPLAINTS_DATA_DIR", data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

async fn wait_for_http(url: &str, what: &str) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while client
        .get(url)
        .send()
        .await
        .map(|r| !r.status().is_success())
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "{what} did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs axe-core on the page and fails on any serious or critical violation; returns how
/// many rules passed and how many violations of lesser impact were found.
async fn axe(c: &Client, page: &str) -> (u64, u64) {
    c.execute(AXE, vec![]).await.unwrap();
    let result = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document).then(r => done({
                   passes: r.passes.length,
                   minor: r.violations.filter(v => v.impact !== 'serious' && v.impact !== 'critical').length,
                   bad: r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                        .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' +
                             v.nodes.map(n => n.target.join(' ')).join(', '))
               })).catch(e => done({error: String(e)}));"#,
            vec![],
        )
        .await
        .unwrap();
    assert!(
        result.get("error").is_none(),
        "axe failed on {page}: {result}"
    );
    let bad = result["bad"].as_array().unwrap();
    assert!(bad.is_empty(), "axe on {page}: {bad:#?}");
    let passes = result["passes"].as_u64().unwrap();
    let minor = result["minor"].as_u64().unwrap();
    eprintln!(
        "axe on {page}: {passes} rules passed, 0 serious or critical, {minor} minor or moderate"
    );
    (passes, minor)
}

async fn screenshot(c: &Client, name: &str) {
    if std::env::var("UPDATE_SCREENSHOTS").as_deref() != Ok("1") {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = c.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// What `fetch` of `url` from the page answers (the session cookie goes along).
async fn fetch(c: &Client, url: &str) -> (u64, String) {
    let result = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               fetch(arguments[0]).then(r => r.text().then(t => done([r.status, t])))
                 .catch(e => done([0, String(e)]));"#,
            vec![serde_json::json!(url)],
        )
        .await
        .unwrap();
    (
        result[0].as_u64().unwrap(),
        result[1].as_str().unwrap().to_string(),
    )
}

async fn sign_in(c: &Client, link: &str) {
    c.goto(link).await.unwrap();
    c.find(Locator::Id("sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css(
            "a.govuk-service-navigation__link[aria-current]",
        ))
        .await
        .unwrap();
}

async fn text(c: &Client) -> String {
    // A page still loading can replace `main` between finding it and reading it: read again.
    for _ in 0..50 {
        if let Ok(main) = c.find(Locator::Css("main")).await {
            if let Ok(text) = main.text().await {
                return text;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page's main element could not be read");
}

#[tokio::test]
async fn the_web_pages_work_in_a_real_browser_for_the_people_who_use_them() {
    let Some(driver_path) = chromedriver() else {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but chromedriver is missing: install chromium and chromium-driver");
        }
        eprintln!("skipped: no chromedriver (apt-get install chromium chromium-driver)");
        return;
    };
    let binary = env!("CARGO_BIN_EXE_complaints");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let issuer = provider::start().await;
    let mut processes = Processes(Vec::new());
    processes.0.push(
        Command::new(binary)
            .arg("serve")
            .env_remove("DATABASE_URL")
            .env_remove("NATS_URL")
            .env("COMPLAINTS_DATA_DIR", data)
            .env("COMPLAINTS_BIND", format!("127.0.0.1:{port}"))
            .env("COMPLAINTS_OIDC_CLIENT_ID", provider::CLIENT_ID)
            .env("COMPLAINTS_OIDC_ISSUER", &issuer)
            .env(
                "COMPLAINTS_OIDC_REDIRECT_URL",
                format!("{base}/ui/oidc/callback"),
            )
            .env("COMPLAINTS_OIDC_PROVIDER_NAME", "Test ID")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_http(&format!("{base}/readyz"), "the service").await;

    // Seed through the API: one complaint received three weeks ago and never acknowledged
    // (overdue), and a few more over the year for the chart.
    let token = run(
        binary,
        data,
        &[
            "token",
            "--org",
            "RAL",
            "--role",
            "frontline,caseworker",
            "--ttl",
            "3600",
        ],
    );
    let http = reqwest::Client::new();
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::London)
        .date_naive();
    let received = today - chrono::Duration::days(21);
    let mut overdue_id = String::new();
    let mut letter_id = String::new();
    for (i, days_ago) in [21i64, 40, 45, 70, 100].iter().enumerate() {
        let on = today - chrono::Duration::days(*days_ago);
        // One came by letter, for the channel filter.
        let channel = if i == 4 { "letter" } else { "email" };
        let created: serde_json::Value = http
            .post(format!("{base}/v1/complaints"))
            .bearer_auth(&token)
            .json(&serde_json::json!({
                "organisation_id": "RAL", "received_on": on.to_string(), "channel": channel,
                "subject_areas": ["communications"],
                "description": format!("Complaint {i} for the browser test."),
                "complainant": {"name": "Ann Example"}
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap().to_string();
        if i == 0 {
            overdue_id = id;
        } else if i == 4 {
            letter_id = id;
        }
    }
    let short = &overdue_id[..8];

    // The browser.
    let driver_port = free_port();
    processes.0.push(
        Command::new(&driver_path)
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_http(
        &format!("http://127.0.0.1:{driver_port}/status"),
        "chromedriver",
    )
    .await;
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium(),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", "--window-size=1280,1600"]
        }),
    );
    let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("connect to chromedriver");
    let seeded = Seeded {
        id: &overdue_id,
        short,
        received,
        letter_short: &letter_id[..8],
    };
    let outcome = scenario(&c, binary, data, &base, &seeded).await;
    let _ = c.close().await;
    drop(processes);
    outcome.unwrap();
}

type Checked = Result<(), Box<dyn std::error::Error>>;

/// What the test put in through the API.
struct Seeded<'a> {
    /// The overdue complaint, received by email.
    id: &'a str,
    short: &'a str,
    received: chrono::NaiveDate,
    /// The short id of the complaint received by letter.
    letter_short: &'a str,
}

async fn scenario(
    c: &Client,
    binary: &str,
    data: &Path,
    base: &str,
    seeded: &Seeded<'_>,
) -> Checked {
    let (id, short, received) = (seeded.id, seeded.short, seeded.received);
    let mut pages = 0;
    // Sign in with a one-time link.
    let link = run(
        binary,
        data,
        &[
            "login-link",
            "--org",
            "RAL",
            "--role",
            "caseworker,auditor,reporting",
            "--subject",
            "casey",
            "--ttl",
            "15m",
            "--base-url",
            base,
        ],
    );
    sign_in(c, &link).await;
    // The link works once.
    c.goto(&link).await?;
    c.find(Locator::Id("sign-in")).await?.click().await?;
    let again = text(c).await;
    assert!(again.contains("already been used"), "{again}");

    // The deadline board shows the overdue case once the read model has it.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        c.goto(&format!("{base}/ui")).await?;
        let board = text(c).await;
        if board.contains(short) {
            let overdue = c.find(Locator::Css("h2#overdue")).await?.text().await?;
            assert_ne!(overdue, "Overdue (0)", "{board}");
            let first = board.find(short).unwrap_or(usize::MAX);
            let today = board.find("Due today").unwrap_or(0);
            assert!(first < today, "{short} is not among the overdue: {board}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the board never showed {short}: {board}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    axe(c, "the deadline board").await;
    pages += 1;
    screenshot(c, "deadline-board").await;

    // Open the case from the board.
    c.find(Locator::Css(&format!("a[href='/ui/complaints/{id}']")))
        .await?
        .click()
        .await?;
    c.wait()
        .for_element(Locator::Id("form-acknowledgement"))
        .await?;
    let events_before = c
        .find_all(Locator::Css("#timeline-events > li"))
        .await?
        .len();
    assert_eq!(events_before, 1);
    axe(c, "the case page").await;
    pages += 1;
    screenshot(c, "case").await;

    // An acknowledgement dated before receipt is refused, in words.
    let before = received - chrono::Duration::days(3);
    set_value(c, "acknowledgement-acknowledged_on", &before.to_string()).await?;
    c.find(Locator::Id("acknowledgement-submit"))
        .await?
        .click()
        .await?;
    let refusal = c
        .wait()
        .for_element(Locator::Id("refusal"))
        .await?
        .text()
        .await?;
    assert!(
        refusal.contains("before the complaint was received"),
        "{refusal}"
    );
    axe(c, "the case page with a refusal").await;
    pages += 1;
    screenshot(c, "case-refused").await;

    // A proper one is recorded and the timeline gains the event.
    set_value(
        c,
        "acknowledgement-acknowledged_on",
        &(received + chrono::Duration::days(1)).to_string(),
    )
    .await?;
    c.find(Locator::Id("acknowledgement-submit"))
        .await?
        .click()
        .await?;
    c.wait().for_element(Locator::Id("done")).await?;
    let events = c.find_all(Locator::Css("#timeline-events > li")).await?;
    assert_eq!(events.len(), events_before + 1);
    let last = events.last().unwrap().text().await?;
    assert!(last.contains("Complaint acknowledged"), "{last}");
    assert!(last.contains("casey (caseworker)"), "{last}");
    axe(c, "the case page after acknowledging").await;
    pages += 1;

    // A progress contact recorded through its form reaches the timeline.
    c.find(Locator::Css("#details-progress-contact summary"))
        .await?
        .click()
        .await?;
    set_value(c, "progress-contact-method", "phone").await?;
    c.find(Locator::Id("progress-contact-summary"))
        .await?
        .send_keys("Called to say the notes have been requested.")
        .await?;
    c.find(Locator::Id("progress-contact-submit"))
        .await?
        .click()
        .await?;
    // The page before had a banner too: wait for this one.
    let done = wait_text(c, "#done", "progress contact was recorded").await?;
    assert!(done.contains("progress contact was recorded"), "{done}");
    let events = c.find_all(Locator::Css("#timeline-events > li")).await?;
    assert_eq!(events.len(), events_before + 2);
    let last = events.last().unwrap().text().await?;
    assert!(last.contains("Complainant contacted"), "{last}");

    // An escalation before any response is refused, with the rule's words at the form.
    c.find(Locator::Css("#details-escalation summary"))
        .await?
        .click()
        .await?;
    c.find(Locator::Id("escalation-reason"))
        .await?
        .send_keys("The complainant wants a review.")
        .await?;
    c.find(Locator::Id("escalation-submit"))
        .await?
        .click()
        .await?;
    let refusal = c
        .wait()
        .for_element(Locator::Id("refusal"))
        .await?
        .text()
        .await?;
    assert!(refusal.contains("no response to review"), "{refusal}");
    assert!(refusal.contains("no-response-to-escalate"), "{refusal}");
    let form = c.find(Locator::Id("form-escalation")).await?.text().await?;
    assert!(form.contains("no response to review"), "{form}");
    assert_eq!(
        c.find_all(Locator::Css("#timeline-events > li"))
            .await?
            .len(),
        events_before + 2
    );
    axe(c, "the case page with a refused escalation").await;
    pages += 1;
    c.execute(
        "document.getElementById('details-escalation').scrollIntoView();",
        vec![],
    )
    .await?;
    screenshot(c, "case-forms").await;

    // A death is recorded as a fact, and the answer's flag (R-FACT-1) is shown with it.
    c.find(Locator::Css("#details-death summary"))
        .await?
        .click()
        .await?;
    set_value(c, "death-person", "complainant").await?;
    c.find(Locator::Id("death-submit")).await?.click().await?;
    let done = wait_text(c, "#done", "death was recorded").await?;
    assert!(done.contains("death was recorded"), "{done}");
    let flags = c.find(Locator::Id("done-warnings")).await?.text().await?;
    assert!(flags.contains("The complainant died on"), "{flags}");
    assert_eq!(
        c.find_all(Locator::Css("#timeline-events > li"))
            .await?
            .len(),
        events_before + 3
    );

    // Time travel: as it stood today it has both events; the day before, it was not there.
    c.goto(&format!(
        "{base}/ui/complaints/{id}?as_of={}",
        chrono::Utc::now().date_naive()
    ))
    .await?;
    assert_eq!(
        c.find_all(Locator::Css("#timeline-events > li"))
            .await?
            .len(),
        4
    );
    let yesterday = chrono::Utc::now().date_naive() - chrono::Duration::days(1);
    c.goto(&format!("{base}/ui/complaints/{id}?as_of={yesterday}"))
        .await?;
    let before_it = text(c).await;
    assert!(before_it.contains("had not been received"), "{before_it}");

    // The case list, filtered, and its CSV.
    c.goto(&format!("{base}/ui/complaints?status=investigating"))
        .await?;
    let list = text(c).await;
    assert!(list.contains(short), "{list}");
    axe(c, "the case list").await;
    pages += 1;
    screenshot(c, "case-list").await;
    let (status, csv) = fetch(c, "/ui/complaints.csv?status=investigating").await;
    assert_eq!(status, 200);
    assert!(
        csv.starts_with("complaint_id,organisation_id,status"),
        "{csv}"
    );
    assert!(csv.contains(id), "{csv}");
    assert_eq!(csv.lines().count(), 2, "{csv}");

    // Filtered by channel: the complaint that came by letter, not the emailed ones.
    c.goto(&format!("{base}/ui/complaints")).await?;
    set_value(c, "channel", "letter").await?;
    c.find(Locator::Id("filter")).await?.click().await?;
    c.wait()
        .for_element(Locator::Css("#channel option[value='letter'][selected]"))
        .await?;
    let by_letter = text(c).await;
    assert!(by_letter.contains(seeded.letter_short), "{by_letter}");
    assert!(!by_letter.contains(short), "{by_letter}");
    assert_eq!(
        c.find_all(Locator::Css("#case-list tbody tr")).await?.len(),
        1,
        "{by_letter}"
    );
    axe(c, "the case list filtered by channel").await;
    pages += 1;
    // Stage and kind of case filter the same read model, and the CSV follows the filter.
    let (status, csv) = fetch(
        c,
        "/ui/complaints.csv?kind=complaint&stage=1&channel=letter",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(csv.lines().count(), 2, "{csv}");
    // Kind, then the caseworker assigned (none yet).
    assert!(csv.trim_end().ends_with(",complaint,"), "{csv}");
    for empty in ["kind=enquiry", "kind=about_organisation", "stage=2"] {
        let (_, csv) = fetch(c, &format!("/ui/complaints.csv?{empty}")).await;
        assert_eq!(csv.lines().count(), 1, "{empty}: {csv}");
    }
    let (status, refused) = fetch(c, "/ui/complaints?stage=3").await;
    assert_eq!(status, 400, "{refused}");

    // The annual report with its chart and downloads.
    c.goto(&format!("{base}/ui/reports")).await?;
    c.find(Locator::Css("svg.app-chart")).await?;
    let report = text(c).await;
    assert!(report.contains("Complaints received per month"), "{report}");
    // The on-time shares and subjects, drawn and written out.
    let on_time = c.find(Locator::Css("#on-time-table")).await?.text().await?;
    assert!(
        on_time.contains("Acknowledged within 3 working days")
            && on_time.contains("Responded within the agreed period"),
        "{on_time}"
    );
    assert!(report.contains("Complaints per subject area"), "{report}");
    axe(c, "the reports page").await;
    pages += 1;
    screenshot(c, "reports").await;
    let href = c
        .find(Locator::Css("#downloads a[href*='what=annual-csv']"))
        .await?
        .attr("href")
        .await?
        .unwrap();
    let (status, csv) = fetch(c, &href).await;
    assert_eq!(status, 200);
    assert!(csv.starts_with("section,item,count"), "{csv}");

    // The national return of the year the complaints were received in, once the reporting
    // read model has them: a table per section, the note, the submission, the downloads.
    c.find(Locator::Id("national-return-link"))
        .await?
        .click()
        .await?;
    c.wait().for_element(Locator::Id("return-summary")).await?;
    let year = if received.month() >= 4 {
        received.year()
    } else {
        received.year() - 1
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        c.goto(&format!(
            "{base}/ui/reports/written-complaints?organisation=RAL&year={year}"
        ))
        .await?;
        if !c
            .find_all(Locator::Css("table.app-return-table"))
            .await?
            .is_empty()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the national return never showed a table: {}",
            text(c).await
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let national = text(c).await;
    assert!(national.contains("Section 2"), "{national}");
    assert!(national.contains("Reconciliation note"), "{national}");
    assert!(national.contains("Not submitted"), "{national}");
    axe(c, "the national return").await;
    pages += 1;
    screenshot(c, "national-return").await;
    let href = c
        .find(Locator::Css(
            "#return-downloads a[href*='what=written-complaints-csv']",
        ))
        .await?
        .attr("href")
        .await?
        .unwrap();
    let (status, csv) = fetch(c, &href).await;
    assert_eq!(status, 200);
    assert!(csv.starts_with("collection,organisation,site"), "{csv}");
    assert!(c
        .find(Locator::Css(
            "#return-downloads a[href*='what=written-complaints-json']"
        ))
        .await
        .is_ok());

    // The audit page: the signed head and who read the case.
    c.goto(&format!("{base}/ui/audit?complaint_id={id}"))
        .await?;
    let audit = text(c).await;
    assert!(audit.contains("Chain index"), "{audit}");
    let reads = c.find_all(Locator::Css("#access-log tbody tr")).await?;
    assert!(reads.len() >= 2, "{audit}");
    assert!(audit.contains("casey (caseworker)"), "{audit}");
    axe(c, "the audit page").await;
    pages += 1;
    screenshot(c, "audit").await;

    // Verify the case against the audit chain.
    c.find(Locator::Id("verify-case")).await?.click().await?;
    let verified = c
        .wait()
        .for_element(Locator::Id("verify-result"))
        .await?
        .text()
        .await?;
    assert!(verified.contains("Intact"), "{verified}");
    assert!(verified.contains("match the audit chain"), "{verified}");
    assert_eq!(
        c.find_all(Locator::Css("#verify-events tbody tr"))
            .await?
            .len(),
        4
    );
    axe(c, "the case verified against the audit chain").await;
    pages += 1;
    screenshot(c, "verify").await;

    // The complaint received by letter, still unacknowledged, assigned to casey through its
    // form, is on casey's "My deadlines" (the acknowledged one has nothing due this week).
    let letter_short = seeded.letter_short;
    c.goto(&format!("{base}/ui/deadlines")).await?;
    c.find(Locator::Css(&format!(
        "a[href^='/ui/complaints/{letter_short}']"
    )))
    .await?
    .click()
    .await?;
    c.wait().for_element(Locator::Id("form-assignment")).await?;
    let assigned_on = received.to_string();
    record(
        c,
        "assignment",
        &[("assigned_on", &assigned_on), ("caseworker", "casey")],
        "assignment was recorded",
    )
    .await?;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        c.goto(&format!("{base}/ui/deadlines")).await?;
        c.find(Locator::Id("my-deadlines")).await?.click().await?;
        let mine = wait_text(c, "main", "Showing your deadlines").await?;
        if mine.contains(letter_short) {
            assert!(mine.contains("casey") && !mine.contains(short), "{mine}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "My deadlines never showed {letter_short}: {mine}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    axe(c, "my deadlines").await;
    pages += 1;

    // Sign out; the old session is refused.
    c.find(Locator::Css("form[action='/ui/logout'] button"))
        .await?
        .click()
        .await?;
    c.goto(&format!("{base}/ui")).await?;
    let signed_out = text(c).await;
    assert!(signed_out.contains("sign in"), "{signed_out}");
    axe(c, "the sign-in page").await;
    pages += 1;

    // Sign in again through the identity provider: the sign-in page offers it, the provider
    // approves, and the board greets the person its ID token names.
    c.find(Locator::Id("go-sign-in")).await?.click().await?;
    c.find(Locator::Id("sign-in-oidc")).await?.click().await?;
    c.wait()
        .for_element(Locator::Css(
            "a.govuk-service-navigation__link[aria-current]",
        ))
        .await?;
    let greeted = c.find(Locator::Css(".app-user")).await?.text().await?;
    assert!(
        greeted.contains("Signed in as oidc.casey (caseworker) for RAL."),
        "{greeted}"
    );

    // A caseworker of another organisation sees nothing of it.
    let other = run(
        binary,
        data,
        &[
            "login-link",
            "--org",
            "RJ1",
            "--role",
            "caseworker",
            "--subject",
            "other",
            "--base-url",
            base,
        ],
    );
    sign_in(c, &other).await;
    c.goto(&format!("{base}/ui/complaints/{id}")).await?;
    let hidden = text(c).await;
    assert!(hidden.contains("Page not found"), "{hidden}");
    let (status, _) = fetch(c, &format!("/ui/complaints/{id}")).await;
    assert_eq!(status, 404);
    c.goto(&format!("{base}/ui")).await?;
    assert!(!text(c).await.contains(short));
    axe(c, "another organisation's board").await;
    pages += 1;
    pages += joint_complaint(c, binary, data, base, received).await?;
    eprintln!("{pages} pages checked with axe-core");
    Ok(())
}

/// Signs in for `org` with `roles` as `subject`.
async fn sign_in_as(c: &Client, binary: &str, data: &Path, base: &str, org: &str, roles: &str) {
    let subject = if org == "RAL" { "casey" } else { "parker" };
    let link = run(
        binary,
        data,
        &[
            "login-link",
            "--org",
            org,
            "--role",
            roles,
            "--subject",
            subject,
            "--base-url",
            base,
        ],
    );
    sign_in(c, &link).await;
}

/// Opens the form `command` on the case page, fills `fields` (id suffix, value) and sends
/// it; returns the success banner's text once it names `done`.
async fn record(
    c: &Client,
    command: &str,
    fields: &[(&str, &str)],
    done: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    c.find(Locator::Css(&format!("#details-{command} summary")))
        .await?
        .click()
        .await?;
    fill(c, command, fields).await?;
    c.find(Locator::Id(&format!("{command}-submit")))
        .await?
        .click()
        .await?;
    let shown = wait_text(c, "#done", done).await?;
    assert!(
        shown.contains(done),
        "{command}: {shown}\n{}",
        text(c).await
    );
    Ok(shown)
}

async fn fill(c: &Client, command: &str, fields: &[(&str, &str)]) -> Checked {
    for (field, value) in fields {
        let id = format!("{command}-{field}");
        // A choice of several boxes is ticked by its value; anything else is set.
        let mut tick = None;
        for found in c
            .find_all(Locator::Css(&format!(
                "#form-{command} input[type='checkbox'][id^='{id}']"
            )))
            .await?
        {
            if found.attr("value").await?.as_deref() == Some(*value) {
                tick = Some(found);
            }
        }
        match tick {
            Some(tick) if !tick.is_selected().await? => tick.click().await?,
            Some(_) => {}
            None => set_value(c, &id, value).await?,
        }
    }
    Ok(())
}

/// A joint complaint led by RAL with RJ1 taking part, a legal hold and an ombudsman's
/// decision, then the national return marked submitted; returns the pages axe checked.
async fn joint_complaint(
    c: &Client,
    binary: &str,
    data: &Path,
    base: &str,
    received: chrono::NaiveDate,
) -> Result<usize, Box<dyn std::error::Error>> {
    let mut pages = 0;
    let token = run(
        binary,
        data,
        &[
            "token",
            "--org",
            "RAL",
            "--role",
            "frontline",
            "--ttl",
            "600",
        ],
    );
    let created: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/v1/complaints"))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "organisation_id": "RAL", "received_on": received.to_string(), "channel": "email",
            "subject_areas": ["communications"],
            "description": "The ambulance and the ward both lost my notes.",
            "complainant": {"name": "Jo Jointly"}
        }))
        .send()
        .await?
        .json()
        .await?;
    let joint = created["id"].as_str().unwrap().to_string();
    let case_url = format!("{base}/ui/complaints/{joint}");
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::London)
        .date_naive();

    sign_in_as(c, binary, data, base, "RAL", "caseworker,reporting").await;
    c.goto(&case_url).await?;
    // A legal hold placed shows on the case, and the form to lift it takes its place.
    record(
        c,
        "legal-hold",
        &[("ground", "litigation"), ("note", "Claim 2026/17")],
        "legal hold was recorded",
    )
    .await?;
    let facts = text(c).await;
    assert!(
        facts.contains("Legal hold") && facts.contains("(Litigation)"),
        "{facts}"
    );
    assert!(c.find(Locator::Id("form-legal-hold-release")).await.is_ok());
    assert!(c.find_all(Locator::Id("form-legal-hold")).await?.is_empty());

    // Joint handling agreed before receipt is refused, in the rule's words at the field.
    c.find(Locator::Css("#details-participants summary"))
        .await?
        .click()
        .await?;
    fill(
        c,
        "participants",
        &[
            ("organisation_id", "RJ1"),
            (
                "agreed_on",
                &(received - chrono::Duration::days(2)).to_string(),
            ),
            ("agreed_by", "lead-manager"),
            ("reason", "The ambulance service's handover of the notes."),
        ],
    )
    .await?;
    c.find(Locator::Id("participants-submit"))
        .await?
        .click()
        .await?;
    let at_field = c
        .wait()
        .for_element(Locator::Id("participants-agreed_on-error"))
        .await?
        .text()
        .await?;
    assert!(
        at_field.contains("before the complaint was received"),
        "{at_field}"
    );
    axe(c, "the case page with refused joint handling").await;
    pages += 1;
    // Agreed today, it is recorded; then RJ1's part is asked for.
    set_value(c, "participants-agreed_on", &today.to_string()).await?;
    c.find(Locator::Id("participants-submit"))
        .await?
        .click()
        .await?;
    let done = wait_text(c, "#done", "joint handling was recorded").await?;
    assert!(done.contains("joint handling was recorded"), "{done}");
    // Due within the week, so it is on the board of the body taking part.
    let due = (today + chrono::Duration::days(5)).to_string();
    record(
        c,
        "part-request",
        &[("organisation_id", "RJ1"), ("due_on", &due)],
        "request for a part was recorded",
    )
    .await?;
    // The ombudsman's decision with one recommendation of the three rows.
    record(
        c,
        "ombudsman-decision",
        &[
            ("ombudsman", "phso"),
            ("decision", "partly_upheld"),
            ("recommendations-0-description", "Apologise in writing."),
            ("recommendations-0-due_on", &due),
        ],
        "ombudsman's decision was recorded",
    )
    .await?;
    let facts = text(c).await;
    assert!(facts.contains("Recommendation 1"), "{facts}");
    assert!(facts.contains("RJ1 since"), "{facts}");
    assert!(c
        .find(Locator::Id("form-recommendation-done"))
        .await
        .is_ok());
    assert!(c
        .find_all(Locator::Id("form-provide-part"))
        .await?
        .is_empty());
    axe(c, "the joint case as its lead sees it").await;
    pages += 1;
    screenshot(c, "case-joint-lead").await;

    // The body taking part follows its deadline board to the lead's case.
    sign_in_as(c, binary, data, base, "RJ1", "caseworker").await;
    let link = Locator::Css(&format!("a[href='/ui/complaints/{joint}']"));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        c.goto(&format!("{base}/ui")).await?;
        if !c.find_all(link).await?.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "RJ1's board never showed its part: {}",
            text(c).await
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    c.find(link).await?.click().await?;
    c.wait()
        .for_element(Locator::Id("participant-note"))
        .await?;
    let forms: Vec<String> = {
        let mut ids = Vec::new();
        for form in c.find_all(Locator::Css("form[id^='form-']")).await? {
            ids.push(form.attr("id").await?.unwrap_or_default());
        }
        ids
    };
    assert_eq!(forms, ["form-provide-part"]);
    let note = c
        .find(Locator::Id("participant-note"))
        .await?
        .text()
        .await?;
    assert!(note.contains("No consent to share"), "{note}");
    let source = c.source().await?;
    assert!(!source.contains("Jo Jointly"), "a name before consent");
    assert!(!source.contains("lost my notes"), "words before consent");
    axe(c, "the joint case as the body taking part sees it").await;
    pages += 1;
    screenshot(c, "case-participant").await;

    // The lead records the complainant's consent to share with RJ1.
    sign_in_as(c, binary, data, base, "RAL", "caseworker,reporting").await;
    c.goto(&case_url).await?;
    record(
        c,
        "consent-to-share",
        &[
            ("for_whom", "complainant"),
            ("given_by", "data_subject"),
            ("scopes", "joint_handling"),
            ("method", "written"),
            ("share_with", "RJ1"),
        ],
        "consent to share was recorded",
    )
    .await?;
    assert!(text(c).await.contains("Consent to share"));

    // Now RJ1 sees the people and their words, and supplies its part.
    sign_in_as(c, binary, data, base, "RJ1", "caseworker").await;
    c.goto(&case_url).await?;
    let source = c.source().await?;
    assert!(source.contains("Jo Jointly"), "no name after consent");
    record(
        c,
        "provide-part",
        &[
            ("findings", "The crew's handover sheet was not scanned."),
            (
                "response_section",
                "We have changed how handover sheets are scanned.",
            ),
        ],
        "This body's part was recorded",
    )
    .await?;
    let facts = text(c).await;
    assert!(facts.contains("provided on"), "{facts}");

    // The national return marked submitted shows as submitted.
    sign_in_as(c, binary, data, base, "RAL", "caseworker,reporting").await;
    let year = if received.month() >= 4 {
        received.year()
    } else {
        received.year() - 1
    };
    c.goto(&format!(
        "{base}/ui/reports/written-complaints?organisation=RAL&year={year}"
    ))
    .await?;
    c.find(Locator::Id("mark-submitted")).await?.click().await?;
    let done = wait_text(c, "#done", "marked submitted").await?;
    assert!(done.contains("marked submitted"), "{done}");
    let submitted = c.find(Locator::Id("submitted")).await?.text().await?;
    assert!(submitted.contains("Submitted by casey"), "{submitted}");
    assert!(c.find_all(Locator::Id("mark-submitted")).await?.is_empty());
    axe(c, "the national return marked submitted").await;
    pages += 1;
    screenshot(c, "national-return-submitted").await;
    Ok(pages)
}

/// The text of `css` once it contains `needle`, or as it is after 10 seconds.
async fn wait_text(
    c: &Client,
    css: &str,
    needle: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = match c.find(Locator::Css(css)).await {
            Ok(found) => found.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(needle) || Instant::now() >= deadline {
            return Ok(text);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sets a field's value as a person would pick it (date inputs and selects alike).
async fn set_value(c: &Client, id: &str, value: &str) -> Checked {
    c.execute(
        "document.getElementById(arguments[0]).value = arguments[1];",
        vec![serde_json::json!(id), serde_json::json!(value)],
    )
    .await?;
    Ok(())
}

/// A small OpenID Connect provider in the test: discovery, its JWKS (a P-256 key made for
/// the run), an authorisation endpoint that approves at once, and a token endpoint that
/// checks the PKCE verifier and signs an ID token for `oidc.casey`, caseworker at RAL.
mod provider {
    use axum::extract::{Form, Query, State};
    use axum::response::{IntoResponse, Redirect, Response};
    use axum::routing::{get, post};
    use axum::{Json, Router};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    use p256::pkcs8::EncodePrivateKey;
    use serde_json::{json, Value};
    use sha2::Digest;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    pub const CLIENT_ID: &str = "complaints-web";

    struct Provider {
        issuer: String,
        pem: String,
        jwk: Value,
        codes: Mutex<HashMap<String, HashMap<String, String>>>,
    }

    /// Starts it on `localhost` (another site than the service's `127.0.0.1`); its issuer.
    pub async fn start() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://localhost:{}", listener.local_addr().unwrap().port());
        let mut seed = [0u8; 32];
        let secret = loop {
            getrandom::fill(&mut seed).unwrap();
            if let Ok(key) = p256::SecretKey::from_slice(&seed) {
                break key;
            }
        };
        let point = secret.public_key().to_encoded_point(false);
        let provider = Arc::new(Provider {
            issuer: issuer.clone(),
            pem: secret
                .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
                .unwrap()
                .to_string(),
            jwk: json!({"kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256",
                        "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
                        "y": URL_SAFE_NO_PAD.encode(point.y().unwrap())}),
            codes: Mutex::new(HashMap::new()),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route(
                "/jwks",
                get(|State(p): State<Arc<Provider>>| async move {
                    Json(json!({"keys": [p.jwk.clone()]}))
                }),
            )
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(provider);
        tokio::spawn(async move { axum::serve(listener, app).await });
        issuer
    }

    async fn discovery(State(p): State<Arc<Provider>>) -> Json<Value> {
        let issuer = &p.issuer;
        Json(json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "jwks_uri": format!("{issuer}/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "token_endpoint_auth_methods_supported": ["none"],
        }))
    }

    async fn authorize(
        State(p): State<Arc<Provider>>,
        Query(query): Query<HashMap<String, String>>,
    ) -> Response {
        let mut code = [0u8; 16];
        getrandom::fill(&mut code).unwrap();
        let code = URL_SAFE_NO_PAD.encode(code);
        let back = format!(
            "{}?code={code}&state={}",
            query["redirect_uri"], query["state"]
        );
        p.codes.lock().unwrap().insert(code, query);
        Redirect::to(&back).into_response()
    }

    async fn token(
        State(p): State<Arc<Provider>>,
        Form(form): Form<HashMap<String, String>>,
    ) -> Response {
        let refused = || {
            (
                axum::http::StatusCode::BAD_REQUEST,
                Json(json!({"error": "invalid_grant"})),
            )
                .into_response()
        };
        let Some(request) = form
            .get("code")
            .and_then(|c| p.codes.lock().unwrap().remove(c))
        else {
            return refused();
        };
        let verifier = form.get("code_verifier").cloned().unwrap_or_default();
        let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
        if request.get("code_challenge") != Some(&challenge)
            || form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        {
            return refused();
        }
        let now = chrono::Utc::now().timestamp();
        let claims = json!({"iss": p.issuer, "aud": CLIENT_ID, "sub": "oidc.casey",
                            "iat": now, "exp": now + 300, "nonce": request["nonce"],
                            "orgs": ["RAL"], "roles": ["caseworker"]});
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some("k1".into());
        let key = jsonwebtoken::EncodingKey::from_ec_pem(p.pem.as_bytes()).unwrap();
        let id_token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
        Json(json!({"access_token": "opaque", "token_type": "Bearer", "id_token": id_token}))
            .into_response()
    }
}
