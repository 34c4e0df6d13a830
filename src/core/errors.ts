// Errors a user can cause (bad input, unreachable host, failing command) are UserErrors: the CLI
// prints them as one clear message, without a stack trace unless -vvv.

export interface ErrorLocation {
  file?: string;
  line?: number;
  column?: number;
  host?: string;
  task?: string;
}

export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    readonly where: ErrorLocation = {},
    /** what the user should do about it */
    readonly hint?: string,
  ) {
    super(message);
  }

  /** "file:line:column: host h: task t: message\n  hint" */
  format(): string {
    const { file, line, column, host, task } = this.where;
    const parts: string[] = [];
    if (file !== undefined) parts.push([file, line, column].filter((p) => p !== undefined).join(':'));
    if (host !== undefined) parts.push(`host ${host}`);
    if (task !== undefined) parts.push(`task "${task}"`);
    parts.push(this.message);
    return parts.join(': ') + (this.hint ? `\n  ${this.hint}` : '');
  }
}
