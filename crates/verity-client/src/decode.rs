//! Which Verity instruction a transaction carried: the name of an instruction from its data's discriminator
//! (for ledger statistics and logs).

/// `(discriminator, name)` of every instruction of the program (generated from `lib.rs` by build.rs; the
/// discriminators are the program's own `instruction` types').
pub const INSTRUCTIONS: &[(&[u8], &str)] = include!(concat!(env!("OUT_DIR"), "/verity_instructions.rs"));

/// The snake_case name of the Verity instruction whose data is `data`, if it is one.
pub fn instruction_name(data: &[u8]) -> Option<&'static str> {
    INSTRUCTIONS.iter().find(|(d, _)| data.starts_with(d)).map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use {super::*, anchor_lang::InstructionData, verity::instruction as i};

    #[test]
    fn every_dispatched_instruction_is_named_by_its_discriminator() {
        assert_eq!(instruction_name(&i::FinalizeRequest {}.data()), Some("finalize_request"));
        assert_eq!(instruction_name(&i::CommitDispute { commitment: [7; 32] }.data()), Some("commit_dispute"));
        assert_eq!(instruction_name(&[0; 8]), None);
        let idl: serde_json::Value =
            serde_json::from_str(include_str!("../../../sdk/src/idl/verity.json")).expect("the IDL parses");
        let names: Vec<&str> = idl["instructions"]
            .as_array()
            .expect("instructions")
            .iter()
            .map(|x| x["name"].as_str().expect("name"))
            .collect();
        assert_eq!(names.len(), INSTRUCTIONS.len(), "one table entry per IDL instruction");
        for (d, name) in INSTRUCTIONS {
            let ix = idl["instructions"].as_array().expect("instructions").iter().find(|x| x["name"] == *name);
            let disc: Vec<u8> = ix.expect(name)["discriminator"]
                .as_array()
                .expect("discriminator")
                .iter()
                .map(|b| b.as_u64().expect("byte") as u8)
                .collect();
            assert_eq!(&disc[..], *d, "{name}");
        }
    }
}
