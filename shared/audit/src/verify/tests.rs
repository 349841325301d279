use proptest::prelude::*;

use super::*;
use crate::chain::next_record;
use crate::record::AuditDraft;
use crate::testkit::{
    MUTATIONS, any_drafts, build, chain, demo_chain, draft, flip_hex, intent, mutate, outcome,
    ticket,
};

fn broken(index: usize, seq: u64, kind: LinkFault) -> Option<BrokenLink> {
    Some(BrokenLink { index, seq, kind })
}

fn gap(after_seq: u64, missing_from: u64, missing_to: u64) -> Gap {
    Gap {
        after_seq,
        missing_from,
        missing_to,
    }
}

/// Re-hashes a record after a deliberate edit, as a forger would.
fn rehash(mut r: AuditRecord) -> AuditRecord {
    r.hash = r.compute_hash();
    r
}

#[test]
fn a_chain_of_a_thousand_records_verifies() {
    let records = chain(1000);
    let report = verify(&records);
    assert!(report.ok, "{report:?}");
    assert_eq!(report.records_checked, 1000);
    assert_eq!(report.starts_at_seq, Some(1));
    assert_eq!(report.head, Some(records[999].head()));
    assert_eq!(report.first_broken_link, None);
    assert!(report.gaps.is_empty());
    assert!(report.intents_without_outcome.is_empty());
}

#[test]
fn changing_any_field_of_one_record_is_a_hash_mismatch_at_that_record() {
    let records = chain(1000);
    for which in 0..MUTATIONS {
        for k in [1usize, 2, 500, 999, 1000] {
            let mut tampered = records.clone();
            mutate(&mut tampered[k - 1], which);
            let seq = tampered[k - 1].seq;
            let report = verify(&tampered);
            assert!(!report.ok);
            assert_eq!(
                report.first_broken_link,
                broken(k - 1, seq, LinkFault::HashMismatch),
                "mutation {which} at {k}"
            );
        }
    }
}

#[test]
fn changing_the_stored_hash_is_a_hash_mismatch() {
    let mut records = chain(5);
    records[2].hash = flip_hex(&records[2].hash);
    assert_eq!(
        verify(&records).first_broken_link,
        broken(2, 3, LinkFault::HashMismatch)
    );
}

#[test]
fn deleting_a_record_breaks_the_link_at_the_next_one_and_leaves_a_gap() {
    let records = chain(1000);
    for k in [1u64, 2, 500, 999] {
        let mut cut = records.clone();
        cut.remove(k as usize - 1);
        let report = verify(&cut);
        assert!(!report.ok);
        assert_eq!(
            report.first_broken_link,
            broken(k as usize - 1, k + 1, LinkFault::PrevHashMismatch),
            "deleted {k}"
        );
        assert_eq!(report.gaps, vec![gap(k - 1, k, k)], "deleted {k}");
    }
}

#[test]
fn deleting_a_run_of_records_is_one_gap() {
    let mut records = chain(20);
    records.drain(4..9); // seqs 5..=9
    let report = verify(&records);
    assert_eq!(
        report.first_broken_link,
        broken(4, 10, LinkFault::PrevHashMismatch)
    );
    assert_eq!(report.gaps, vec![gap(4, 5, 9)]);
}

#[test]
fn deleting_the_newest_record_shows_only_in_the_head() {
    // The documented limit: compare `head` with a copy kept elsewhere.
    let records = chain(10);
    let report = verify(&records[..9]);
    assert!(report.ok);
    assert_eq!(report.head, Some(records[8].head()));
    assert_ne!(report.head, Some(records[9].head()));
}

#[test]
fn swapping_two_records_is_reported_where_the_first_one_moved_in() {
    let records = chain(1000);
    for (i, j) in [
        (1usize, 2usize),
        (10, 11),
        (10, 500),
        (1, 1000),
        (999, 1000),
    ] {
        let mut swapped = records.clone();
        swapped.swap(i - 1, j - 1);
        let report = verify(&swapped);
        assert!(!report.ok);
        assert_eq!(
            report.first_broken_link,
            broken(i - 1, j as u64, LinkFault::PrevHashMismatch),
            "swapped {i} and {j}"
        );
        assert!(report.gaps.is_empty(), "nothing is missing after a swap");
    }
}

#[test]
fn a_repeated_record_is_a_seq_out_of_order() {
    let mut records = chain(10);
    records.insert(4, records[3].clone());
    let report = verify(&records);
    assert_eq!(
        report.first_broken_link,
        broken(4, 4, LinkFault::SeqOutOfOrder)
    );
    assert!(report.gaps.is_empty());
}

#[test]
fn an_inserted_record_with_a_valid_hash_breaks_the_link() {
    let records = chain(10);
    let forged = build((0..10).map(|i| draft(i + 100)));
    let mut tampered = records.clone();
    tampered.insert(3, forged[3].clone()); // seq 4, hash valid, wrong prev
    let report = verify(&tampered);
    assert_eq!(
        report.first_broken_link,
        broken(3, 4, LinkFault::PrevHashMismatch)
    );
}

