//! The example consumer program (`programs/verity-consumer`) as a second builtin, and its instruction builders.
use {
    crate::{fixture::Protocol, pda},
    anchor_lang::{prelude::Pubkey, InstructionData, ToAccountMetas},
    solana_instruction::Instruction,
};

verity_native::anchor_builtin!(pub ConsumerBuiltin, consumer_process_instruction, verity_consumer::entry);

/// The consumer's agent PDA (Verity requester).
pub fn agent() -> Pubkey {
    Pubkey::find_program_address(&[verity_consumer::AGENT_SEED], &verity_consumer::ID).0
}

/// The consumer's Answer PDA for a Verity request.
pub fn answer(request: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[verity_consumer::ANSWER_SEED, request.as_ref()], &verity_consumer::ID).0
}

impl Protocol {
    /// `verity_consumer::ask`: the user funds a Verity request made by the agent PDA through CPI.
    #[allow(clippy::too_many_arguments)]
    pub fn ix_consumer_ask(
        &self,
        user: &Pubkey,
        model: usize,
        nonce: u64,
        prompt: &str,
        max_tokens: u32,
        fee: u64,
        capacity: u32,
    ) -> Instruction {
        let request = pda::request(&agent(), nonce);
        Instruction {
            program_id: verity_consumer::ID,
            accounts: verity_consumer::accounts::Ask {
                user: *user,
                agent: agent(),
                answer: answer(&request),
                verity_config: pda::config(),
                model: self.models[model].key,
                request,
                output: pda::output(&request),
                verity_program: verity::ID,
                system_program: anchor_lang::system_program::ID,
            }
            .to_account_metas(None),
            data: verity_consumer::instruction::Ask {
                nonce,
                prompt: prompt.as_bytes().to_vec(),
                max_tokens,
                fee,
                output_capacity: capacity,
            }
            .data(),
        }
    }

    /// `verity_consumer::reclaim`: closes the agent's finished Verity request and returns the rents to the asker.
    pub fn ix_consumer_reclaim(&self, asker: &Pubkey, request: &Pubkey) -> Instruction {
        Instruction {
            program_id: verity_consumer::ID,
            accounts: verity_consumer::accounts::Reclaim {
                asker: *asker,
                agent: agent(),
                answer: answer(request),
                verity_config: pda::config(),
                request: *request,
                output: pda::output(request),
                dispute: pda::dispute(request),
                verity_program: verity::ID,
                system_program: anchor_lang::system_program::ID,
            }
            .to_account_metas(None),
            data: verity_consumer::instruction::Reclaim {}.data(),
        }
    }

    /// `verity_consumer::on_result` called directly (not through Verity): must be refused.
    pub fn ix_consumer_on_result(&self, signer: &Pubkey, request: &Pubkey, winning_hash: [u8; 32]) -> Instruction {
        Instruction {
            program_id: verity_consumer::ID,
            accounts: verity_consumer::accounts::OnResult {
                callback_authority: *signer,
                request: *request,
                output: pda::output(request),
                answer: answer(request),
            }
            .to_account_metas(None),
            data: verity_consumer::instruction::OnResult { winning_hash }.data(),
        }
    }
}
