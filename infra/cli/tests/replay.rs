//! End to end: the built `zerodesk` binary replays the shipped sample
//! tickets, refuses bad policies, and reports bad lines by number and field.
// A test crate: its helpers may panic like its tests.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples")
}

fn replay(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zerodesk"))
        .args(["triage", "replay"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("zerodesk starts");
    // A refused policy ends the process before it reads stdin.
    if let Err(e) = child.stdin.take().expect("stdin").write_all(stdin) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().expect("zerodesk finishes")
}

fn decisions(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .expect("utf-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect()
}

fn sample_policy() -> String {
    examples().join("policy.json").display().to_string()
}

#[test]
fn replay_writes_one_decision_per_input_line_in_order() {
    let input = std::fs::read(examples().join("tickets.jsonl")).unwrap();
    let out = replay(&["--policy", &sample_policy()], &input);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = decisions(&out);
    let want_ids: Vec<String> = String::from_utf8(input)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(got.len(), want_ids.len());
    for (d, id) in got.iter().zip(&want_ids) {
        assert_eq!(d["id"], id.as_str());
        let keys: Vec<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "category",
                "confidence",
                "decision",
                "id",
                "rationale",
                "risk_flags",
                "target"
            ]
        );
        let confidence = d["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&confidence));
        assert!(!d["rationale"].as_array().unwrap().is_empty());
    }
    let by_id = |id: &str| got.iter().find(|d| d["id"] == id).unwrap().clone();
    let expect = [
        ("ex-01", "password_reset", "auto_resolve"),
        ("ex-02", "account_unlock", "auto_resolve"),
        ("ex-03", "password_reset", "auto_resolve"),
        ("ex-04", "account_unlock", "auto_resolve"),
        ("ex-05", "account_unlock", "auto_resolve"),
        ("ex-06", "password_reset", "needs_approval"),
        ("ex-07", "password_reset", "escalate"),
        ("ex-08", "mfa_reset", "escalate"),
        ("ex-09", "account_unlock", "escalate"),
        ("ex-10", "password_reset", "escalate"),
        ("ex-11", "password_reset", "escalate"),
        ("ex-12", "hardware", "escalate"),
    ];
    for (id, category, decision) in expect {
        let d = by_id(id);
        assert_eq!(
            (d["category"].as_str(), d["decision"].as_str()),
            (Some(category), Some(decision)),
            "{id}: {d}"
        );
    }
    assert_eq!(by_id("ex-06")["target"], "jordan.lee@acme.example");
    assert_eq!(by_id("ex-07")["target"], Value::Null);
    let flags = by_id("ex-07")["risk_flags"].clone();
    for f in [
        "urgency",
        "authority_pressure",
        "outside_channel",
        "send_password_elsewhere",
        "other_persons_account",
    ] {
        assert!(
            flags.as_array().unwrap().iter().any(|x| x == f),
            "{f} in {flags}"
        );
    }
}

#[test]
fn without_a_policy_nothing_is_automated() {
    let line = br#"{"id":"1","requester":"ann@acme.example","subject":"","body":"I forgot my password, please reset it"}"#;
    let out = replay(&[], line);
    assert!(out.status.success());
    let got = decisions(&out);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["decision"], "needs_approval");
}

#[test]
fn bad_lines_are_reported_by_number_and_field_and_the_rest_still_decided() {
    let input = concat!(
        r#"{"id":"1","requester":"ann@acme.example","subject":"","body":"forgot my password"}"#,
        "\n",
        r#"{"id":"2","subject":"","body":"forgot my password"}"#,
        "\n",
        "this is not json\n",
        r#"{"id":"4","requester":"not an email","subject":"","body":"x"}"#,
        "\n\n",
        r#"{"id":"6","requester":"ann@acme.example","subject":"","body":"my printer is broken"}"#,
        "\n",
    );
    let out = replay(&["--policy", &sample_policy()], input.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    assert!(
        stderr.contains("line 2: field `requester` is missing"),
        "{stderr}"
    );
    assert!(stderr.contains("line 3: not a JSON object"), "{stderr}");
    assert!(stderr.contains("line 4: field `requester`"), "{stderr}");
    assert!(stderr.contains("3 line(s) skipped, 2 decided"), "{stderr}");
    let ids: Vec<Value> = decisions(&out).iter().map(|d| d["id"].clone()).collect();
    assert_eq!(ids, ["1", "6"]);
}

#[test]
fn policy_with_unknown_field_is_refused_before_any_output() {
    let dir = std::env::temp_dir().join(format!("zerodesk-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad-policy.json");
    std::fs::write(&path, r#"{"auto_resolve":["password_reset"],"bogus":true}"#).unwrap();
    let out = replay(&["--policy", path.to_str().unwrap()], b"{}\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bogus"));

    std::fs::write(&path, r#"{"auto_resolve":["mfa_reset"]}"#).unwrap();
    let out = replay(&["--policy", path.to_str().unwrap()], b"{}\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("auto_resolve"));

    let out = replay(
        &["--policy", dir.join("missing.json").to_str().unwrap()],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ticket_text_never_reaches_the_output() {
    let line = br#"{"id":"1","requester":"ann@acme.example","subject":"pw","body":"my old password was Zq8vR2xx and it expired, reset please"}"#;
    let out = replay(&["--policy", &sample_policy()], line);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Zq8vR2xx"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("Zq8vR2xx"));
}

#[test]
fn a_password_in_a_ticket_is_neither_classified_on_nor_printed() {
    let ticket = |id: &str, secret: &str| {
        format!(
            r#"{{"id":"{id}","requester":"ann@acme.example","subject":"Password","body":"I forgot my password, please reset it. my password is now {secret}"}}"#
        )
    };
    // The second secret reads as pressure ("urgent", "CEO") if classified.
    let input = format!(
        "{}\n{}\n",
        ticket("a", "Hunter2!"),
        ticket("b", "URGENT-CEO-Wire2!")
    );
    let out = replay(&["--policy", &sample_policy()], input.as_bytes());
    assert!(out.status.success());
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .to_lowercase();
    for secret in ["hunter2", "wire2"] {
        assert!(!printed.contains(secret), "{secret} in {printed}");
    }
    let without_id = |d: &Value| {
        let mut d = d.clone();
        d.as_object_mut().unwrap().remove("id");
        d
    };
    let got = decisions(&out);
    assert_eq!(got.len(), 2);
    assert_eq!(without_id(&got[0]), without_id(&got[1]));
    assert_eq!(got[1]["decision"], "auto_resolve", "{}", got[1]);
}
