import { createReadStream } from "node:fs";
import type { ImportLineResult, Management } from "../management/management.js";

/**
 * `tessera users import`: streams a JSONL file (one passwords.migrate request per line) through the
 * management interface in batches, so it works with or without a running server. Lines are read in
 * chunks and an over-long line is dropped unread, so memory stays bounded whatever the file holds.
 */
export const IMPORT_BATCH_SIZE = 500;
const MAX_LINE_BYTES = 256 * 1024;
/** Keeps one call well under the management API's import body limit. */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;
const PROGRESS_EVERY_MS = 1000;

export interface ImportReport {
  lines: number;
  created: number;
  updated: number;
  already_present: number;
  rejected: { line: number; error_type: string; error_message: string }[];
  seconds: number;
}

type Line = { line: number; text: string } | { line: number; tooLong: true };

/** Lines of a file, numbered from 1; blank lines skipped, over-long ones reported without their content. */
async function* fileLines(path: string): AsyncGenerator<Line> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let tooLong = false;
  let number = 0;
  const finish = function* (): Generator<Line> {
    number++;
    const text = tooLong ? "" : Buffer.concat(pending).toString("utf8");
    if (tooLong) yield { line: number, tooLong: true };
    else if (text.trim() !== "") yield { line: number, text };
    pending = [];
    pendingBytes = 0;
    tooLong = false;
  };
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      if (!tooLong) pending.push(chunk.subarray(start, nl));
      yield* finish();
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    pendingBytes += rest.length;
    if (pendingBytes > MAX_LINE_BYTES) tooLong = true;
    if (!tooLong && rest.length) pending.push(rest);
  }
  if (pendingBytes > 0 || pending.length) yield* finish();
}

export async function importUsersFile(management: Management, projectId: string, path: string, progress: (report: ImportReport) => void): Promise<ImportReport> {
  const started = performance.now();
  const report: ImportReport = { lines: 0, created: 0, updated: 0, already_present: 0, rejected: [], seconds: 0 };
  const reject = (line: number, error_type: string, error_message: string) => report.rejected.push({ line, error_type, error_message });
  let batch: { line: number; user: unknown }[] = [];
  let batchBytes = 0;
  let lastProgress = performance.now();
  // Across batches too: a repeated email is the file's mistake, whichever batch its lines fall in.
  const seen = new Map<string, number>();
  const tally = (result: ImportLineResult) => {
    if (result.status === "rejected") reject(result.line, result.error_type, result.error_message);
    else report[result.status]++;
  };
  const flush = async () => {
    if (batch.length === 0) return;
    const { results } = await management.importUsers(projectId, batch);
    results.forEach(tally);
    batch = [];
    batchBytes = 0;
    report.seconds = (performance.now() - started) / 1000;
    if (performance.now() - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = performance.now();
      progress(report);
    }
  };
  for await (const entry of fileLines(path)) {
    report.lines++;
    if ("tooLong" in entry) {
      reject(entry.line, "bad_request", `The line is longer than ${MAX_LINE_BYTES} bytes.`);
      continue;
    }
    let user: unknown;
    try {
      user = JSON.parse(entry.text);
    } catch {
      reject(entry.line, "bad_request", "The line is not valid JSON.");
      continue;
    }
    const email = typeof (user as { email?: unknown } | null)?.email === "string" ? ((user as { email: string }).email).trim().toLowerCase() : null;
    const earlier = email === null ? undefined : seen.get(email);
    if (earlier !== undefined) {
      reject(entry.line, "duplicate_email", `The email is also on line ${earlier}.`);
      continue;
    }
    if (email !== null) seen.set(email, entry.line);
    if (batchBytes + entry.text.length > MAX_BATCH_BYTES) await flush();
    batch.push({ line: entry.line, user });
    batchBytes += entry.text.length;
    if (batch.length >= IMPORT_BATCH_SIZE) await flush();
  }
  await flush();
  report.rejected.sort((a, b) => a.line - b.line);
  report.seconds = (performance.now() - started) / 1000;
  return report;
}
