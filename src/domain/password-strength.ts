import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import * as common from "@zxcvbn-ts/language-common";
import * as english from "@zxcvbn-ts/language-en";

/** NIST 800-63B: a length floor, no composition rules, and a check against guessable passwords. */
export const PASSWORD_LENGTH = { min: 8, max: 256 } as const;
/** zxcvbn's score 3 ("safely unguessable") is the floor Stytch's zxcvbn policy uses too. */
const MIN_SCORE = 3;

export interface StrengthResult {
  validPassword: boolean;
  score: number;
  breachedPassword: boolean;
  feedback: { warning: string; suggestions: string[] };
}

export interface PasswordStrength {
  check(password: string, userInputs?: string[]): StrengthResult;
}

/** The whole password is on zxcvbn's list of passwords seen in breaches ("passwords" dictionary). */
function isKnownPassword(sequence: { pattern: string; i: number; j: number; dictionaryName?: string }[], length: number): boolean {
  return sequence.some((m) => m.pattern === "dictionary" && m.dictionaryName?.startsWith("passwords") === true && m.i === 0 && m.j === length - 1);
}

/** Built once by the composition root: loading the dictionaries takes a while. */
export function createPasswordStrength(): PasswordStrength {
  const zxcvbn = new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...english.dictionary },
    graphs: common.adjacencyGraphs,
    translations: english.translations,
  });
  return {
    check(password, userInputs = []) {
      const length = [...password].length;
      // zxcvbn is slow on long input and every character past ~100 adds nothing to its verdict.
      const result = zxcvbn.check(password.slice(0, 100), userInputs);
      const tooShort = length < PASSWORD_LENGTH.min;
      const tooLong = length > PASSWORD_LENGTH.max;
      const suggestions = [...result.feedback.suggestions];
      if (tooShort) suggestions.unshift(`Use at least ${PASSWORD_LENGTH.min} characters.`);
      if (tooLong) suggestions.unshift(`Use at most ${PASSWORD_LENGTH.max} characters.`);
      return {
        validPassword: !tooShort && !tooLong && result.score >= MIN_SCORE,
        score: result.score,
        breachedPassword: isKnownPassword(result.sequence, password.length),
        feedback: { warning: result.feedback.warning ?? "", suggestions },
      };
    },
  };
}
