import { TesseraError, type ErrorType } from "../errors.js";
import { ERROR_URL } from "./errors.js";

/**
 * Example values for /openapi.json, in the shapes the server really answers (captured from a test
 * server). One user, one session, one token, so the examples of different routes tell one story.
 * Route definitions type their examples against their schemas, so an example cannot drift from its
 * shape.
 */

export const PROJECT_ID = "project-test-5bb5bf8f-48e7-4e66-a33a-c93e744f746f";
export const PUBLIC_TOKEN = "public-token-test-0e6a4c1b-52f3-4d8e-9a77-3c1d2b9f8e60";
export const USER_ID = "user-test-63d0aaff-29c1-4e66-b790-2775aecfa674";
export const EMAIL_ID = "email-test-a56acb14-2720-4206-8aa9-60f0549c16a8";
export const SESSION_ID = "session-test-c74dd613-c6c6-4ab2-a2e0-5713911f153e";
export const EMAIL = "ada@example.com";
export const PASSWORD = "correct-horse-battery-staple";
export const SESSION_TOKEN = "bLkmbqN0ZG08pHki8FozK6E9jiGGHjXaY4zr1gRe-8I";
export const SESSION_JWT =
  "eyJhbGciOiJSUzI1NiIsImtpZCI6IlhtWVhOWndOWUdHSGVXVExtZFRQcjJDcWIxWWZsZGhYTHRBLWRfUzdoQlkiLCJ0eXAiOiJKV1QifQ.eyJodHRwczovL3N0eXRjaC5jb20vc2Vzc2lvbiI6eyJpZCI6InNlc3Npb24tdGVzdC1jNzRkZDYxMy1jNmM2LTRhYjItYTJlMC01NzEzOTExZjE1M2UiLCJzdGFydGVkX2F0IjoiMjAyNi0wMS0xNVQxMjowMDowMC4wMDBaIiwibGFzdF9hY2Nlc3NlZF9hdCI6IjIwMjYtMDEtMTVUMTI6MDA6MDAuMDAwWiIsImV4cGlyZXNfYXQiOiIyMDI2LTAxLTE1VDEzOjAwOjAwLjAwMFoiLCJhdHRyaWJ1dGVzIjp7fSwiYXV0aGVudGljYXRpb25fZmFjdG9ycyI6W3sidHlwZSI6InBhc3N3b3JkIiwiZGVsaXZlcnlfbWV0aG9kIjoia25vd2xlZGdlIn1dLCJyb2xlcyI6W119LCJpc3MiOiJzdHl0Y2guY29tL3Byb2plY3QtdGVzdC01YmI1YmY4Zi00OGU3LTRlNjYtYTMzYS1jOTNlNzQ0Zjc0NmYiLCJhdWQiOlsicHJvamVjdC10ZXN0LTViYjViZjhmLTQ4ZTctNGU2Ni1hMzNhLWM5M2U3NDRmNzQ2ZiJdLCJzdWIiOiJ1c2VyLXRlc3QtNjNkMGFhZmYtMjljMS00ZTY2LWI3OTAtMjc3NWFlY2ZhNjc0IiwiaWF0IjoxNzY4NDc4NDAwLCJuYmYiOjE3Njg0Nzg0MDAsImV4cCI6MTc2ODQ3ODcwMCwianRpIjoiNzViMzdlZDItYTIzZi00ODEyLThlZDgtZDNjZjM1Yzg0ZDUyIn0.j17cX50WMomi5SSxg9PKIwHP0dGYR7X9LjsubMPnoBPDU1LEjpwMEYk9txp0KlWXmZ2mEx9T_RPGUJcPa8uQ31qWbehgKt9kW8a6n1UJcTvMRw2kOUYHjxZN-kS3Di8EWjarqPfbUKOG7pKJO8WnCZG2e4frs3DaBL";
const AT = "2026-01-15T12:00:00Z";

export const envelope = { request_id: "request-id-1f2935e1-7533-4226-884b-7467830d246b", status_code: 200 };
export const name = { first_name: "Ada", middle_name: "", last_name: "Lovelace" };
export const attributes = { ip_address: "203.0.113.7", user_agent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36" };

export const user = {
  user_id: USER_ID,
  emails: [{ email_id: EMAIL_ID, email: EMAIL, verified: false }],
  status: "active",
  phone_numbers: [],
  webauthn_registrations: [],
  providers: [],
  totps: [],
  crypto_wallets: [],
  biometric_registrations: [],
  is_locked: false,
  roles: ["editor"],
  name,
  created_at: AT,
  password: { password_id: "password-test-c151e64d-6879-4476-96ae-d79e6114e8d2", requires_reset: false },
  trusted_metadata: { plan: "pro" },
  untrusted_metadata: { theme: "dark" },
  external_id: "crm-4711",
};

export const session = {
  session_id: SESSION_ID,
  user_id: USER_ID,
  authentication_factors: [
    {
      type: "password",
      delivery_method: "knowledge",
      last_authenticated_at: "2026-01-15T12:00:00.000Z",
      created_at: "2026-01-15T12:00:00.000Z",
      updated_at: "2026-01-15T12:00:00.000Z",
      email_factor: { email_id: EMAIL_ID, email_address: EMAIL },
    },
  ],
  roles: ["stytch_user", "editor"],
  started_at: AT,
  last_accessed_at: AT,
  expires_at: "2026-01-15T13:00:00Z",
  attributes,
  custom_claims: { tenant: "acme" },
};

/** The session half of login and exchange responses. */
export const issued = { session, session_token: SESSION_TOKEN, session_jwt: SESSION_JWT };

export const login = { ...envelope, user_id: USER_ID, user, ...issued };

/** An error body as the error handler writes it; status and default message from the one error table. */
export function errorExample(type: ErrorType, options: { message?: string; details?: Record<string, unknown> } = {}) {
  const error = new TesseraError(type, options);
  return {
    status_code: error.status,
    request_id: "request-id-fc8f38e4-2dfb-4e6d-b7fc-c45b813d4d96",
    error_type: type,
    error_message: error.message,
    error_url: `${ERROR_URL}/${error.status}#${type}`,
    ...(options.details ? { error_details: options.details } : {}),
  };
}

export const rbacPolicy = {
  roles: [
    { role_id: "stytch_user", description: "Granted to every user (implicit).", permissions: [{ resource_id: "documents", actions: ["read"] }] },
    { role_id: "editor", description: "Writes documents.", permissions: [{ resource_id: "documents", actions: ["*"] }] },
  ],
  resources: [{ resource_id: "documents", description: "Shared documents", actions: ["read", "write", "delete"] }],
  scopes: [],
};
