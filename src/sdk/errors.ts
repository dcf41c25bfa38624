/** Stable codes of `tessera/verify` and `tessera/hono`; they never depend on server code. */
export type VerifyErrorCode =
  | "jwt_invalid"
  | "jwt_expired"
  | "jwt_too_old"
  | "session_revoked"
  | "session_not_found"
  | "server_unavailable"
  | "unauthorized_credentials"
  /** An authorizationCheck that the session's roles and the project's RBAC policy do not grant. */
  | "invalid_permissions";

export class TesseraVerifyError extends Error {
  constructor(
    readonly code: VerifyErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "TesseraVerifyError";
  }
}
