import { TesseraVerifyError } from "../../src/sdk/verify.js";

/** "accepted", or the TesseraVerifyError code a verification was refused with (anything else rethrows). */
export async function verifyOutcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "accepted";
  } catch (error) {
    if (error instanceof TesseraVerifyError) return error.code;
    throw error;
  }
}
