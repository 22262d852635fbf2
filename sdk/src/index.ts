//! @verity/sdk: the TypeScript client of the Verity program (IDL, typed `Program<Verity>`, PDAs from the IDL's
//! seed constants, protocol hashes, fee maths, served-models bitmaps, error names, crank builders, operator earnings
//! and batched claims, event decoding, sampling parameters, long-prompt uploads).
export * from "./idl";
export * from "./pda";
export * from "./hashes";
export * from "./protocol";
export * from "./provider";
export * from "./models";
export * from "./registry";
export * from "./errors";
export * from "./cranks";
export * from "./earnings";
export * from "./events";
export * from "./cluster";
export * from "./sampling";
export * from "./prompts";
