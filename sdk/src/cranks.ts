//! Builders for the permissionless / lifecycle instructions that need accounts read from chain first
//! (assign, finalize with its remaining Operator accounts, expire, claim, close). Shared by the app's
//! buttons, the TS integration tests and the test operator driver.
import type { Program } from "@coral-xyz/anchor";
import type { PublicKey } from "@solana/web3.js";
import type { Verity } from "./idl";
import { configPda, operatorPda, outputPda, registryPda, SLOT_HASHES } from "./pda";

async function loadConfig(program: Program<Verity>) {
  return program.account.config.fetch(configPda(program.programId));
}

/** The accounts every committee draw reads (`assign_committee`, `assign_dispute`). */
export function drawAccounts(program: Program<Verity>) {
  return { config: configPda(program.programId), registry: registryPda(program.programId), slotHashes: SLOT_HASHES };
}

export function assignCommittee(program: Program<Verity>, request: PublicKey) {
  return program.methods.assignCommittee().accountsPartial({ draw: drawAccounts(program), request });
}

/** The accounts a settlement of `request`'s rounds pays through (`finalize_request`, `resolve_dispute`). */
export async function payoutAccounts(program: Program<Verity>, request: PublicKey) {
  const [cfg, req] = await Promise.all([loadConfig(program), program.account.request.fetch(request)]);
  const payout = {
    config: configPda(program.programId),
    registry: registryPda(program.programId),
    request,
    requester: req.requester,
    modelOwner: req.modelOwner,
    treasury: cfg.treasury,
    stakeMint: cfg.stakeMint,
    stakeVault: cfg.stakeVault,
    treasuryStake: cfg.treasuryStake,
  };
  return { payout, req };
}

/** `finalize_request` with every member's Operator PDA (writable, in `request.committee.members` order). */
export async function finalizeRequest(program: Program<Verity>, request: PublicKey) {
  const { payout, req } = await payoutAccounts(program, request);
  return program.methods
    .finalizeRequest()
    .accountsPartial({ payout })
    .remainingAccounts(
      req.committee.members.map((m) => ({ pubkey: operatorPda(m.operator, program.programId), isWritable: true, isSigner: false })),
    );
}

export async function expireRequest(program: Program<Verity>, request: PublicKey) {
  const req = await program.account.request.fetch(request);
  return program.methods
    .expireRequest()
    .accountsPartial({ config: configPda(program.programId), request, requester: req.requester });
}

/** `claim_reward` for `member` (its authority wallet receives the lamports). */
export function claimReward(program: Program<Verity>, request: PublicKey, member: PublicKey) {
  return program.methods.claimReward().accountsPartial({ operator: member, request });
}

/** `close_request`; `prompt` = the request's `prompt_account` (its Prompt is closed with it), null when none. */
export function closeRequest(program: Program<Verity>, request: PublicKey, requester: PublicKey, prompt: PublicKey | null = null) {
  return program.methods.closeRequest().accountsPartial({
    requester,
    config: configPda(program.programId),
    request,
    output: outputPda(request, program.programId),
    prompt,
  });
}
