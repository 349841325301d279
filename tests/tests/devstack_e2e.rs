//! End to end through `devstack up`, as a developer runs it: a self-service
//! reset by a demo user (202: a link goes to the recovery address through SES,
//! no password in any answer), the audit trail read and
//! verified by the auditor, another tenant refused with 404, every sample
//! event in `events/` answered by its function with the status
//! `events/expected.json` keeps for it, and after SIGTERM no process and no
//! port left behind.
//!
//! It builds and runs every function binary (debug), so it takes a minute
//! or two on a warm target directory: `cargo test -p zerodesk-testkit --test devstack_e2e`.

// Test helpers outside #[test] fns panic on purpose: a broken fixture is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod browser;

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Builds the devstack binary and returns its path.
fn devstack_binary() -> PathBuf {
    let status = Command::new(cargo())
        .args(["build", "-q", "-p", "devstack"])
        .current_dir(repo_root())
        .status()
        .unwrap();
    assert!(status.success(), "cargo build -p devstack failed");
    let meta = Command::new(cargo())
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(repo_root())
        .output()
        .unwrap();
    let meta: Value = serde_json::from_slice(&meta.stdout).unwrap();
    Path::new(meta["target_directory"].as_str().unwrap()).join("debug/devstack")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Running {
    child: Child,
    output: Arc<Mutex<Vec<String>>>,
    state_dir: PathBuf,
    binary: PathBuf,
}

impl Running {
    fn start(binary: PathBuf, state_dir: PathBuf, port: u16) -> Running {
        let mut child = Command::new(&binary)
            .args([
                "--state-dir",
                state_dir.to_str().unwrap(),
                "up",
                "--port",
                &port.to_string(),
            ])
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let sink = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    sink.lock().unwrap().push(line);
                }
            });
        }
        Running {
            child,
            output,
            state_dir,
            binary,
        }
    }

    fn wait_for(&mut self, needle: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if self
                .output
                .lock()
                .unwrap()
                .iter()
                .any(|l| l.contains(needle))
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "devstack exited ({status}) before {needle:?}:\n{}",
                    self.output.lock().unwrap().join("\n")
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} within {limit:?}:\n{}",
                self.output.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn state(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.state_dir.join("stack.json")).unwrap())
            .unwrap()
    }

    /// A token from the `token` command, as a second terminal would get one.
    fn token(&self, tenant: &str, role: &str, sub: &str) -> String {
        let out = Command::new(&self.binary)
            .args([
                "--state-dir",
                self.state_dir.to_str().unwrap(),
                "token",
                "--tenant",
                tenant,
                "--role",
                role,
                "--sub",
                sub,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "token: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }
}

impl Drop for Running {
    /// A failed assertion must not leave a stack running: SIGTERM, then SIGKILL.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.state_dir);
    }
}

/// Direct children of `pid`, from /proc.
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // The ppid is the second field after the parenthesised command name.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok());
        if ppid == Some(pid) {
            out.push(child);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_service_reset_audit_and_isolation_through_the_local_stack() {
    let binary = devstack_binary();
    let state_dir = std::env::temp_dir().join(format!("devstack-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state_dir);
    let port = free_port();
    let mut stack = Running::start(binary, state_dir, port);
    stack.wait_for("[devstack] ready in", Duration::from_secs(1800));
    let state = stack.state();
    let api = state["api_url"].as_str().unwrap().to_owned();
    assert_eq!(api, format!("http://127.0.0.1:{port}"));
    let http = reqwest::Client::new();

    let alice = stack.token("demo", "tenant_user", "alice@demo.example");
    let filed = http
        .post(format!("{api}/tickets"))
        .bearer_auth(&alice)
        .json(&json!({"subject": "Forgot my password", "body": "I forgot my password, please reset it"}))
        .send()
        .await
        .unwrap();
    assert_eq!(filed.status().as_u16(), 201);
    let ticket: Value = filed.json().await.unwrap();
    assert_eq!(ticket["category"], "password_reset", "{ticket}");
    assert_eq!(ticket["decision"], "auto_resolve", "{ticket}");
    let id = ticket["id"].as_str().unwrap().to_owned();

    // Nothing runs yet: the owner is sent a link to the recovery address
    // the directory holds, and the answer holds no password.
    let reset = http
        .post(format!("{api}/tickets/{id}/reset"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status().as_u16(), 202);
    let reset: Value = reset.json().await.unwrap();
    assert!(reset.get("temporary_password").is_none(), "{reset}");
    // The triage's auto_resolve event may have asked the owner already.
    let status = reset["verification"]["status"].as_str().unwrap_or_default();
    assert!(matches!(status, "sent" | "already_sent"), "{reset}");
    assert_eq!(reset["verification"]["method"], "recovery_email", "{reset}");
    assert_eq!(
        reset["verification"]["channel"], "a\u{2022}\u{2022}\u{2022}@mail.example",
        "{reset}"
    );
    assert_eq!(reset["already_done"], false);
    let again: Value = http
        .post(format!("{api}/tickets/{id}/reset"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["verification"]["status"], "already_sent", "{again}");
    // The link went out through SES on the emulator, to that address only.
    let moto = state["moto_endpoint"].as_str().unwrap().to_owned();
    let sent = http
        .get(format!("{moto}/moto-api/data.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        sent.contains("alice.personal@mail.example"),
        "no message to the recovery address"
    );
    let marker = format!("{api}/verify#");
    let token: String = sent
        .split(marker.as_str())
        .nth(1)
        .expect("a link to this stack's verification page")
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    assert!(token.len() > 43, "{token}");
    assert_eq!(
        sent.matches(marker.as_str()).count(),
        1,
        "one link, sent once"
    );

    // The page: no JWT, hardened headers, no third-party asset.
    let page = http.get(format!("{api}/verify")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let header = |name: &str| {
        page.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(header("content-security-policy").contains("default-src 'none'"));
    assert!(header("content-security-policy").contains("script-src 'self'"));
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("referrer-policy"), "no-referrer");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("verify/app.js") && !html.contains("http"),
        "{html}"
    );

    // A tampered link and an unknown one get the same answer.
    let answer = |body: Value| {
        let http = http.clone();
        let url = format!("{api}/verify");
        async move {
            let r = http.post(url).json(&body).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let mut tampered = token.clone();
    tampered.pop();
    tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
    let refused_tampered = answer(json!({"step": "describe", "token": tampered})).await;
    let refused_unknown = answer(json!({"step": "describe", "token": "demo.01ARZ3NDEKTSV4RRFFQ69G5FAV.reset.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})).await;
    assert_eq!(refused_tampered.0, 404);
    assert_eq!(refused_tampered, refused_unknown);

    // The owner opens the link: what is asked, then the password, once.
    let (status, asked) = answer(json!({"step": "describe", "token": token})).await;
    assert_eq!(status, 200, "{asked}");
    assert_eq!(asked["action"], "reset");
    assert_eq!(asked["account"], "a\u{2022}\u{2022}\u{2022}@demo.example");
    // The owner follows the link in a real browser and confirms.
    let browser = browser::Browser::start(free_port()).await;
    browser.open(&format!("{api}/verify#{token}")).await;
    browser
        .wait_for(
            "return !document.getElementById('ask').hidden",
            "the question",
        )
        .await;
    assert_eq!(
        browser.script("return location.hash").await,
        "",
        "the token left the address bar at once"
    );
    let question = browser
        .script("return document.getElementById('what').textContent")
        .await;
    assert!(
        question
            .as_str()
            .unwrap_or_default()
            .contains("reset the password of a\u{2022}\u{2022}\u{2022}@demo.example"),
        "{question}"
    );
    browser.click("#confirm").await;
    browser
        .wait_for(
            "return !document.getElementById('secret').hidden",
            "the password",
        )
        .await;
    let password = browser
        .script("return document.getElementById('password').textContent")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(password.len() >= 12, "{password}");
    let page_text = browser.script("return document.body.innerText").await;
    assert!(
        page_text
            .as_str()
            .unwrap_or_default()
            .contains("You must change it at next sign-in"),
        "{page_text}"
    );
    // Neither a reload nor going back shows it again.
    browser.reload().await;
    browser
        .wait_for(
            "return document.getElementById('status').textContent.includes('Open the link')",
            "the empty page after a reload",
        )
        .await;
    let after_reload = browser.script("return document.body.innerText").await;
    assert!(
        !after_reload
            .as_str()
            .unwrap_or_default()
            .contains(&password)
    );
    browser.back().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after_back = browser.script("return document.body.innerText").await;
    assert!(!after_back.as_str().unwrap_or_default().contains(&password));
    browser.quit().await;

    let replayed = answer(json!({"step": "confirm", "token": token})).await;
    assert_eq!(
        replayed, refused_unknown,
        "a used link is refused like an unknown one"
    );
    let resolved = ticket_as(&http, &api, &alice, &id).await;
    assert_eq!(resolved["state"], "resolved", "{resolved}");

    // The trail arrives through EventBridge and audit-write: wait for the outcome.
    let auditor = stack.token("demo", "tenant_auditor", "auditor@demo.example");
    let deadline = Instant::now() + Duration::from_secs(30);
    let records = loop {
        let trail: Value = http
            .get(format!("{api}/audit"))
            .bearer_auth(&auditor)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items = trail["items"].as_array().cloned().unwrap_or_default();
        let for_ticket: Vec<Value> = items
            .into_iter()
            .filter(|r| r["ticket_id"] == id.as_str())
            .collect();
        let notified = for_ticket.iter().any(|r| r["outcome"] == "notified");
        if notified && for_ticket.iter().any(|r| r["outcome"] == "succeeded") {
            break for_ticket;
        }
        assert!(
            Instant::now() < deadline,
            "no owner notice in the trail: {trail}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    for step in ["requested", "sent", "succeeded", "notified"] {
        assert!(
            records.iter().any(|r| r["outcome"] == step),
            "no {step} in the trail: {records:?}"
        );
    }
    // The notice went to the owner's primary mailbox, not the recovery one.
    let sent = http
        .get(format!("{moto}/moto-api/data.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        sent.contains("alice@demo.example"),
        "no notice to the primary mailbox"
    );
    assert!(
        !sent.contains(&password),
        "the password reached the emulator's state"
    );
    let verify: Value = http
        .get(format!("{api}/audit/verify"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(verify["ok"], true, "{verify}");

    let eve = stack.token("other", "tenant_user", "eve@other.example");
    let foreign = http
        .get(format!("{api}/tickets/{id}"))
        .bearer_auth(&eve)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status().as_u16(), 404);
    let other_admin = stack.token("other", "tenant_admin", "admin@other.example");
    let foreign = http
        .post(format!("{api}/tickets/{id}/reset"))
        .bearer_auth(&other_admin)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status().as_u16(), 404);

    // A second terminal lists the outbox: the link to the recovery
    // address and the notice to the primary mailbox; so does the page.
    let listed = Command::new(&stack.binary)
        .args(["--state-dir", stack.state_dir.to_str().unwrap(), "outbox"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listed.contains("email to alice.personal@mail.example"),
        "{listed}"
    );
    assert!(listed.contains(&format!("{api}/verify#")), "{listed}");
    assert!(listed.contains("email to alice@demo.example"), "{listed}");
    let admin = state["admin_url"].as_str().unwrap();
    let page = http
        .get(format!("{admin}/outbox"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("<a href=\"{api}/verify#")), "{page}");

    // The schedule can be fired from a second terminal.
    let fired = Command::new(&stack.binary)
        .args([
            "--state-dir",
            stack.state_dir.to_str().unwrap(),
            "invoke",
            "retention-purge",
        ])
        .output()
        .unwrap();
    let fired: Value = serde_json::from_slice(&fired.stdout).unwrap();
    assert_eq!(fired["function"], "RetentionPurgeFunction", "{fired}");

    assert!(
        !stack.output().contains(&token),
        "the link token appeared in the stack's output"
    );
    assert!(
        !stack.output().contains(&password),
        "the temporary password appeared in the stack's output"
    );
    assert!(
        !stack.output().contains(&alice),
        "a token appeared in the stack's output"
    );

    security_findings_hold_from_outside(&stack, &api, &http).await;
    every_sample_event_is_accepted_by_its_function(&stack);

    // SIGTERM: everything stops, nothing keeps listening, no child survives.
    let pid = stack.child.id();
    let children = children_of(pid);
    assert!(
        children.len() >= 8,
        "moto and seven functions: {children:?}"
    );
    let ports: Vec<u16> = state["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap() as u16)
        .collect();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = stack.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "devstack did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}");
    for port in ports {
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "port {port} still open"
        );
    }
    for child in children {
        assert!(
            !Path::new(&format!("/proc/{child}")).exists(),
            "child {child} survived"
        );
    }
    assert!(!stack.state_dir.join("stack.json").exists());
}

/// Every file in `events/` goes through the running stack the way
/// `devstack invoke FUNCTION --event FILE` sends it (the admin endpoint, then
/// the function's Runtime API), in the order `events/expected.json` lists
/// them, and answers the status kept there: an HTTP status for API events,
/// `"ok"` for EventBridge and schedule events. None may answer 5xx, fail
/// or crash, and each invocation prints its REPORT line.
fn every_sample_event_is_accepted_by_its_function(stack: &Running) {
    let events = repo_root().join("events");
    let expected: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(events.join("expected.json")).unwrap())
            .unwrap();
    let listed: BTreeSet<String> = expected
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .collect();
    let present: BTreeSet<String> = std::fs::read_dir(&events)
        .unwrap()
        .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json") && name != "expected.json")
        .collect();
    assert_eq!(
        listed, present,
        "events/expected.json lists every sample event, and only those"
    );
    let lines_before = stack.output.lock().unwrap().len();
    let mut wrong = Vec::new();
    for e in &expected {
        let (file, function) = (
            e["event"].as_str().unwrap(),
            e["function"].as_str().unwrap(),
        );
        let out = Command::new(&stack.binary)
            .args([
                "--state-dir",
                stack.state_dir.to_str().unwrap(),
                "invoke",
                function,
                "--event",
            ])
            .arg(events.join(file))
            .output()
            .unwrap();
        let answer: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let got = match answer["payload"]["statusCode"].as_u64() {
            _ if answer["ok"] != true => json!(format!("failed: {answer} {stderr}")),
            Some(status) => json!(status),
            None => json!("ok"),
        };
        let server_error = got.as_u64().is_some_and(|s| s >= 500);
        let reported = stderr.contains("REPORT RequestId:") && !stderr.contains("Status: ");
        if got != e["status"] || server_error || !reported || !out.status.success() {
            wrong.push(format!(
                "{file} -> {function}: expected {}, got {got} (report: {})",
                e["status"],
                stderr.trim()
            ));
        }
    }
    let exits: Vec<String> = stack.output.lock().unwrap()[lines_before..]
        .iter()
        .filter(|l| l.contains("process exited"))
        .cloned()
        .collect();
    assert!(
        exits.is_empty(),
        "a function crashed on a sample event: {exits:?}"
    );
    assert!(
        wrong.is_empty(),
        "sample events not accepted:\n{}",
        wrong.join("\n")
    );
}

/// Every verification link the emulator's SES has sent so far, oldest first.
async fn links_sent(http: &reqwest::Client, moto: &str, api: &str) -> Vec<String> {
    let sent = http
        .get(format!("{moto}/moto-api/data.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = format!("{api}/verify#");
    sent.split(marker.as_str())
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
                .collect()
        })
        .collect()
}

/// The ticket `id` as `who` reads it.
async fn ticket_as(http: &reqwest::Client, api: &str, who: &str, id: &str) -> Value {
    http.get(format!("{api}/tickets/{id}"))
        .bearer_auth(who)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Files a ticket as `who` and returns its id.
async fn file_as(
    http: &reqwest::Client,
    api: &str,
    who: &str,
    subject: &str,
    body: &str,
) -> String {
    let r = http
        .post(format!("{api}/tickets"))
        .bearer_auth(who)
        .json(&json!({"subject": subject, "body": body}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let ticket: Value = r.json().await.unwrap();
    ticket["id"].as_str().unwrap().to_owned()
}

/// The security review's findings, seen from outside the local stack: a
/// suspended account is never reset; an approval by the account's owner is
/// refused; a decision made stale by the admin changes nothing when the
/// owner confirms; one caller's flood of resets is cut off while another
/// tenant is served.
async fn security_findings_hold_from_outside(stack: &Running, api: &str, http: &reqwest::Client) {
    let moto = stack.state()["moto_endpoint"].as_str().unwrap().to_owned();
    let post = |url: String, who: String, body: Value| {
        let http = http.clone();
        async move {
            let request = http.post(url).bearer_auth(who);
            let request = if body.is_null() {
                request
            } else {
                request.json(&body)
            };
            let r = request.send().await.unwrap();
            let status = r.status().as_u16();
            let retry_after = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            (
                status,
                r.json::<Value>().await.unwrap_or(Value::Null),
                retry_after,
            )
        }
    };

    // dave was suspended by an administrator: his self-reset changes nothing.
    let dave = stack.token("demo", "tenant_user", "dave@demo.example");
    let id = file_as(
        http,
        api,
        &dave,
        "Forgot my password",
        "I forgot my password",
    )
    .await;
    let (status, body, _) = post(
        format!("{api}/tickets/{id}/reset"),
        dave.clone(),
        Value::Null,
    )
    .await;
    assert!(matches!(status, 409 | 422), "{status} {body}");
    let ticket = ticket_as(http, api, &dave, &id).await;
    assert_eq!(ticket["state"], "escalated", "{ticket}");
    assert_eq!(
        ticket["reason"], "account is suspended by an administrator",
        "{ticket}"
    );

    // A manager may not approve a reset of her own account.
    let alice = stack.token("demo", "tenant_user", "alice@demo.example");
    let id = file_as(
        http,
        api,
        &alice,
        "Password reset",
        "Please reset the password for carol@demo.example",
    )
    .await;
    let carol = stack.token("demo", "tenant_manager", "carol@demo.example");
    let (status, body, _) = post(format!("{api}/tickets/{id}/approve"), carol, Value::Null).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "id", "{body}");

    // The owner was asked; then the admin switched automation off; the
    // owner's confirmation changes nothing and the ticket escalates.
    let before = links_sent(http, &moto, api).await;
    let id = file_as(
        http,
        api,
        &alice,
        "Forgot my password",
        "I forgot my password again",
    )
    .await;
    let mut link = None;
    for _ in 0..100 {
        let now = links_sent(http, &moto, api).await;
        if let Some(new) = now.into_iter().find(|l| !before.contains(l)) {
            link = Some(new);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let link = link.expect("the auto_resolve triage asked the owner");
    let root = stack.token("demo", "tenant_admin", "root@demo.example");
    let policy = |auto: Value| {
        let http = http.clone();
        let root = root.clone();
        let url = format!("{api}/policy");
        async move {
            let r = http
                .put(url)
                .bearer_auth(root)
                .json(&json!({"auto_resolve": auto}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
        }
    };
    policy(json!([])).await;
    let answered = http
        .post(format!("{api}/verify"))
        .json(&json!({"step": "confirm", "token": link}))
        .send()
        .await
        .unwrap();
    let answered: Value = answered.json().await.unwrap();
    assert_eq!(answered["status"], "escalated", "{answered}");
    assert!(answered.get("temporary_password").is_none(), "{answered}");
    policy(json!(["password_reset", "account_unlock"])).await;
    let ticket = ticket_as(http, api, &alice, &id).await;
    assert_eq!(ticket["state"], "escalated", "{ticket}");

    // One caller's flood of resets for made-up tickets is cut off with 429
    // and Retry-After; another tenant's requests are still served.
    let mallory = stack.token("demo", "tenant_user", "mallory@demo.example");
    let mut limited = None;
    for n in 0..40 {
        let made_up = format!("01ARZ3NDEKTSV4RRFFQ69G5F{n:02}");
        let (status, body, retry_after) = post(
            format!("{api}/tickets/{made_up}/reset"),
            mallory.clone(),
            Value::Null,
        )
        .await;
        if status == 429 {
            limited = Some((n, retry_after));
            break;
        }
        assert_eq!(status, 404, "{body}");
    }
    let (n, retry_after) = limited.expect("the flood was cut off");
    assert_eq!(n, 30, "30 a minute, then 429");
    assert!(retry_after.is_some_and(|s| s.parse::<u64>().is_ok_and(|s| (1..=60).contains(&s))));
    let eve = stack.token("other", "tenant_user", "eve@other.example");
    let (status, body, _) = post(
        format!("{api}/tickets/01ARZ3NDEKTSV4RRFFQ69G5FZZ/reset"),
        eve,
        Value::Null,
    )
    .await;
    assert_eq!(status, 404, "another tenant is served: {body}");
}
