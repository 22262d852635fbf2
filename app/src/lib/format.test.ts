//! Display helpers: SOL and token formatting, token parsing with clear errors.
import { describe, expect, it } from "vitest";
import BN from "bn.js";
import { parseTokens, pct, sol, tokens } from "./format";

describe("format", () => {
  it("formats lamports and tokens", () => {
    expect(sol(1_500_000_000)).toBe("1.5 SOL");
    expect(sol(new BN(48_000), 9)).toBe("0.000048 SOL");
    expect(sol(0)).toBe("0 SOL");
    expect(tokens(1_234_500n, 6)).toBe("1.2345 VRT");
    expect(tokens(12n, 0)).toBe("12 VRT");
    expect(pct(1, 4)).toBe("25.0%");
    expect(pct(1, 0)).toBe("—");
  });
  it("parses token amounts and rejects bad input", () => {
    expect(parseTokens("12.5", 6)).toBe(12_500_000n);
    expect(parseTokens("3", 0)).toBe(3n);
    expect(() => parseTokens("1.2345678", 6)).toThrow(/decimals/);
    expect(() => parseTokens("-1", 6)).toThrow(/not a number/);
    expect(() => parseTokens("abc", 6)).toThrow(/not a number/);
  });
});
