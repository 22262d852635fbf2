//! A local burner wallet for localnet/devnet testing: a keypair kept in this browser's localStorage, exposed as a
//! wallet-adapter wallet so it appears in the same "Select Wallet" list as Phantom and Solflare. Never use it for
//! real funds: the secret key sits unencrypted in the browser.
import {
  BaseSignerWalletAdapter,
  isVersionedTransaction,
  WalletName,
  WalletNotConnectedError,
  WalletReadyState,
  type TransactionOrVersionedTransaction,
} from "@solana/wallet-adapter-base";
import { Keypair, PublicKey, type TransactionVersion } from "@solana/web3.js";

export const BurnerWalletName = "Burner (local, unsafe)" as WalletName<"Burner (local, unsafe)">;
const STORAGE_KEY = "verity.burner.secretKey";
const ICON =
  "data:image/svg+xml;base64," +
  btoa('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#f97316"/><path d="M16 5c3 5 8 8 8 14a8 8 0 0 1-16 0c0-4 2-6 4-8 0 3 1 5 3 5-1-4 0-8 1-11z" fill="#fff"/></svg>');

/** Loads the stored burner keypair, creating and storing one on first use. */
export function loadBurnerKeypair(storage: Storage = localStorage): Keypair {
  const saved = storage.getItem(STORAGE_KEY);
  if (saved) {
    try {
      return Keypair.fromSecretKey(Uint8Array.from(JSON.parse(saved)));
    } catch {
      /* corrupt entry: replace it below */
    }
  }
  const kp = Keypair.generate();
  storage.setItem(STORAGE_KEY, JSON.stringify(Array.from(kp.secretKey)));
  return kp;
}

export class BurnerWalletAdapter extends BaseSignerWalletAdapter<"Burner (local, unsafe)"> {
  name = BurnerWalletName;
  url = "https://github.com/anza-xyz/wallet-adapter";
  icon = ICON;
  readyState = typeof window === "undefined" ? WalletReadyState.Unsupported : WalletReadyState.Loadable;
  supportedTransactionVersions: ReadonlySet<TransactionVersion> = new Set(["legacy", 0] as TransactionVersion[]);
  private keypair: Keypair | null = null;

  get publicKey(): PublicKey | null {
    return this.keypair?.publicKey ?? null;
  }
  get connecting(): boolean {
    return false;
  }

  async connect(): Promise<void> {
    this.keypair = loadBurnerKeypair();
    this.emit("connect", this.keypair.publicKey);
  }

  async disconnect(): Promise<void> {
    this.keypair = null;
    this.emit("disconnect");
  }

  async signTransaction<T extends TransactionOrVersionedTransaction<this["supportedTransactionVersions"]>>(tx: T): Promise<T> {
    if (!this.keypair) throw new WalletNotConnectedError();
    if (isVersionedTransaction(tx)) tx.sign([this.keypair]);
    else tx.partialSign(this.keypair);
    return tx;
  }
}
