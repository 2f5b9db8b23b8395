import type { z } from 'zod';
import { AppError, formatIssues } from '../core/errors.ts';

/** Where a payload came from, for error messages. */
export interface PayloadOrigin {
  readonly venue: string;
  readonly endpoint: string;
}

/**
 * Parses a raw venue payload with its zod schema. A failure becomes a `schema` error that names the
 * venue, the endpoint and the zod issue paths (e.g. `3.4: Expected string`, meaning row 3, field 4).
 */
export function parsePayload<S extends z.ZodType>(schema: S, data: unknown, origin: PayloadOrigin): z.output<S> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  throw new AppError('schema', `${origin.venue} ${origin.endpoint}: the payload does not match the expected schema: ${formatIssues(r.error.issues)}.`, {
    context: { venue: origin.venue, endpoint: origin.endpoint, issues: r.error.issues.slice(0, 10).map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) },
  });
}
