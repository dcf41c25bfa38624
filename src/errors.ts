/**
 * Errors are values with stable codes that match the Stytch API's `error_type`.
 * Status and default message come from this one table; `app.onError` is the only translator to HTTP.
 */
const errorTable = {
  bad_request: [400, "The request was malformed."],
  invalid_content_type: [400, "Request bodies must be JSON, sent with Content-Type: application/json."],
  invalid_email: [400, "The email address is invalid."],
  invalid_session_duration: [400, "session_duration_minutes must be an integer from 5 to 527040."],
  invalid_custom_claims: [400, "The custom claims are invalid."],
  invalid_metadata: [400, "The metadata is invalid."],
  invalid_session_token: [400, "The session token is malformed."],
  invalid_session_jwt: [400, "The session JWT is malformed."],
  invalid_user_id: [400, "The user_id is malformed."],
  weak_password: [400, "The password is too weak."],
  invalid_hash: [400, "The password hash does not fit its hash_type and config."],
  invalid_hash_type: [400, "The hash_type is not supported."],
  invalid_setting: [400, "A project setting is invalid."],
  invalid_rbac_policy: [400, "The RBAC policy is invalid."],
  session_too_old_to_reset_password: [400, "Reset the password within 5 minutes of authenticating the session."],
  unauthorized_credentials: [401, "Unauthorized credentials."],
  invalid_public_token: [401, "The public token is not valid."],
  no_session: [401, "There is no live session; log in again."],
  consumer_session_authorization_error: [403, "The User is not authorized to perform the requested action on that resource."],
  origin_not_allowed: [403, "This origin is not allowed for the project."],
  csrf_header_missing: [403, "State-changing browser requests need the X-Tessera-Request header."],
  sign_up_disabled: [403, "Sign-up is disabled for this project."],
  session_not_found: [404, "Session could not be found."],
  user_not_found: [404, "User could not be found."],
  project_not_found: [404, "Project could not be found."],
  secret_not_found: [404, "No live secret with that id in this project."],
  not_found: [404, "The requested resource was not found."],
  trusted_token_profile_not_found: [404, "No trusted token profile with that profile_id in this project."],
  email_not_found: [404, "No email with that email_id in this project."],
  password_not_found: [404, "No password with that password_id in this project."],
  duplicate_email: [409, "A user with this email already exists for this project."],
  session_user_mismatch: [400, "The session belongs to another user."],
  invalid_trusted_token_profile: [400, "The trusted token profile is invalid."],
  invalid_token: [401, "The token could not be verified."],
  jwt_invalid_audience: [401, "The token's audience is not the profile's."],
  jwt_invalid_issuer: [401, "The token's issuer is not the profile's."],
  jwt_invalid_claims: [401, "The token's claims are invalid (expired, not yet valid, or missing exp, nbf, iat)."],
  invalid_exchange_primary_factor_fields: [400, "Provide exactly one of email_address or phone_number."],
  too_many_session_arguments: [400, "Please include at most one of session_token or session_jwt in an authenticate request, not multiple."],
  payload_too_large: [413, "The request body is too large."],
  too_many_requests: [429, "Too many requests; retry later."],
  internal_server_error: [500, "Something went wrong on our side."],
  service_unavailable: [503, "A backing service is unavailable; retry later."],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorType = keyof typeof errorTable;

export class TesseraError extends Error {
  readonly status: number;
  constructor(
    readonly type: ErrorType,
    options: { message?: string; details?: Record<string, unknown>; cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(options.message ?? errorTable[type][1], { cause: options.cause });
    this.name = "TesseraError";
    this.status = errorTable[type][0];
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfterSeconds: number | undefined;
}
