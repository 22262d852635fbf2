//! An AnchorProvider whose transactions that fail on chain (after a passing or skipped preflight) still carry
//! their program error and logs. Anchor 0.32 rebuilds such failures with web3.js ≥ 1.95's old
//! `SendTransactionError(message, logs)` signature, which that constructor no longer accepts: the error then reads
//! "Unknown action 'undefined'" with no logs, and nobody can tell a lost race from a bug.
import { AnchorProvider, utils } from "@coral-xyz/anchor";
import {
  type BlockhashWithExpiryBlockHeight,
  type ConfirmOptions,
  type Connection,
  SendTransactionError,
  type Signer,
  type Transaction,
  type VersionedTransaction,
} from "@solana/web3.js";

/** The wallet `AnchorProvider` takes (a keypair wallet or a browser wallet adapter). */
export type ProviderWallet = ConstructorParameters<typeof AnchorProvider>[1];

const isVersioned = (tx: Transaction | VersionedTransaction): tx is VersionedTransaction => "version" in tx;

/** `AnchorProvider` with a `sendAndConfirm` whose on-chain failures are `SendTransactionError`s with logs. */
export class VerityAnchorProvider extends AnchorProvider {
  constructor(connection: Connection, wallet: ProviderWallet, opts: ConfirmOptions = { commitment: "confirmed" }) {
    super(connection, wallet, opts);
  }

  /** Prepares and signs exactly as `AnchorProvider` does; confirms by blockhash expiry. */
  override async sendAndConfirm(tx: Transaction | VersionedTransaction, signers?: Signer[], opts?: ConfirmOptions): Promise<string> {
    const o = opts ?? this.opts;
    let blockhash: BlockhashWithExpiryBlockHeight | undefined;
    if (isVersioned(tx)) {
      if (signers) tx.sign(signers);
    } else {
      tx.feePayer = tx.feePayer ?? this.wallet.publicKey;
      blockhash = await this.connection.getLatestBlockhash(o.preflightCommitment);
      tx.recentBlockhash = blockhash.blockhash;
      for (const s of signers ?? []) tx.partialSign(s);
    }
    const signed = await this.wallet.signTransaction(tx);
    const first = isVersioned(signed) ? signed.signatures[0] : signed.signature;
    if (!first) throw new Error("the wallet returned an unsigned transaction");
    const signature = utils.bytes.bs58.encode(first);
    // A failing preflight throws web3.js's own SendTransactionError (with the simulation's logs) here.
    await this.connection.sendRawTransaction(signed.serialize(), {
      skipPreflight: o.skipPreflight,
      preflightCommitment: o.preflightCommitment ?? o.commitment,
      maxRetries: o.maxRetries,
      minContextSlot: o.minContextSlot,
    });
    const status = blockhash
      ? await this.connection.confirmTransaction({ signature, ...blockhash }, o.commitment)
      : await this.connection.confirmTransaction(signature, o.commitment);
    if (status.value.err) {
      const failed = await this.connection.getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
      throw new SendTransactionError({
        action: "send",
        signature,
        transactionMessage: `failed on chain: ${JSON.stringify(status.value.err)}`,
        logs: failed?.meta?.logMessages ?? undefined,
      });
    }
    return signature;
  }
}
