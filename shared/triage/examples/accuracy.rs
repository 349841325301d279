//! Prints the accuracy tables of ACCURACY.md for the labelled ticket set,
//! and with `--mismatches <split>|all` every ticket the classifier got
//! wrong in that split. `cargo run -p zerodesk-triage --release --example accuracy`

use std::io::Write;
use std::time::Instant;

#[path = "../tests/support/labelled.rs"]
mod labelled;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let tickets = labelled::load()?;
    let started = Instant::now();
    let outcomes = labelled::run(&tickets)?;
    let per_ticket = started.elapsed().as_secs_f64() / tickets.len().max(1) as f64;
    let mut out = std::io::stdout().lock();
    write!(out, "{}", labelled::markdown(&outcomes))?;
    writeln!(
        out,
        "\nmean classify time per ticket: {:.1} µs",
        per_ticket * 1e6
    )?;
    if let Some(pos) = args.iter().position(|a| a == "--mismatches") {
        let split = args.get(pos + 1).map_or("train", String::as_str);
        for o in outcomes
            .iter()
            .filter(|o| split == "all" || o.ticket.split == split)
        {
            if o.category_ok() && o.decision_ok() && o.flags_ok() && o.target_ok() {
                continue;
            }
            let t = &o.ticket;
            writeln!(
                out,
                "\n{} [{}] {:?} / {:?}",
                t.id, t.lang, t.subject, t.body
            )?;
            let want_target = t.target.as_ref().map(|a| a.as_str().to_owned());
            let got_target = o.got.target.as_ref().map(|a| a.as_str().to_owned());
            writeln!(
                out,
                "  want {:?} {:?} {:?} {:?}",
                t.category, t.decision, t.risk_flags, want_target
            )?;
            writeln!(
                out,
                "  got  {:?} {:?} {:?} {:?} conf {}",
                o.got.category, o.got.decision, o.got.risk_flags, got_target, o.got.confidence
            )?;
            for r in &o.got.rationale {
                writeln!(out, "    {r}")?;
            }
        }
    }
    Ok(())
}