#[test]
fn a_record_with_seq_zero_is_out_of_order() {
    let mut first = chain(1).remove(0);
    first.seq = 0;
    let report = verify([rehash(first)]);
    assert_eq!(
        report.first_broken_link,
        broken(0, 0, LinkFault::SeqOutOfOrder)
    );
}

#[test]
fn a_first_record_without_the_genesis_prev_hash_is_refused() {
    let mut first = chain(1).remove(0);
    first.prev_hash = flip_hex(GENESIS_PREV_HASH);
    let first = rehash(first);
    for allow_truncated_start in [false, true] {
        let options = VerifyOptions {
            allow_truncated_start,
            ..VerifyOptions::default()
        };
        let report = verify_with([&first], &options);
        assert_eq!(
            report.first_broken_link,
            broken(0, 1, LinkFault::PrevHashMismatch)
        );
    }
}

#[test]
fn a_chain_truncated_by_retention_verifies_when_allowed() {
    let records = chain(10);
    let options = VerifyOptions {
        allow_truncated_start: true,
        ..VerifyOptions::default()
    };
    let report = verify_with(&records[4..], &options);
    assert!(report.ok, "{report:?}");
    assert_eq!(report.starts_at_seq, Some(5));
    assert_eq!(report.records_checked, 6);
    assert!(report.gaps.is_empty());
}

#[test]
fn a_truncated_chain_is_refused_by_default() {
    let records = chain(10);
    let report = verify(&records[4..]);
    assert!(!report.ok);
    assert_eq!(report.starts_at_seq, Some(5));
    assert_eq!(
        report.first_broken_link,
        broken(0, 5, LinkFault::PrevHashMismatch)
    );
    assert_eq!(report.gaps, vec![gap(0, 1, 4)]);
}

#[test]
fn a_deletion_after_a_truncated_start_is_still_found() {
    let mut records = chain(10);
    records.remove(6); // seq 7
    let options = VerifyOptions {
        allow_truncated_start: true,
        ..VerifyOptions::default()
    };
    let report = verify_with(&records[4..], &options);
    assert_eq!(
        report.first_broken_link,
        broken(2, 8, LinkFault::PrevHashMismatch)
    );
    assert_eq!(report.gaps, vec![gap(6, 7, 7)]);
}

#[test]
fn records_of_another_chain_are_a_chain_mismatch() {
    let other = ChainScope::Tenant(zerodesk_domain::TenantId::parse("other").unwrap());
    let records = build((0..3).map(|i| AuditDraft {
        chain: other.clone(),
        ..draft(i)
    }));
    let options = VerifyOptions {
        expected_chain: Some(demo_chain()),
        ..VerifyOptions::default()
    };
    let report = verify_with(&records, &options);
    assert!(!report.ok);
    assert_eq!(
        report.first_broken_link,
        broken(0, 1, LinkFault::ChainMismatch)
    );
    assert!(verify(&records).ok, "on its own the other chain is intact");
}

#[test]
fn a_record_spliced_in_from_another_chain_is_a_chain_mismatch() {
    let mut records = chain(5);
    let foreign = next_record(
        Some(&records[1].head()),
        AuditDraft {
            chain: ChainScope::Platform,
            ..draft(2)
        },
    );
    records[2] = foreign;
    assert_eq!(
        verify(&records).first_broken_link,
        broken(2, 3, LinkFault::ChainMismatch)
    );
}

#[test]
fn nothing_to_verify_is_ok() {
    let report = verify(Vec::<AuditRecord>::new());
    assert!(report.ok);
    assert_eq!(report.records_checked, 0);
    assert_eq!(report.starts_at_seq, None);
    assert_eq!(report.head, None);
}

#[test]
fn intents_without_a_later_outcome_are_listed() {
    let records = build([
        intent(1, "reset"),   // seq 1, closed by 2
        outcome(1, "reset"),  // seq 2
        intent(2, "unlock"),  // seq 3, open
        intent(3, "reset"),   // seq 4, open: the outcome is for another kind
        outcome(3, "unlock"), // seq 5
        intent(4, "reset"),   // seq 6, closed by 7
        outcome(4, "reset"),  // seq 7
        intent(4, "reset"),   // seq 8, open: a retry after the outcome
        outcome(5, "reset"),  // seq 9
        intent(5, "reset"),   // seq 10, open: the outcome came before it
        intent(6, "unlock"),  // seq 11, closed by 13 with 12
        intent(6, "unlock"),  // seq 12
        outcome(6, "unlock"), // seq 13
        intent(7, "reset"),   // seq 14, open: outcome is for another ticket
        outcome(8, "reset"),  // seq 15
    ]);
    let report = verify(&records);
    assert!(report.ok, "open intents are not a chain fault");
    let open = |t: u64, kind: &str, seq: u64| OpenIntent {
        ticket_id: Some(ticket(t)),
        action: Some(kind.to_owned()),
        seq,
    };
    assert_eq!(
        report.intents_without_outcome,
        vec![
            open(2, "unlock", 3),
            open(3, "reset", 4),
            open(4, "reset", 8),
            open(5, "reset", 10),
            open(7, "reset", 14),
        ]
    );
}

