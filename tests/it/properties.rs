//! Properties over generated inputs: the loader never panics, and a desired
//! state planned against itself is always empty.

use std::collections::BTreeMap;

use altcontacts::config::LoadedConfig;
use altcontacts::model::{
    AccountId, AccountStatus, Contact, ContactType, Desired, DesiredSlot, Live, OrgAccount,
    OrgUnit, Organization, PrimaryContact, Slot, Source, Value, Wanted,
};
use proptest::prelude::*;

/// Pieces of real contacts files, so generated text reaches past the YAML
/// parser into validation and layering.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("version: 1\n".to_owned()),
        Just("version: \"1\"\n".to_owned()),
        Just("contacts:\n".to_owned()),
        Just("accounts:\n".to_owned()),
        Just("organization:\n".to_owned()),
        Just("  defaults: { security: absent }\n".to_owned()),
        Just("  units:\n    Root/A: { billing: absent }\n".to_owned()),
        Just("  exclude: [\"111111111111\", 2]\n".to_owned()),
        Just("  \"111111111111\":\n".to_owned()),
        Just("  011111111111:\n".to_owned()),
        Just("    security: team\n".to_owned()),
        Just(
            "    billing: { name: a, title: b, email_address: a@b.co, phone_number: \"1\" }\n"
                .to_owned()
        ),
        Just("  team: { name: a, title: b, email_address: x, phone_number: 1 }\n".to_owned()),
        Just("safety: { max_deletes: -3 }\n".to_owned()),
        Just("rate: { get: 0.5 }\n".to_owned()),
        "[ -~\n\t]{0,20}".prop_map(|s| s),
        "[a-z_]{1,8}: [a-z0-9{}\\[\\],:'\" ]{0,12}\n".prop_map(|s| s),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_loader_never_panics_on_arbitrary_text(text in "\\PC{0,200}") {
        let _ = LoadedConfig::parse("fuzz.yaml", text);
    }

    #[test]
    fn the_loader_never_panics_on_near_valid_files(pieces in prop::collection::vec(fragment(), 0..12)) {
        let text = pieces.concat();
        if let Ok(loaded) = LoadedConfig::parse("fuzz.yaml", text) {
            let _ = loaded.resolve(None, &altcontacts::model::AccountId::parse("123456789012").unwrap());
        }
    }

    #[test]
    fn a_desired_state_planned_against_itself_is_empty(desired in desired_state()) {
        let live = Live {
            slots: desired.slots.iter().map(|(slot, want)| (slot.clone(), want.wanted.contact().cloned())).collect(),
            ..Live::default()
        };
        let plan = altcontacts::plan::diff(&desired, &live);
        prop_assert_eq!(plan.changes.len(), 0);
        prop_assert_eq!(plan.summary().unchanged, desired.slots.len());
    }
}

fn contact() -> impl Strategy<Value = Contact> {
    (
        "[A-Za-z ]{1,10}",
        "[A-Za-z]{1,8}",
        "[a-z]{1,6}@[a-z]{1,6}\\.com",
        "[0-9 +()-]{1,12}",
    )
        .prop_map(|(name, title, email_address, phone_number)| Contact {
            name,
            title,
            email_address,
            phone_number,
        })
}

fn desired_state() -> impl Strategy<Value = Desired> {
    let wanted = prop_oneof![
        Just(Wanted::Absent),
        contact().prop_map(|contact| Wanted::Present(Value::Alternate(contact)))
    ];
    prop::collection::btree_map((1u64..50, 0usize..3), wanted, 0..40).prop_map(|slots| {
        let mut desired = Desired::default();
        let slots: BTreeMap<Slot, DesiredSlot> = slots
            .into_iter()
            .map(|((account, kind), wanted)| {
                let id = AccountId::parse(&format!("{account:012}")).expect("12 digits");
                let slot = Slot::new(id.clone(), ContactType::ALTERNATES[kind]);
                (
                    slot,
                    DesiredSlot {
                        wanted,
                        source: Source::Account { account_id: id },
                        contact_name: None,
                        reviewed: None,
                        notices: None,
                    },
                )
            })
            .collect();
        desired.slots = slots;
        desired
    })
}

