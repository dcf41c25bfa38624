/** What the storage ports throw that the domain must tell apart (implementations in src/store). */

export class DuplicateEmailError extends Error {
  constructor() {
    super("duplicate email");
    this.name = "DuplicateEmailError";
  }
}

/** The database cannot answer now (down, stalled, locked, overloaded): the request fails closed with a 503. */
export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DatabaseUnavailableError";
  }
}
