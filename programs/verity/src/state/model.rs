//! `Model`: a registered model, its reproducibility profile hash, price and limits.
use {crate::constants::*, crate::errors::VerityError, anchor_lang::prelude::*};

/// Owner-set fields of a model (`register_model` / `update_model`).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ModelParams {
    /// Human-readable name, 1..=32 bytes.
    pub name: String,
    /// sha256 of the canonical profile serialization (see PROTOCOL.md "Model profile").
    pub profile_hash: [u8; 32],
    /// Lamports per output token; a request's fee must be ≥ price × max_tokens.
    pub price_per_token: u64,
    /// Largest prompt (1..=9216 bytes: `MAX_LONG_PROMPT_BYTES`); inline prompts are further capped at
    /// `MAX_PROMPT_BYTES` (640), longer ones come in a `Prompt` account.
    pub max_input_bytes: u32,
    /// Largest `max_tokens` a request may ask for (1..=8192).
    pub max_output_tokens: u32,
    /// Share of each fee paid to the model owner (≤ 5000 bps).
    pub royalty_bps: u16,
    /// Parameter count of the weights (for like-for-like receipts: ≈FLOPs = 2 × params × tokens); 0 = unknown.
    pub param_count: u64,
}

impl ModelParams {
    /// Rejects out-of-range fields.
    pub fn validate(&self) -> Result<()> {
        require!(!self.name.is_empty() && self.name.len() <= MAX_NAME_LEN, VerityError::InvalidModelName);
        require!(
            self.max_input_bytes >= 1
                && self.max_input_bytes <= MAX_LONG_PROMPT_BYTES
                && self.max_output_tokens >= 1
                && self.max_output_tokens <= MAX_OUTPUT_TOKENS,
            VerityError::InvalidModelLimits
        );
        require!(self.royalty_bps <= MAX_FEE_SHARE_BPS, VerityError::InvalidBps);
        Ok(())
    }
}

#[account]
#[derive(InitSpace, Debug)]
pub struct Model {
    /// Receives royalties; may update or deactivate the model.
    pub owner: Pubkey,
    /// Chosen by the owner; PDA seed [`MODEL_SEED`, model_id LE].
    pub model_id: u64,
    /// Bit position in operators' served-models bitmaps (< 64), assigned at registration.
    pub index: u8,
    #[max_len(32)]
    pub name: String,
    pub profile_hash: [u8; 32],
    pub price_per_token: u64,
    pub max_input_bytes: u32,
    pub max_output_tokens: u32,
    pub royalty_bps: u16,
    /// Parameter count of the weights (0 = unknown).
    pub param_count: u64,
    /// Inactive models take no new requests (one-way: `deactivate_model`).
    pub active: bool,
    /// Requests submitted for this model.
    pub request_count: u64,
    pub bump: u8,
}

impl Model {
    /// Copies validated params into the model.
    pub fn apply(&mut self, p: &ModelParams) -> Result<()> {
        p.validate()?;
        self.name = p.name.clone();
        self.profile_hash = p.profile_hash;
        self.price_per_token = p.price_per_token;
        self.max_input_bytes = p.max_input_bytes;
        self.max_output_tokens = p.max_output_tokens;
        self.royalty_bps = p.royalty_bps;
        self.param_count = p.param_count;
        Ok(())
    }

    /// Bit of this model in a served-models bitmap.
    pub fn bit(&self) -> u64 {
        1u64.checked_shl(u32::from(self.index)).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> ModelParams {
        ModelParams {
            name: "smollm2-135m".into(),
            profile_hash: [7; 32],
            price_per_token: 10,
            max_input_bytes: 640,
            max_output_tokens: 64,
            royalty_bps: 1000,
            param_count: 134_515_008,
        }
    }

    #[test]
    fn validation() {
        assert!(params().validate().is_ok());
        let e = |p: ModelParams| p.validate().unwrap_err();
        assert_eq!(e(ModelParams { name: String::new(), ..params() }), VerityError::InvalidModelName.into());
        assert_eq!(e(ModelParams { name: "x".repeat(33), ..params() }), VerityError::InvalidModelName.into());
        let over = MAX_LONG_PROMPT_BYTES + 1;
        assert_eq!(e(ModelParams { max_input_bytes: over, ..params() }), VerityError::InvalidModelLimits.into());
        assert!(ModelParams { max_input_bytes: MAX_LONG_PROMPT_BYTES, ..params() }.validate().is_ok());
        assert_eq!(e(ModelParams { max_output_tokens: 0, ..params() }), VerityError::InvalidModelLimits.into());
        assert_eq!(e(ModelParams { royalty_bps: 5001, ..params() }), VerityError::InvalidBps.into());
    }
}
