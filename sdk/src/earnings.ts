//! Operator earnings: a member authority's unclaimed rewards in every finalized Request (first round, after the
//! dispute window) and resolved Dispute (second round, at once), and "Claim all": the claims batched
//! `CLAIMS_PER_TX` to a transaction. Claims are permissionless (the lamports always go to the member's authority),
//! so any wallet may pay for them.
import type { IdlAccounts, Program } from "@coral-xyz/anchor";
import { type PublicKey, Transaction, type TransactionInstruction } from "@solana/web3.js";
import type { Verity } from "./idl";
import { claimReward } from "./cranks";
import { variant } from "./protocol";

/** `claim_reward` / `claim_dispute_reward` instructions per transaction (8 with distinct escrows: ~600 of 1232 bytes). */
export const CLAIMS_PER_TX = 8;

type U64 = { toString(): string };
type Member = { operator: PublicKey; reward: U64; claimed: boolean };
type RequestAccount = IdlAccounts<Verity>["request"];
type DisputeAccount = IdlAccounts<Verity>["dispute"];
/** An account as `program.account.<name>.all()` lists it. */
export interface ListedAccount<T> {
  publicKey: PublicKey;
  account: T;
}

/** The fields of a Request that decide when its first-round rewards unlock. */
export interface UnlockFields {
  round: number;
  finalizedSlot: U64;
  terms: { disputeWindow: U64 };
}

/**
 * First slot `claim_reward` pays at (Rust `Request::unlock_slot`): the end of the dispute window, or the
 * resolution slot once a second round has run (`round > 0`; `finalized_slot` is then the resolution's).
 */
export function unlockSlot(request: UnlockFields): number {
  const finalized = Number(request.finalizedSlot.toString());
  return request.round > 0 ? finalized : finalized + Number(request.terms.disputeWindow.toString());
}

/** One unclaimed reward of an authority. */
export interface Earning {
  /** The request the reward was earned on. */
  request: PublicKey;
  /** The Dispute account escrowing a second-round reward; `null` for a first-round one (escrowed by the Request). */
  dispute: PublicKey | null;
  /** Lamports. */
  amount: bigint;
  /** First slot the claim succeeds at. */
  unlockSlot: number;
  round: "first" | "second";
}

const owed = (members: Member[], authority: PublicKey) =>
  members.filter((m) => m.operator.equals(authority) && !m.claimed && BigInt(m.reward.toString()) > 0n);

/**
 * The unclaimed rewards of `authority` in decoded accounts: members of a Finalized request's first committee
 * (a Disputed one is locked until the verdict, and nothing else pays) and of a Resolved dispute's committee,
 * with reward > 0 and not claimed. Sorted by unlock slot.
 */
export function earningsFrom(
  authority: PublicKey,
  requests: ListedAccount<RequestAccount>[],
  disputes: ListedAccount<DisputeAccount>[] = [],
): Earning[] {
  const out: Earning[] = [];
  for (const { publicKey, account: r } of requests) {
    if (variant(r.status) !== "finalized") continue;
    const unlock = unlockSlot(r);
    for (const m of owed(r.committee.members, authority)) {
      out.push({ request: publicKey, dispute: null, amount: BigInt(m.reward.toString()), unlockSlot: unlock, round: "first" });
    }
  }
  for (const { publicKey, account: d } of disputes) {
    if (variant(d.phase) !== "resolved") continue;
    const unlock = Number(d.resolvedSlot.toString());
    for (const m of owed(d.committee.members, authority)) {
      out.push({ request: d.request, dispute: publicKey, amount: BigInt(m.reward.toString()), unlockSlot: unlock, round: "second" });
    }
  }
  return out.sort((a, b) => a.unlockSlot - b.unlockSlot);
}

/** Every unclaimed reward of `authority` (a committee member's signing wallet), read from all Request and Dispute accounts. */
export async function earningsOf(program: Program<Verity>, authority: PublicKey): Promise<Earning[]> {
  const [requests, disputes] = await Promise.all([program.account.request.all(), program.account.dispute.all()]);
  return earningsFrom(authority, requests, disputes);
}

/** The earnings a claim sent at `slot` collects. */
export function claimableAt(earnings: Earning[], slot: number): Earning[] {
  return earnings.filter((e) => e.unlockSlot <= slot);
}

/** Total lamports of `earnings`. */
export function earningsTotal(earnings: Earning[]): bigint {
  return earnings.reduce((n, e) => n + e.amount, 0n);
}

/** The `claim_reward` (or, for a second-round reward, `claim_dispute_reward`) instruction paying `earning` to `authority`. */
export function claimInstruction(program: Program<Verity>, authority: PublicKey, earning: Earning): Promise<TransactionInstruction> {
  return earning.dispute
    ? program.methods.claimDisputeReward().accountsPartial({ operator: authority, dispute: earning.dispute }).instruction()
    : claimReward(program, earning.request, authority).instruction();
}

/** The claims of `claimable`, `CLAIMS_PER_TX` to a transaction, in order; `payer` (if given) as fee payer. */
export async function claimTransactions(program: Program<Verity>, authority: PublicKey, claimable: Earning[], payer?: PublicKey): Promise<Transaction[]> {
  const ixs = await Promise.all(claimable.map((e) => claimInstruction(program, authority, e)));
  const txs: Transaction[] = [];
  for (let i = 0; i < ixs.length; i += CLAIMS_PER_TX) {
    const tx = new Transaction().add(...ixs.slice(i, i + CLAIMS_PER_TX));
    if (payer) tx.feePayer = payer;
    txs.push(tx);
  }
  return txs;
}

export interface ClaimResult {
  /** One per transaction sent, in order. */
  signatures: string[];
  /** Rewards claimed. */
  claimed: number;
  /** Lamports paid to the authority. */
  lamports: bigint;
}

/**
 * "Claim all": every reward of `authority` unlocked at the current slot, claimed in `CLAIMS_PER_TX`-claim
 * transactions paid and signed by the program's provider wallet (any wallet). Sent one after another; the first
 * failure is thrown as the provider threw it (so `explainError` names it, e.g. `AlreadyClaimed` when a node
 * claimed one first), after the transactions before it have landed.
 */
export async function claimEarnings(program: Program<Verity>, authority: PublicKey): Promise<ClaimResult> {
  const provider = program.provider;
  if (!provider.sendAndConfirm || !provider.publicKey) throw new Error("claimEarnings needs a provider with a wallet (sendAndConfirm)");
  const [slot, earnings] = await Promise.all([provider.connection.getSlot(), earningsOf(program, authority)]);
  const ready = claimableAt(earnings, slot);
  const txs = await claimTransactions(program, authority, ready, provider.publicKey);
  const result: ClaimResult = { signatures: [], claimed: 0, lamports: 0n };
  for (const [i, tx] of txs.entries()) {
    result.signatures.push(await provider.sendAndConfirm(tx));
    const batch = ready.slice(i * CLAIMS_PER_TX, (i + 1) * CLAIMS_PER_TX);
    result.claimed += batch.length;
    result.lamports += earningsTotal(batch);
  }
  return result;
}
