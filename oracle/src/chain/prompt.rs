//! Long prompts over RPC: the requester puts a prompt longer than an inline one into its `Prompt` account in
//! transaction-sized chunks (resuming after what is already written), and a node reads a request's prompt —
//! inline, or from the `Prompt` account the Request names, checked complete and hashing to `prompt_hash`.
use {
    super::{ix, ChainClient, ChainError},
    anchor_lang::prelude::Pubkey,
    solana_instruction::Instruction,
    solana_keypair::Keypair,
    solana_signer::Signer,
    verity::state::{Prompt, Request},
    verity_client::prompt as vp,
};

/// The most bytes a transaction may have on the wire.
const PACKET_BYTES: usize = 1232;

/// Wire size of a transaction of `ixn` paid and signed by `payer` alone.
fn tx_size(ixn: &Instruction, payer: &Pubkey) -> usize {
    let msg = solana_transaction::Transaction::new_with_payer(std::slice::from_ref(ixn), Some(payer)).message;
    1 + 64 * usize::from(msg.header.num_required_signatures) + msg.serialize().len()
}

/// The largest `write_prompt` chunk of a transaction `owner` pays and signs alone.
pub fn max_chunk(owner: &Pubkey) -> usize {
    let empty = vp::write_prompt(owner, &Pubkey::default(), 0, Vec::new());
    // The data's length prefix grows from 1 to 2 bytes (compact-u16) past 127 bytes.
    PACKET_BYTES.saturating_sub(tx_size(&empty, owner)).saturating_sub(1).max(1)
}

/// Creates `wallet`'s Prompt `nonce` for `bytes` (unless it exists already, with the same length and hash and
/// no request: then resumes) and writes every missing chunk, one transaction each. Returns its address.
pub async fn put(chain: &ChainClient, wallet: &Keypair, nonce: u64, bytes: &[u8]) -> anyhow::Result<Pubkey> {
    let owner = wallet.pubkey();
    let key = verity_client::pda::prompt(&owner, nonce);
    let len = u32::try_from(bytes.len())?;
    let hash = verity::logic::sha256(bytes);
    let from = match chain.account::<Prompt>(&key, "Prompt").await {
        Ok(p) => {
            anyhow::ensure!(
                p.len == len && p.hash == hash && p.request.is_none() && bytes.starts_with(&p.data),
                "Prompt account {key} already holds another prompt"
            );
            p.data.len()
        }
        Err(ChainError::NotFound(_)) => {
            chain.send("create_prompt", &[vp::create_prompt(&owner, nonce, len, hash)], wallet).await?;
            0
        }
        Err(e) => return Err(e.into()),
    };
    let chunks = vp::write_instructions(&owner, &key, bytes, from, max_chunk(&owner));
    let n = chunks.len();
    for (i, w) in chunks.into_iter().enumerate() {
        chain.send("write_prompt", &[w], wallet).await?;
        tracing::debug!(prompt = %key, chunk = i + 1, of = n, "prompt chunk written");
    }
    Ok(key)
}

/// What a node can run for a request.
#[derive(Debug, PartialEq, Eq)]
pub enum RequestPrompt {
    /// The prompt's bytes (inline, or from its checked Prompt account).
    Bytes(Vec<u8>),
    /// Given by hash + URI (`req.prompt_uri`, `req.prompt_hash`): the node fetches it (`node::prompt_fetch`).
    Uri,
    /// The Prompt account the request names is missing, incomplete or does not match the request's hash.
    Unusable(String),
}

/// The prompt of request `key`. Transport errors are returned as such (retry later); a Prompt account that can
/// never serve the request is [`RequestPrompt::Unusable`].
pub async fn of_request(chain: &ChainClient, key: &Pubkey, req: &Request) -> Result<RequestPrompt, ChainError> {
    let Some(account) = req.prompt_account else {
        return Ok(if req.prompt.is_empty() { RequestPrompt::Uri } else { RequestPrompt::Bytes(req.prompt.clone()) });
    };
    match chain.account::<Prompt>(&account, "Prompt").await {
        Ok(p) => Ok(checked(key, req, p)),
        Err(e @ (ChainError::NotFound(_) | ChainError::Decode { .. })) => Ok(RequestPrompt::Unusable(e.to_string())),
        Err(e) => Err(e),
    }
}

/// The bytes of Prompt account `p` if it is complete, attached to request `key` and hashes to its prompt hash.
pub fn checked(key: &Pubkey, req: &Request, p: Prompt) -> RequestPrompt {
    if p.request != Some(*key) {
        return RequestPrompt::Unusable(format!("Prompt account is attached to {:?}, not this request", p.request));
    }
    if p.written != p.len || p.data.len() != p.len as usize {
        return RequestPrompt::Unusable(format!("Prompt account incomplete: {} of {} bytes", p.data.len(), p.len));
    }
    if verity::logic::sha256(&p.data) != req.prompt_hash {
        return RequestPrompt::Unusable("Prompt account bytes do not hash to the request's prompt_hash".into());
    }
    RequestPrompt::Bytes(p.data)
}

/// `submit_request` of `args` with the Prompt account `prompt` (see [`put`]).
pub fn submit_ix(wallet: &Pubkey, model: &Pubkey, args: verity::SubmitRequestArgs, prompt: &Pubkey) -> Instruction {
    ix::submit_with(wallet, model, args, Some(*prompt))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(key: Pubkey, text: &[u8]) -> (Request, Prompt) {
        let mut r: Request = anchor_lang::AnchorDeserialize::deserialize(&mut &[0u8; 4096][..]).unwrap();
        r.prompt_hash = verity::logic::sha256(text);
        let mut p = Prompt::new(Pubkey::new_unique(), 1, text.len() as u32, r.prompt_hash, 255).unwrap();
        p.write(0, text).unwrap();
        p.attach(key).unwrap();
        (r, p)
    }

    #[test]
    fn only_a_complete_matching_attached_prompt_is_used() {
        let key = Pubkey::new_unique();
        let (r, p) = request(key, b"a long prompt");
        assert_eq!(checked(&key, &r, p.clone()), RequestPrompt::Bytes(b"a long prompt".to_vec()));
        assert!(matches!(checked(&Pubkey::new_unique(), &r, p.clone()), RequestPrompt::Unusable(_)));
        let mut short = p.clone();
        short.data.pop();
        short.written -= 1;
        assert!(matches!(checked(&key, &r, short), RequestPrompt::Unusable(w) if w.contains("incomplete")));
        let mut other = p;
        other.data[0] = b'A';
        assert!(matches!(checked(&key, &r, other), RequestPrompt::Unusable(w) if w.contains("hash")));
    }

    #[test]
    fn a_write_chunk_fills_the_packet() {
        let owner = Pubkey::new_unique();
        let n = max_chunk(&owner);
        let full = vp::write_prompt(&owner, &Pubkey::new_unique(), 9_000, vec![7; n]);
        assert!(tx_size(&full, &owner) <= PACKET_BYTES, "{n}");
        assert!(n > 900, "{n}");
    }
}
