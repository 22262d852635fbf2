//! Node globals that @solana/web3.js and @coral-xyz/anchor expect in the browser; imported first by main.tsx.
import { Buffer } from "buffer";

(globalThis as any).Buffer ??= Buffer;
(globalThis as any).global ??= globalThis;
