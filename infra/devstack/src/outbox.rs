//! Every message the local stack "sent": SES emails and SNS text messages
//! as the emulator recorded them (its `/moto-api/data.json`). Locally no
//! message leaves the machine, so this is where a developer finds the
//! verification link and the notices: `devstack outbox` prints them, and
//! the stack's loopback admin endpoint serves them at `/outbox`.

use serde_json::Value;

/// One message, as the emulator kept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub channel: &'static str,
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The messages in the emulator's state document, oldest first.
pub fn messages_in(state: &Value) -> Vec<OutboxMessage> {
    let list = |service: &str, model: &str| {
        state[service][model]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let emails = list("ses", "Message").into_iter().map(|m| OutboxMessage {
        channel: "email",
        to: m["destinations"]["ToAddresses"]
            .as_array()
            .map(|a| a.iter().map(text).collect::<Vec<_>>().join(", "))
            .unwrap_or_default(),
        subject: text(&m["subject"]),
        body: text(&m["body"]),
    });
    let texts = list("sns", "SMS").into_iter().map(|m| OutboxMessage {
        channel: "sms",
        to: text(&m["phone_number"]),
        subject: String::new(),
        body: text(&m["message"]),
    });
    emails.chain(texts).collect()
}

/// Reads the outbox of the emulator at `moto_endpoint`.
pub async fn read(moto_endpoint: &str) -> Result<Vec<OutboxMessage>, reqwest::Error> {
    let state: Value = reqwest::get(format!("{moto_endpoint}/moto-api/data.json"))
        .await?
        .json()
        .await?;
    Ok(messages_in(&state))
}

/// For a terminal.
pub fn as_text(messages: &[OutboxMessage]) -> String {
    if messages.is_empty() {
        return "The outbox is empty.\n".to_owned();
    }
    messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            format!(
                "#{} {} to {}{}\n{}\n\n",
                i + 1,
                m.channel,
                m.to,
                if m.subject.is_empty() {
                    String::new()
                } else {
                    format!(": {}", m.subject)
                },
                m.body
            )
        })
        .collect()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Links in a body, clickable (the verification page of the local stack).
fn linked(body: &str) -> String {
    body.split_inclusive(char::is_whitespace)
        .map(|word| {
            let trimmed = word.trim_end();
            if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
                let url = escape(trimmed);
                format!("<a href=\"{url}\">{url}</a>{}", &word[trimmed.len()..])
            } else {
                escape(word)
            }
        })
        .collect()
}

/// For a browser: the newest first, links clickable.
pub fn as_html(messages: &[OutboxMessage]) -> String {
    let items: String = messages
        .iter()
        .rev()
        .map(|m| {
            format!(
                "<article><h2>{} to {}</h2><p><strong>{}</strong></p><pre>{}</pre></article>",
                m.channel,
                escape(&m.to),
                escape(&m.subject),
                linked(&m.body)
            )
        })
        .collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>zerodesk local outbox</title></head><body><h1>Local outbox</h1>\
         <p>Every email and text message the local stack sent, newest first.</p>{}</body></html>",
        if items.is_empty() {
            "<p>The outbox is empty.</p>".to_owned()
        } else {
            items
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn emails_and_texts_are_read_from_the_emulator_state() {
        let state = json!({
            "ses": {"Message": [{"body": "open http://127.0.0.1:3000/verify#t <x>", "destinations": {"ToAddresses": ["a@b.example"]}, "subject": "S", "source": "helpdesk@zerodesk.example"}]},
            "sns": {"SMS": [{"message": "code 123456", "phone_number": "+15555550101"}]}
        });
        let messages = messages_in(&state);
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].to, "a@b.example");
        assert_eq!(messages[1].channel, "sms");
        let html = as_html(&messages);
        assert!(html.contains("<a href=\"http://127.0.0.1:3000/verify#t\">"));
        assert!(html.contains("&lt;x&gt;"), "bodies are escaped");
        assert!(as_text(&[]).contains("empty"));
    }
}
