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

/// The terms of a request that decide its money and deadlines, snapshotted from the config at submit: later
/// `update_config` calls apply only to later requests.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace)]
pub struct RequestTerms {
    pub slash_bps: u16,
    pub slash_treasury_bps: u16,
    pub commit_window: u64,
    pub reveal_window: u64,
    pub dispute_window: u64,
    /// Least stake a member of this request's committees must have in force.
    pub min_stake: u64,
}

impl ConfigParams {
    /// The terms a request submitted now gets.
    pub fn terms(&self) -> RequestTerms {
        RequestTerms {
            slash_bps: self.slash_bps,
            slash_treasury_bps: self.slash_treasury_bps,
            commit_window: self.commit_window,
            reveal_window: self.reveal_window,
            dispute_window: self.dispute_window,
            min_stake: self.min_stake,
        }
    }

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
        let windows =
            [self.assign_window, self.commit_window, self.reveal_window, self.dispute_window, self.unbonding_slots];
        require!(windows.iter().all(|w| *w <= MAX_WINDOW_SLOTS), VerityError::InvalidWindow);
        Ok(())
    }

    /// Rejects a change `update_config` may not make: `assign_window` sets the registry's activation delay and
    /// the history it keeps, so it is fixed at `initialize_config`.
    pub fn validate_update(&self, old: &ConfigParams) -> Result<()> {
        self.validate()?;
        require!(self.assign_window == old.assign_window, VerityError::ParameterImmutable);
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
    /// The smallest `min_stake` in force at any slot ≥ `removal_floor_until − assign_window`: until that slot,
    /// registry removal treats stake below it (not below a raised min stake) as undrawable, since requests and
    /// disputes drawn with the older, lower min stake may still be assigned.
    pub removal_floor: u64,
    pub removal_floor_until: u64,
}

impl Config {
    /// Fails with `ProtocolPaused` when paused.
    pub fn require_not_paused(&self) -> Result<()> {
        require!(!self.paused, VerityError::ProtocolPaused);
        Ok(())
    }

    /// Registry update parameters at slot `now`.
    pub fn registry_clock(&self, now: u64) -> crate::state::RegistryClock {
        crate::state::RegistryClock {
            now,
            assign_window: self.params.assign_window,
            min_stake: self.removal_min_stake(now),
        }
    }

    /// The min stake below which registry removal may treat an entry as undrawable at `now`.
    pub fn removal_min_stake(&self, now: u64) -> u64 {
        if now <= self.removal_floor_until {
            self.params.min_stake.min(self.removal_floor)
        } else {
            self.params.min_stake
        }
    }

    /// Replaces the parameters at `now` (validated by the caller), remembering the old min stake for as long as
    /// draws made under it may still be assigned.
    pub fn set_params(&mut self, params: ConfigParams, now: u64) -> Result<()> {
        if params.min_stake != self.params.min_stake {
            self.removal_floor = self.removal_min_stake(now).min(self.params.min_stake);
            self.removal_floor_until = now.checked_add(self.params.assign_window).ok_or(VerityError::MathOverflow)?;
        }
        self.params = params;
        Ok(())
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
        let p = ConfigParams { dispute_window: MAX_WINDOW_SLOTS + 1, ..params() };
        assert_eq!(p.validate().unwrap_err(), VerityError::InvalidWindow.into());
        let p = ConfigParams { assign_window: 11, ..params() };
        assert_eq!(p.validate_update(&params()).unwrap_err(), VerityError::ParameterImmutable.into());
        assert!(ConfigParams { min_stake: 9, ..params() }.validate_update(&params()).is_ok());
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
            removal_floor: 0,
            removal_floor_until: 0,
        };
        for i in 0..64u8 {
            assert_eq!(c.next_model_index().unwrap(), i);
        }
        assert_eq!(c.next_model_index().unwrap_err(), VerityError::ModelLimitReached.into());
        assert_eq!(c.model_count, 64);
    }
}
