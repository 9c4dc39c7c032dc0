// Checks for config that enters from outside (a file, the URL, a form, the command line), with
// the valibot schemas of the fields' rules (fields.ts). Inside, config is trusted.
import * as v from 'valibot';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid config: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** One readable line per issue: where it is ("lr", "weights.0") and what was wrong, an unknown key by name. */
export function issueLines(issues: readonly v.BaseIssue<unknown>[]): string[] {
  return issues.map((issue) => {
    const path = v.getDotPath(issue);
    if (issue.type === 'strict_object' && issue.expected === 'never') return `unknown key "${path}" (${issue.message})`;
    const got = issue.input === undefined ? 'nothing' : JSON.stringify(issue.input);
    return `${path === null ? '' : `${path}: `}${issue.message}, got ${got}`;
  });
}

/** The output of `schema` for `raw`, or a ConfigError listing every issue. */
export function checkConfig<T>(schema: v.GenericSchema<unknown, T>, raw: unknown): T {
  const result = v.safeParse(schema, raw, { abortEarly: false });
  if (!result.success) throw new ConfigError(issueLines(result.issues));
  return result.output;
}
