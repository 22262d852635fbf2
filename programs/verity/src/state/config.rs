//! `Config`: the singleton protocol parameters, the stake mint/vault and the treasury.
use {crate::constants::*, crate::errors::VerityError, anchor_lang::prelude::*};

/// Protocol parameters set by the authority at `initialize_config` / `update_config`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct ConfigParams {
    /// Share of each fee paid to the treasury (≤ 5000 bps).
    pub protocol_fee_bps: u16,
    /// Share of (stake + unbonding) taken from an operator per fault (≤ 10000 bps).
    pub slash_bps: u16,
    /// Share of slashed stake that goes to the treasury; the rest is credited to the majority (≤ 10000 bps).
    pub slash_treasury_bps: u16,
    /// Committee size `k` (1..=7).
    pub committee_size: u8,
    /// Slots after `submit_slot` within which a committee must be assigned; afterwards the request may expire.
    pub assign_window: u64,
    /// Slots after assignment for members to commit.
    pub commit_window: u64,
    /// Slots after the commit phase closes for members to reveal.
    pub reveal_window: u64,
    /// Slots after finalization during which rewards stay locked (disputes, part 2).
    pub dispute_window: u64,
    /// Slots between `request_unstake` and the earliest `withdraw_stake`.
    pub unbonding_slots: u64,
    /// Least stake (token base units) to be drawn into a committee.
    pub min_stake: u64,
    /// Lamports a challenger posts to open a dispute (part 2; stored now).
    pub dispute_bond: u64,
}

impl ConfigParams {
    /// Rejects out-of-range parameters.
    pub fn validate(&self) -> Result<()> {
        require!(self.protocol_fee_bps <= MAX_FEE_SHARE_BPS, VerityError::InvalidBps);
        require!(u64::from(self.slash_bps) <= BPS_DENOMINATOR, VerityError::InvalidBps);
        require!(u64::from(self.slash_treasury_bps) <= BPS_DENOMINATOR, VerityError::InvalidBps);
        require!(
            self.committee_size >= 1 && self.committee_size <= MAX_COMMITTEE_SIZE,
            VerityError::InvalidCommitteeSize
        );
        require!(
            self.assign_window > 0
                && self.commit_window > 0
                && self.reveal_window > 0
                && self.unbonding_slots > 0
                && self.min_stake > 0,
            VerityError::InvalidWindow
        );
        Ok(())
    }
}

#[account]
#[derive(InitSpace, Debug)]
pub struct Config {
    /// May update parameters and pause. Cannot move users' funds.
    pub authority: Pubkey,
    /// SPL mint of the stake token.
    pub stake_mint: Pubkey,
    /// Token account PDA [`STAKE_VAULT_SEED`] holding all stake; its authority is this Config PDA.
    pub stake_vault: Pubkey,
    /// Receives protocol fees and fee remainders (lamports).
    pub treasury: Pubkey,
    /// Token account (stake mint) receiving the treasury share of slashed stake.
    pub treasury_stake: Pubkey,
    pub params: ConfigParams,
    /// New requests, models, operators and stake are refused while paused; in-flight work completes.
    pub paused: bool,
    /// Models registered so far; the next model gets this as its `index`.
    pub model_count: u16,
    /// Requests submitted so far (statistics).
    pub request_count: u64,
    pub bump: u8,
    pub vault_bump: u8,
}

impl Config {
    /// Fails with `ProtocolPaused` when paused.
    pub fn require_not_paused(&self) -> Result<()> {
        require!(!self.paused, VerityError::ProtocolPaused);
        Ok(())
    }

    /// Registry update parameters at slot `now`.
    pub fn registry_clock(&self, now: u64) -> crate::state::RegistryClock {
        crate::state::RegistryClock { now, assign_window: self.params.assign_window, min_stake: self.params.min_stake }
    }

    /// Takes the next model index, failing when all `MAX_MODELS` are used.
    pub fn next_model_index(&mut self) -> Result<u8> {
        require!(self.model_count < MAX_MODELS, VerityError::ModelLimitReached);
        let index = u8::try_from(self.model_count).map_err(|_| VerityError::MathOverflow)?;
        self.model_count = self.model_count.checked_add(1).ok_or(VerityError::MathOverflow)?;
        Ok(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn params() -> ConfigParams {
        ConfigParams {
            protocol_fee_bps: 500,
            slash_bps: 1000,
            slash_treasury_bps: 5000,
            committee_size: 3,
            assign_window: 10,
            commit_window: 10,
            reveal_window: 10,
            dispute_window: 10,
            unbonding_slots: 10,
            min_stake: 1,
            dispute_bond: 0,
        }
    }

    #[test]
    fn params_validation() {
        assert!(params().validate().is_ok());
        let bad = [
            ConfigParams { protocol_fee_bps: 5001, ..params() },
            ConfigParams { slash_bps: 10_001, ..params() },
            ConfigParams { slash_treasury_bps: 10_001, ..params() },
        ];
        for p in bad {
            assert_eq!(p.validate().unwrap_err(), VerityError::InvalidBps.into());
        }
        for k in [0u8, 8] {
            let p = ConfigParams { committee_size: k, ..params() };
            assert_eq!(p.validate().unwrap_err(), VerityError::InvalidCommitteeSize.into());
        }
        let p = ConfigParams { commit_window: 0, ..params() };
        assert_eq!(p.validate().unwrap_err(), VerityError::InvalidWindow.into());
    }

    #[test]
    fn model_indices_run_out_at_64() {
        let mut c = Config {
            authority: Pubkey::default(),
            stake_mint: Pubkey::default(),
            stake_vault: Pubkey::default(),
            treasury: Pubkey::default(),
            treasury_stake: Pubkey::default(),
            params: params(),
            paused: false,
            model_count: 0,
            request_count: 0,
            bump: 0,
            vault_bump: 0,
        };
        for i in 0..64u8 {
            assert_eq!(c.next_model_index().unwrap(), i);
        }
        assert_eq!(c.next_model_index().unwrap_err(), VerityError::ModelLimitReached.into());
        assert_eq!(c.model_count, 64);
    }
}
