//! Program error codes as clients see them: the custom code a failed transaction carried, and its name.
use {solana_instruction::error::InstructionError, solana_transaction_error::TransactionError};

/// `(name, message)` of every `VerityError`, in code order (generated from the program's enum by build.rs).
pub const VERITY_ERRORS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/verity_errors.rs"));
/// Code of the first `VerityError` (Anchor's custom error offset).
pub const VERITY_ERROR_BASE: u32 = 6000;

/// The `VerityError` variant name of `code`, if it is one.
pub fn verity_error(code: u32) -> Option<(&'static str, &'static str)> {
    let i = usize::try_from(code.checked_sub(VERITY_ERROR_BASE)?).ok()?;
    VERITY_ERRORS.get(i).copied()
}

/// A program error code as text: `VerityError::StakeLocked (6076)`, or Anchor's framework error number.
pub fn error_name(code: u32) -> String {
    match verity_error(code) {
        Some((name, _)) => format!("VerityError::{name} ({code})"),
        None => format!("Anchor/framework error {code}"),
    }
}

/// The custom program error code (`ProgramError::Custom`) a failed transaction returned.
pub fn tx_error_code(err: &TransactionError) -> Option<u32> {
    match err {
        TransactionError::InstructionError(_, InstructionError::Custom(code)) => Some(*code),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use {super::*, verity::VerityError as E};

    #[test]
    fn names_and_messages_follow_the_program_enum() {
        for e in [E::Unauthorized, E::PromptTooLarge, E::CommitmentMismatch, E::StakeLocked, E::ModelNotApproved] {
            let (name, msg) = verity_error(u32::from(e)).expect("a VerityError code");
            assert_eq!(name, e.name());
            assert_eq!(msg, e.to_string());
        }
        let last = u32::try_from(VERITY_ERRORS.len()).unwrap() + VERITY_ERROR_BASE - 1;
        assert_eq!(u32::from(E::WrongPromptAccount), last, "the newest error is the table's last entry");
        assert_eq!(verity_error(last + 1), None);
        assert_eq!(verity_error(100), None);
        assert_eq!(
            error_name(u32::from(E::StakeLocked)),
            format!("VerityError::StakeLocked ({})", u32::from(E::StakeLocked))
        );
    }

    #[test]
    fn custom_codes_come_from_instruction_errors_only() {
        assert_eq!(tx_error_code(&TransactionError::InstructionError(1, InstructionError::Custom(6042))), Some(6042));
        assert_eq!(tx_error_code(&TransactionError::AccountNotFound), None);
    }
}
