//! Long-prompt upload plan: chunk ranges (fresh and resumed) and the Prompt account size from the IDL.
import { describe, expect, it } from "vitest";
import { PROMPT_CHUNK_BYTES, promptChunks, promptSpace } from "./prompts";
import { MAX_INLINE_PROMPT_BYTES } from "./protocol";

describe("promptChunks", () => {
  it("covers the prompt in order, each chunk at most PROMPT_CHUNK_BYTES", () => {
    const len = 2 * PROMPT_CHUNK_BYTES + 1;
    expect(promptChunks(len)).toEqual([[0, PROMPT_CHUNK_BYTES], [PROMPT_CHUNK_BYTES, 2 * PROMPT_CHUNK_BYTES], [2 * PROMPT_CHUNK_BYTES, len]]);
    expect(promptChunks(MAX_INLINE_PROMPT_BYTES + 1)).toEqual([[0, MAX_INLINE_PROMPT_BYTES + 1]]);
  });
  it("resumes after what is written, and nothing is left once all is", () => {
    expect(promptChunks(2000, 900)).toEqual([[900, 1800], [1800, 2000]]);
    expect(promptChunks(2000, 1000, 600)).toEqual([[1000, 1600], [1600, 2000]]);
    expect(promptChunks(2000, 2000)).toEqual([]);
  });
});

describe("promptSpace", () => {
  it("is the discriminator, the fixed fields (owner, nonce, len, hash, written, request option, bump, data prefix) and the bytes", () => {
    expect(promptSpace(0)).toBe(8 + 32 + 8 + 4 + 32 + 4 + 33 + 1 + 4);
    expect(promptSpace(9216) - promptSpace(0)).toBe(9216);
  });
});