/// Contacts whose names collide once made into named-contact keys: "Ops
/// Team" with three addresses, "Ops Team 2", "ops-team", "Absent".
fn colliding_contact() -> impl Strategy<Value = Contact> {
    (
        prop::sample::select(vec![
            "Ops Team",
            "Ops Team 2",
            "ops-team",
            "Absent",
            "Sécurité",
        ]),
        prop::sample::select(vec!["Ops", "Security"]),
        prop::sample::select(vec!["a@example.com", "b@example.com", "c@example.com"]),
        prop::sample::select(vec!["+1 202 555 0100", "+44 20 7946 0000"]),
    )
        .prop_map(|(name, title, email, phone)| Contact {
            name: name.into(),
            title: title.into(),
            email_address: email.into(),
            phone_number: phone.into(),
        })
}

/// Primary contacts whose full names collide once made into names.
fn colliding_primary() -> impl Strategy<Value = PrimaryContact> {
    (
        prop::sample::select(vec!["Example Corp", "Example Corp 2", "example-corp"]),
        prop::sample::select(vec!["Seattle", "Portland"]),
    )
        .prop_map(|(name, city)| PrimaryContact {
            full_name: name.into(),
            address_line_1: "1 Main Street".into(),
            city: city.into(),
            state_or_region: Some("WA".into()),
            postal_code: "98101".into(),
            country_code: "US".into(),
            phone_number: "+1 206 555 0100".into(),
            ..PrimaryContact::default()
        })
}

/// A live state: some accounts, each slot empty or holding a contact, and
/// a primary contact or none.
fn live_state() -> impl Strategy<Value = (Vec<AccountId>, Live)> {
    prop::collection::vec(
        (
            prop::collection::vec(prop::option::of(colliding_contact()), 3),
            prop::option::of(colliding_primary()),
        ),
        1..7,
    )
    .prop_map(|accounts| {
        let mut live = Live::default();
        let mut ids = Vec::new();
        for (n, (slots, primary)) in accounts.into_iter().enumerate() {
            let id = AccountId::parse(&format!("{:012}", 100_000_000_000u64 + n as u64))
                .expect("12 digits");
            for (kind, contact) in ContactType::ALTERNATES.into_iter().zip(slots) {
                live.slots
                    .insert(Slot::new(id.clone(), kind), contact.map(Value::Alternate));
            }
            live.slots.insert(
                Slot::new(id.clone(), ContactType::Primary),
                primary.map(|primary| Value::Primary(Box::new(primary))),
            );
            ids.push(id);
        }
        (ids, live)
    })
}

fn organization_of(ids: &[AccountId]) -> Organization {
    Organization {
        management_account: ids[0].clone(),
        root: OrgUnit {
            id: "r-test".into(),
            name: "Root".into(),
            children: Vec::new(),
        },
        accounts: ids
            .iter()
            .map(|id| OrgAccount {
                id: id.clone(),
                name: id.to_string(),
                status: AccountStatus::Active,
                parents: vec!["r-test".into()],
                joined: None,
                email: None,
            })
            .collect(),
        whole: true,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// What `export` writes, planned against the state it was exported
    /// from, changes nothing: no contact is assigned to the wrong slot, and
    /// none is left out (a contact left out would plan to nothing too, its
    /// slot no longer managed, so every one must be matched).
    #[test]
    fn an_export_plans_to_no_changes((ids, live) in live_state(), org in any::<bool>()) {
        let file = altcontacts::export::build(&live, &ids, org);
        let text = altcontacts::config::yaml::to_string(&file);
        let loaded = LoadedConfig::parse("exported.yaml", text.clone())
            .unwrap_or_else(|error| panic!("{error}\n{text}"));
        let organization = organization_of(&ids);
        let desired = loaded
            .resolve(org.then_some(&organization), &ids[0])
            .unwrap_or_else(|error| panic!("{error}\n{text}"));
        let plan = altcontacts::plan::diff(&desired, &live);
        prop_assert_eq!(plan.changes.len(), 0, "{}", text);
        // Every managed slot was read and matched, and every contact set
        // is among them.
        prop_assert_eq!(plan.unchanged.len(), desired.slots.len(), "{}", text);
        for (slot, value) in &live.slots {
            if value.is_some() {
                prop_assert!(desired.slots.contains_key(slot), "{} is not exported: {}", slot, text);
            }
        }
    }
}
