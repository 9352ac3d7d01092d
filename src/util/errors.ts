/**
 * Errors tspod reports to the user. The CLI prints `Error: <message>` on one line
 * and exits with `exitCode` (Podman's codes: 125 engine error, 126 cannot invoke,
 * 127 not found). Anything that is not a TspodError is a bug and is shown with its
 * stack only under `--log-level debug`.
 */
export class TspodError extends Error {
  readonly exitCode: number;
  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TspodError';
    this.exitCode = options.exitCode ?? ExitCode.EngineError;
  }
}

export const ExitCode = {
  Ok: 0,
  EngineError: 125,
  CannotInvoke: 126,
  NotFound: 127,
} as const;

/** Narrow an unknown thrown value to a Node system error with a code. */
export function isErrno(err: unknown, code?: string): err is NodeJS.ErrnoException {
  return (
    typeof err === 'object' &&
    err !== null &&
    'code' in err &&
    (code === undefined || (err as NodeJS.ErrnoException).code === code)
  );
}