#[test]
fn an_intent_without_a_kind_pairs_only_with_an_outcome_without_one() {
    let mut bare_intent = intent(1, "reset");
    bare_intent.details.clear();
    let mut bare_outcome = outcome(2, "reset");
    bare_outcome.details.clear();
    let report = verify(build([
        bare_intent.clone(),
        outcome(1, "reset"),
        bare_intent.clone(),
    ]));
    assert_eq!(report.intents_without_outcome.len(), 2);
    assert_eq!(report.intents_without_outcome[0].action, None);
    let mut closing = bare_outcome;
    closing.ticket_id = Some(ticket(1));
    let report = verify(build([bare_intent, closing]));
    assert!(report.intents_without_outcome.is_empty());
}

#[test]
fn the_report_serializes_with_snake_case_fault_names() {
    let mut records = chain(3);
    records.remove(1);
    let json = serde_json::to_value(verify(&records)).unwrap();
    assert_eq!(json["first_broken_link"]["kind"], "prev_hash_mismatch");
    assert_eq!(json["gaps"][0]["missing_from"], 2);
    assert_eq!(json["ok"], false);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_appended_chain_verifies(drafts in any_drafts(1..40)) {
        let records = build(drafts);
        let report = verify(&records);
        prop_assert!(report.ok, "{:?}", report);
        prop_assert_eq!(report.records_checked, records.len());
    }

    #[test]
    fn any_field_change_is_a_hash_mismatch_at_that_record(
        drafts in any_drafts(1..30),
        pick in any::<prop::sample::Index>(),
        which in 0..MUTATIONS,
    ) {
        let mut records = build(drafts);
        let k = pick.index(records.len());
        mutate(&mut records[k], which);
        let report = verify(&records);
        prop_assert_eq!(
            report.first_broken_link,
            broken(k, records[k].seq, LinkFault::HashMismatch)
        );
    }

    #[test]
    fn any_deletion_but_the_last_is_found_at_the_next_record(
        drafts in any_drafts(2..30),
        pick in any::<prop::sample::Index>(),
    ) {
        let mut records = build(drafts);
        let k = pick.index(records.len() - 1) + 1; // seq of the deleted record
        records.remove(k - 1);
        let report = verify(&records);
        let k = k as u64;
        prop_assert_eq!(
            report.first_broken_link,
            broken(k as usize - 1, k + 1, LinkFault::PrevHashMismatch)
        );
        prop_assert_eq!(report.gaps, vec![gap(k - 1, k, k)]);
    }

    #[test]
    fn any_swap_is_found_where_the_order_first_breaks(
        drafts in any_drafts(2..30),
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
    ) {
        let mut records = build(drafts);
        let (i, j) = (a.index(records.len()), b.index(records.len()));
        prop_assume!(i != j);
        let (i, j) = (i.min(j), i.max(j));
        records.swap(i, j);
        let report = verify(&records);
        prop_assert_eq!(
            report.first_broken_link,
            broken(i, j as u64 + 1, LinkFault::PrevHashMismatch)
        );
        prop_assert!(report.gaps.is_empty());
    }
}

proptest! {
    // The thousand-record property of the audit table's test, without the
    // table: an edit, a swap and a deletion anywhere in a long chain are each
    // reported at the seq where they were made.
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn a_thousand_record_chain_reports_each_edit_swap_and_deletion_at_its_seq(
        edit_at in 1usize..=1000,
        which in 0..MUTATIONS,
        swap_at in 1usize..1000,
        delete_at in 1usize..1000,
    ) {
        let records = chain(1000);
        let clean = verify(&records);
        prop_assert!(clean.ok);
        prop_assert_eq!(clean.records_checked, 1000);

        let mut edited = records.clone();
        mutate(&mut edited[edit_at - 1], which);
        let report = verify(&edited);
        prop_assert_eq!(
            report.first_broken_link,
            broken(edit_at - 1, edited[edit_at - 1].seq, LinkFault::HashMismatch)
        );

        let mut swapped = records.clone();
        swapped.swap(swap_at - 1, swap_at);
        let report = verify(&swapped);
        prop_assert_eq!(
            report.first_broken_link,
            broken(swap_at - 1, swap_at as u64 + 1, LinkFault::PrevHashMismatch)
        );
        prop_assert!(report.gaps.is_empty());

        let mut cut = records;
        cut.remove(delete_at - 1);
        let report = verify(&cut);
        let k = delete_at as u64;
        prop_assert_eq!(
            report.first_broken_link,
            broken(delete_at - 1, k + 1, LinkFault::PrevHashMismatch)
        );
        prop_assert_eq!(report.gaps, vec![gap(k - 1, k, k)]);
    }
}
