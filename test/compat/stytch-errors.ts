import { StytchError } from "stytch";
import { expect } from "vitest";

/** The StytchError a call rejects with; fails the test when the call resolves or throws anything else. */
export async function stytchErrorOf(call: Promise<unknown>): Promise<StytchError> {
  try {
    await call;
  } catch (error) {
    expect(error).toBeInstanceOf(StytchError);
    return error as StytchError;
  }
  throw new Error("expected the call to reject with a StytchError, but it resolved");
}
