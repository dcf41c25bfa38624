/** Every command prints a human line, or with --json one JSON document on stdout. */
export function output(json: boolean, data: unknown, human: string): void {
  process.stdout.write(json ? `${JSON.stringify(data)}\n` : `${human}\n`);
}

/** A mistake in how the command was called (a bad flag value): exit 1 with the message. */
export class UsageError extends Error {}
